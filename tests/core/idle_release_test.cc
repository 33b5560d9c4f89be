// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Memory follows use (issue 19): a service's endpoints hold per-CPU records only between
// its first pick and ClientOptions::idle_release without picks; counts and bans carry
// over when they go and come back, and no report is lost when picks race the release.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "src/endpoint/endpoint_stats.h"
#include "tests/testing/sim_client.h"

namespace ufc {
namespace {

using internal::StatsArena;
using testing::make_service;
using testing::SimClient;

google::protobuf::Struct parse(const std::string& json) {
  google::protobuf::Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  return out;
}

// Every "*_cnt" of every endpoint of `service`, by address.
std::map<std::string, double> endpoint_counts(Client& client, const std::string& service) {
  std::map<std::string, double> out;
  const google::protobuf::Struct s = parse(client.query("endpoints^" + service));
  for (const auto& e :
       s.fields().at("endpoints").struct_value().fields().at("list").list_value().values()) {
    const auto& f = e.struct_value().fields();
    const std::string address = f.at("address").string_value();
    for (const auto& [key, value] : f) {
      if (key.size() > 4 && key.compare(key.size() - 4, 4, "_cnt") == 0) {
        out[address + " " + key] = value.number_value();
      }
    }
  }
  return out;
}

double info(Client& client, const std::string& service, const std::string& key) {
  const google::protobuf::Struct s = parse(client.query("request_info^" + service));
  return s.fields().at("request_info").struct_value().fields().at(key).number_value();
}

TEST(IdleReleaseTest, AnIdleServiceGivesItsRecordsBackAndKeepsItsCountsAndBans) {
  v1::ClientConfig config;
  v1::ServiceConfig echo = make_service("echo", 10, "round_robin");
  echo.mutable_ban()->mutable_base_time()->set_seconds(3600);
  echo.mutable_ban()->mutable_max_time()->set_seconds(7200);
  echo.mutable_ban()->mutable_by_business()->set_enabled(false);
  *config.add_services() = echo;
  StatsArena& arena = StatsArena::global();
  const size_t before = arena.slots_in_use();
  SimClient c(config, 1, "", [](ClientOptions& o) { o.idle_release = absl::Seconds(30); });
  EXPECT_EQ(arena.slots_in_use(), before) << "known but never picked: no per-CPU records";

  const std::string dead = "10.0.0.3:80";
  auto round = [&](int n) {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
      ASSERT_TRUE(pick.ok());
      c.client->report(
          *pick, pick->address() == dead
                     ? Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1))
                     : Outcome::ok(absl::Milliseconds(2)));
    }
  };
  round(100);
  EXPECT_EQ(arena.slots_in_use(), before + 10) << "the first pick gave all ten their records";
  c.executor->advance(absl::Seconds(1));
  ASSERT_EQ(info(*c.client, "echo", "banned_cnt"), 1) << "the dead backend is banned";
  const std::map<std::string, double> counts = endpoint_counts(*c.client, "echo");
  const double requests = info(*c.client, "echo", "request_cnt");
  EXPECT_GT(counts.at(dead + " connect_refused_cnt"), 0);

  // Idle for longer than idle_release: housekeeping folds and frees the records.
  for (int s = 0; s < 40 && arena.slots_in_use() != before; ++s) {
    c.executor->advance(absl::Seconds(1));
  }
  EXPECT_EQ(arena.slots_in_use(), before) << "given back after 30 s without a pick";
  EXPECT_EQ(endpoint_counts(*c.client, "echo"), counts) << "every count survives the fold";
  EXPECT_EQ(info(*c.client, "echo", "request_cnt"), requests);
  EXPECT_EQ(info(*c.client, "echo", "banned_cnt"), 1) << "the ban is the ban manager's";

  // Back in use: the records come back, the counts go on, the ban holds.
  round(90);
  EXPECT_EQ(arena.slots_in_use(), before + 10);
  EXPECT_EQ(info(*c.client, "echo", "request_cnt"), requests + 90);
  EXPECT_EQ(endpoint_counts(*c.client, "echo").at(dead + " request_cnt"),
            counts.at(dead + " request_cnt"))
      << "still banned: not one pick went to it";
  EXPECT_EQ(info(*c.client, "echo", "banned_cnt"), 1);

  // An update of an idle service builds its new endpoints without records too.
  for (int s = 0; s < 40 && arena.slots_in_use() != before; ++s) {
    c.executor->advance(absl::Seconds(1));
  }
  ASSERT_EQ(arena.slots_in_use(), before);
  v1::ServiceConfig next = make_service("echo", 12, "round_robin", 2);
  *next.mutable_ban() = echo.ban();
  ASSERT_TRUE(c.client->apply(next).ok());
  EXPECT_EQ(arena.slots_in_use(), before);
  round(1);
  EXPECT_EQ(arena.slots_in_use(), before + 12);
  // While in use, an update's new endpoints get records before any pick sees them.
  next = make_service("echo", 14, "round_robin", 3);
  *next.mutable_ban() = echo.ban();
  ASSERT_TRUE(c.client->apply(next).ok());
  EXPECT_EQ(arena.slots_in_use(), before + 14);
}

