// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Eight threads pick and report while another thread keeps replacing the config (endpoint
// sets, policies, whole services). Run under ASan+UBSan by scripts/test.sh: any use of a
// freed snapshot, registry or endpoint is a report there.

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"

namespace ufc {
namespace {

using testing::make_service;

constexpr const char* kPolicies[] = {"round_robin",     "random",          "weighted_round_robin",
                                     "weighted_random", "consistent_hash", "least_loaded"};

uint64_t json_count(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const size_t at = json.find(needle);
  EXPECT_NE(at, std::string::npos) << key << " in " << json;
  uint64_t v = 0;
  const size_t end = json.find_first_of(",}", at);
  EXPECT_TRUE(absl::SimpleAtoi(json.substr(at + needle.size(), end - at - needle.size()), &v));
  return v;
}

TEST(StressTest, EightThreadsPickAndReportWhileConfigSwaps) {
  ClientOptions options;
  options.initial_config.emplace();
  *options.initial_config->add_services() = make_service("echo", 8, "round_robin", 1);
  auto created = Client::create(options);
  ASSERT_TRUE(created.ok());
  Client& client = **created;

  std::set<std::string> allowed;
  for (int i = 1; i <= 16; ++i) allowed.insert("10.0.0." + std::to_string(i) + ":80");

  constexpr int kThreads = 8;
  constexpr int kPicksPerThread = 40000;
  std::atomic<bool> stop{false};
  std::atomic<long> reported{0}, bad_address{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "key-" + std::to_string(t);
      for (int i = 0; i < kPicksPerThread; ++i) {
        absl::StatusOr<Pick> pick = client.pick({.service = "echo", .hash_key = key});
        if (!pick.ok()) {
          ++failed;
          continue;
        }
        if (!allowed.count(std::string(pick->address()))) ++bad_address;
        // Some picks are held across a swap before they are reported.
        if (i % 64 == 0) std::this_thread::yield();
        client.report(*pick, i % 10 == 0 ? Outcome::http(503, absl::Microseconds(i % 5000))
                                         : Outcome::ok(absl::Microseconds(i % 5000)));
        ++reported;
        // A second service comes and goes; picking it may find it missing.
        absl::StatusOr<Pick> side = client.pick({.service = "side"});
        if (side.ok()) client.report(*side, Outcome::ok(absl::Microseconds(10)));
      }
    });
  }
  std::thread swapper([&] {
    uint64_t version = 2;
    for (int round = 0; !stop.load(); ++round) {
      v1::ServiceConfig s = make_service("echo", 4 + round % 13, kPolicies[round % 6], version++);
      if (round % 3 == 0) s.mutable_endpoints(0)->set_weight(5);
      ASSERT_TRUE(client.apply(s).ok());
      if (round % 2 == 0) {
        ASSERT_TRUE(client.apply(make_service("side", 2, "random", 0)).ok());
      } else {
        (void)client.remove("side");
      }
      (void)client.query("services");
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  swapper.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(bad_address.load(), 0);
  ASSERT_EQ(reported.load(), kThreads * kPicksPerThread);
  // Every report is in the service totals, including reports to endpoints that had left.
  const std::string info = client.query("request_info^echo");
  EXPECT_EQ(json_count(info, "request_cnt"), static_cast<uint64_t>(reported.load()));
  EXPECT_EQ(json_count(info, "5xx_cnt"), static_cast<uint64_t>(reported.load() / 10));
  EXPECT_EQ(json_count(info, "inflight"), 0u);
}

}  // namespace
}  // namespace ufc
