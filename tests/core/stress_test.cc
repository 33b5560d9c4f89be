// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Eight threads pick and report while another thread keeps replacing the config (endpoint
// sets, policies, whole services). Run under ASan+UBSan by scripts/test.sh: any use of a
// freed snapshot, registry or endpoint is a report there.

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/endpoint/endpoint.h"
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

// Picks cross threads (taken on one CPU, reported or dropped on another, so the report
// lands in a shard another core writes) while the service is removed and re-added with
// other endpoints: endpoints lose their last snapshot while Picks still hold them. Under
// ASan any early free is a report; at the end every endpoint must have been freed.
TEST(StressTest, PicksReportedOnOtherThreadsOutliveTheirEndpointsConfig) {
  const size_t parked_before = internal::Endpoint::graveyard_size();
  {
    ClientOptions options;
    options.initial_config.emplace();
    *options.initial_config->add_services() = make_service("echo", 6, "least_loaded", 0);
    auto created = Client::create(options);
    ASSERT_TRUE(created.ok());
    Client& client = **created;

    absl::Mutex mu;
    std::deque<Pick> handoff;  // guarded by mu
    std::atomic<bool> producing{true}, stop{false};
    std::atomic<long> reported{0}, dropped{0}, addresses_ok{0};
    size_t most_parked = 0;  // swapper only
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 30000; ++i) {
          absl::StatusOr<Pick> pick = client.pick({.service = "echo"});
          if (!pick.ok()) continue;  // the service is briefly gone
          absl::MutexLock lock(&mu);
          handoff.push_back(*std::move(pick));
        }
      });
    }
    std::vector<std::thread> consumers;
    for (int t = 0; t < 2; ++t) {
      consumers.emplace_back([&, t] {
        for (long n = 0;; ++n) {
          std::optional<Pick> pick;
          {
            absl::MutexLock lock(&mu);
            if (!handoff.empty()) {
              pick.emplace(std::move(handoff.front()));
              handoff.pop_front();
            }
          }
          if (!pick.has_value()) {
            if (!producing.load()) return;
            std::this_thread::yield();
            continue;
          }
          // Reading the address touches the endpoint, however long ago it left the config.
          if (pick->address().size() >= 11) ++addresses_ok;
          if ((n + t) % 7 == 0) {
            ++dropped;  // destroyed unreported
          } else {
            client.report(*pick, Outcome::ok(absl::Microseconds(n % 3000)));
            ++reported;
          }
        }
      });
    }
    std::thread swapper([&] {
      // The swapper holds a Pick of its own across each removal, so that at least one
      // endpoint outlives its service whatever the threads' timing (the consumers may keep
      // the hand-off queue empty on a loaded machine).
      std::optional<Pick> held;
      // At least two removals whatever the threads' timing: the producers may finish first.
      for (int round = 0; !stop.load() || round < 8; ++round) {
        if (round % 4 == 3) {
          most_parked = std::max(most_parked, internal::Endpoint::graveyard_size());
          absl::StatusOr<Pick> p = client.pick({.service = "echo"});
          held.reset();
          if (p.ok()) held.emplace(*std::move(p));
          (void)client.remove("echo");
        } else {
          v1::ServiceConfig s = make_service("echo", 2 + round % 7, kPolicies[round % 6], 0);
          // Other addresses each round, so endpoints really go away.
          for (int i = 0; i < s.endpoints_size(); ++i) {
            s.mutable_endpoints(i)->set_address("10.0." + std::to_string(round % 5) + "." +
                                                std::to_string(i + 1) + ":80");
          }
          EXPECT_TRUE(client.apply(s).ok());
        }
        most_parked = std::max(most_parked, internal::Endpoint::graveyard_size());
        std::this_thread::yield();
      }
      most_parked = std::max(most_parked, internal::Endpoint::graveyard_size());
    });
    for (auto& t : threads) t.join();
    producing = false;
    for (auto& t : consumers) t.join();
    stop = true;
    swapper.join();
    EXPECT_GT(reported.load(), 0);
    EXPECT_GT(dropped.load(), 0);
    EXPECT_EQ(addresses_ok.load(), reported.load() + dropped.load());
    // The case under test happened: endpoints outlived their last snapshot.
    EXPECT_GT(most_parked, parked_before);
  }
  // The client is gone and so is every Pick: nothing may stay parked.
  internal::Endpoint::sweep_graveyard();
  EXPECT_EQ(internal::Endpoint::graveyard_size(), parked_before);
}

}  // namespace
}  // namespace ufc

namespace ufc {
namespace {

// A probe answer that unbans (and so republishes) while the client is being destroyed:
// the ban manager is stopped while the client can still serve the answer's republish.
// Run under ASan by scripts/test.sh.
TEST(StressTest, DestroyingTheClientWhileAProbeAnswersIsSafe) {
  for (int round = 0; round < 200; ++round) {
    v1::ClientConfig config;
    *config.add_services() = testing::make_service("svc", 4, "round_robin", 1);
    // Every backend refuses: judged against each other that is an incident, and nobody
    // would be banned (and probed). Judged alone, two are.
    config.mutable_services(0)->mutable_ban()->mutable_by_request()->set_compare_peers(false);
    auto c = std::make_unique<testing::SimClient>(config);
    c->prober->set_deferred(true);
    for (int i = 0; i < 40; ++i) {
      c->pick_and_report(
          "svc", Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1)));
    }
    c->executor->advance(absl::Seconds(11));  // banned (two: the max ratio), then probing
    ASSERT_EQ(c->prober->pending(), 2u);
    std::shared_ptr<testing::FakeProber> prober = c->prober;
    std::atomic<bool> go{false};
    std::thread answer([&] {
      while (!go.load()) {
      }
      prober->answer_pending(true);
    });
    go = true;
    if (round % 2 == 0) std::this_thread::yield();
    c->client.reset();
    answer.join();
  }
}

}  // namespace
}  // namespace ufc