// A ban runs its course while its service is idle: the ban manager does not skip a
// service with a banned endpoint, so the ban expires, the probe goes out and the endpoint
// comes back, all without a pick (and without records).
TEST(IdleReleaseTest, ABanExpiresAndIsProbedWhileItsServiceIsIdle) {
  v1::ClientConfig config;
  v1::ServiceConfig echo = make_service("echo", 4, "round_robin");
  echo.mutable_ban()->mutable_base_time()->set_seconds(20);
  *config.add_services() = echo;
  StatsArena& arena = StatsArena::global();
  const size_t before = arena.slots_in_use();
  SimClient c(config, 1, "", [](ClientOptions& o) { o.idle_release = absl::Seconds(2); });
  const std::string dead = "10.0.0.2:80";
  for (int i = 0; i < 40; ++i) {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok());
    c.client->report(
        *pick, pick->address() == dead
                   ? Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1))
                   : Outcome::ok(absl::Milliseconds(2)));
  }
  c.executor->advance(absl::Milliseconds(500));
  ASSERT_EQ(info(*c.client, "echo", "banned_cnt"), 1);
  for (int s = 0; s < 10 && arena.slots_in_use() != before; ++s) {
    c.executor->advance(absl::Seconds(1));
  }
  ASSERT_EQ(arena.slots_in_use(), before) << "idle: the records went back";
  EXPECT_TRUE(c.prober->probed().empty());
  c.executor->advance(absl::Seconds(25));  // past the 20 s ban; the probe finds it open
  EXPECT_EQ(c.prober->probed(), std::vector<std::string>{dead});
  EXPECT_EQ(info(*c.client, "echo", "banned_cnt"), 0) << "unbanned while idle";
  EXPECT_EQ(arena.slots_in_use(), before) << "and still idle";
  const double dead_before = endpoint_counts(*c.client, "echo").at(dead + " request_cnt");
  for (int i = 0; i < 8; ++i) c.pick_and_report("echo", Outcome::ok(absl::Milliseconds(2)));
  EXPECT_EQ(endpoint_counts(*c.client, "echo").at(dead + " request_cnt"), dead_before + 2)
      << "back in rotation";
}

// A Pick held while its service goes idle keeps its endpoint's records (the report may
// still come); once it is let go, the next idle check folds those too.
TEST(IdleReleaseTest, AHeldPickKeepsItsRecordsUntilItIsLetGo) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 5, "round_robin");
  StatsArena& arena = StatsArena::global();
  const size_t before = arena.slots_in_use();
  SimClient c(config, 1, "", [](ClientOptions& o) { o.idle_release = absl::Seconds(2); });
  std::optional<Pick> held;
  {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok());
    held.emplace(*std::move(pick));
  }
  ASSERT_EQ(arena.slots_in_use(), before + 5);
  c.executor->advance(absl::Seconds(10));
  EXPECT_EQ(arena.slots_in_use(), before + 1) << "all but the held one folded";
  c.client->report(*held, Outcome::ok(absl::Seconds(10)));
  held.reset();
  c.executor->advance(absl::Seconds(3));
  EXPECT_EQ(arena.slots_in_use(), before) << "let go: folded at the next check";
  EXPECT_EQ(info(*c.client, "echo", "request_cnt"), 1) << "its report counted";
  EXPECT_EQ(info(*c.client, "echo", "inflight"), 0);
}

// Bursts of picks from several threads, with pauses long enough for housekeeping to give
// the records back between them (idle_release 1 ms, real clock): every report must land in
// the counts, whether its pick raced a release or not, and a Pick held across a pause keeps
// its endpoint's records. Runs under ASan in CI (a use after free would show).
TEST(IdleReleaseTest, PicksRacingReleasesLoseNoReport) {
  v1::ClientConfig config;
  *config.add_services() = make_service("ll", 20, "least_loaded");
  *config.add_services() = make_service("rr", 20, "round_robin");
  ClientOptions options;
  options.initial_config = config;
  options.idle_release = absl::Milliseconds(1);
  StatsArena& arena = StatsArena::global();
  const size_t before = arena.slots_in_use();
  std::unique_ptr<Client> client = *Client::create(options);

  constexpr int kThreads = 3;
  constexpr int kPhases = 6;
  std::atomic<int> phase{0};  // odd: burst; even: pause
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reported[2] = {};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string names[2] = {"ll", "rr"};
      std::optional<Pick> held;  // thread 0 holds one Pick across each pause
      int seen = 0;
      while (!stop.load()) {
        const int p = phase.load();
        if (p % 2 == 0) {
          if (t == 0 && p != seen && !held.has_value()) {
            absl::StatusOr<Pick> pick = client->pick({.service = "rr"});
            if (pick.ok()) held.emplace(*std::move(pick));
            seen = p;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
        if (held.has_value()) {
          client->report(*held, Outcome::ok(absl::Milliseconds(1)));
          held.reset();
          reported[1].fetch_add(1);
        }
        for (int i = 0; i < 200; ++i) {
          const int s = (i + t) % 2;
          absl::StatusOr<Pick> pick = client->pick({.service = names[s]});
          ASSERT_TRUE(pick.ok()) << pick.status();
          client->report(*pick, Outcome::http(i % 7 == 0 ? 503 : 200, absl::Microseconds(300)));
          reported[s].fetch_add(1);
        }
      }
      if (held.has_value()) {
        client->report(*held, Outcome::ok(absl::Milliseconds(1)));
        reported[1].fetch_add(1);
      }
    });
  }
  int released_phases = 0;
  for (int p = 1; p <= 2 * kPhases; ++p) {
    phase.store(p);
    if (p % 2 == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      continue;
    }
    // Paused: the records go back within a few housekeeping periods (100 ms each), but
    // for the one endpoint a held Pick keeps.
    bool released = false;
    for (int i = 0; i < 100 && !released; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      released = arena.slots_in_use() <= before + 1;
    }
    released_phases += released ? 1 : 0;
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_GE(released_phases, 1) << "the records never went back while idle";
  EXPECT_EQ(info(*client, "ll", "request_cnt"), static_cast<double>(reported[0].load()));
  EXPECT_EQ(info(*client, "rr", "request_cnt"), static_cast<double>(reported[1].load()));
  EXPECT_EQ(info(*client, "rr", "inflight"), 0);
}

}  // namespace
}  // namespace ufc
