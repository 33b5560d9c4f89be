// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Fusing, the avalanche switch and retries through a real Client on simulated time.

#include <map>
#include <set>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/traffic_sim.h"
#include "ufc/config.h"
#include "ufc/refusal.h"

namespace ufc {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using testing::make_service;
using testing::SimClient;
using testing::TrafficSim;

absl::Duration ms(int n) { return absl::Milliseconds(n); }

// 4 endpoints; T1 read 100 ms, T2 read 20 ms; banning off (fusing is under test).
v1::ServiceConfig fusing_service() {
  v1::ServiceConfig s = make_service("svc", 4, "round_robin");
  s.mutable_ban()->set_enabled(false);
  *s.mutable_timeouts()->mutable_read() = TimeUtil::MillisecondsToDuration(100);
  *s.mutable_timeouts()->mutable_strict()->mutable_read() = TimeUtil::MillisecondsToDuration(20);
  return s;
}

v1::ClientConfig one(const v1::ServiceConfig& s) {
  v1::ClientConfig c;
  *c.add_services() = s;
  return c;
}

TEST(FusingTest, AvalancheSwitchesToStrictTimeoutsAndNoRetriesAndBack) {
  SimClient c(one(fusing_service()));
  TrafficSim sim(c, "svc");
  bool failing = true;
  auto rng = std::make_shared<uint64_t>(0);
  for (int i = 1; i <= 4; ++i) {
    sim.set("10.0.0." + std::to_string(i) + ":80", [&, rng](absl::Duration) {
      // Half the requests time out while the service is struggling.
      return failing && (++*rng % 2 == 0)
                 ? Outcome::transport_error(Transport::kReadTimeout, ms(100))
                 : Outcome::http(200, ms(5));
    });
  }
  absl::StatusOr<Pick> before = c.client->pick({.service = "svc"});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->timeouts().read, ms(100));
  EXPECT_TRUE(before->retry_allowed());

  sim.run(absl::Seconds(1.2), 1000);  // one full interval at 50% success
  ASSERT_EQ(sim.events_of(EventType::kFuseStart).size(), 1u);
  EXPECT_NEAR(sim.events_of(EventType::kFuseStart)[0].drop, 0.1, 1e-9);
  absl::StatusOr<Pick> during = c.client->pick({.service = "svc"});
  while (!during.ok()) during = c.client->pick({.service = "svc"});  // skip shed ones
  EXPECT_EQ(during->timeouts().read, ms(20)) << "T2 while fusing";
  EXPECT_FALSE(during->retry_allowed());
  // Through a handle with nothing asked (pick's shortest path) too.
  const ServiceHandle svc = c.client->service("svc").value();
  absl::StatusOr<Pick> plain = c.client->pick(svc);
  while (!plain.ok()) plain = c.client->pick(svc);
  EXPECT_EQ(plain->timeouts().read, ms(20)) << "T2 while fusing, through a handle";
  EXPECT_FALSE(plain->retry_allowed());
  // The caller's own timeouts never replace T2.
  Timeouts mine{ms(500), ms(500), ms(500)};
  absl::StatusOr<Pick> overridden = c.client->pick({.service = "svc", .timeouts = &mine});
  while (!overridden.ok()) overridden = c.client->pick({.service = "svc", .timeouts = &mine});
  EXPECT_EQ(overridden->timeouts().read, ms(20));
  EXPECT_EQ(c.client->pick({.service = "svc", .is_retry = true}).status().message(),
            "fused: no retries while the service is overloaded");

  failing = false;  // the service recovers: d steps down 0.1 a second, then fusing ends
  sim.run(absl::Seconds(5), 1000);
  ASSERT_EQ(sim.events_of(EventType::kFuseEnd).size(), 1u);
  absl::StatusOr<Pick> after = c.client->pick({.service = "svc"});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->timeouts().read, ms(100)) << "back to T1";
  EXPECT_TRUE(after->retry_allowed());
  absl::StatusOr<Pick> mine_t1 = c.client->pick({.service = "svc", .timeouts = &mine});
  EXPECT_EQ(mine_t1->timeouts().read, ms(500)) << "the caller may override T1";
}

TEST(FusingTest, WithTwentyPercentCriticalAndHalfDroppedCriticalLosesNothing) {
  v1::ServiceConfig s = fusing_service();
  SimClient c(one(s));
  // Drive the seed controller to d = 0.5: five unhealthy intervals.
  TrafficSim sim(c, "svc");
  for (int i = 1; i <= 4; ++i) {
    sim.set("10.0.0." + std::to_string(i) + ":80", [](absl::Duration) {
      return Outcome::transport_error(Transport::kReadTimeout, ms(100));
    });
  }
  sim.run(absl::Seconds(5.05), 1000);
  ASSERT_FALSE(sim.events_of(EventType::kFuseStep).empty());
  // Now 20% critical, 80% low (the controller learns the mix during the next tick).
  std::map<Priority, std::pair<int, int>> shed;  // priority -> (picked, dropped)
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      const Priority p = i % 5 == 0 ? Priority::kCritical : Priority::kLow;
      absl::StatusOr<Pick> pick = c.client->pick({.service = "svc", .priority = p});
      auto& [picked, dropped] = shed[p];
      ++(pick.ok() ? picked : dropped);
    }
    c.executor->advance(ms(100));  // a control tick: the mix is known from now on
    if (round == 0) shed.clear();
  }
  EXPECT_EQ(shed[Priority::kCritical].second, 0) << "no critical request was shed";
  const double low_dropped = shed[Priority::kLow].second / 1600.0;
  EXPECT_NEAR(low_dropped, 0.5 / 0.8, 0.05) << "low absorbs the whole 50%";
  EXPECT_THAT(c.client->query("request_info^svc"), HasSubstr("\"fusing\":true"));
}

TEST(RefusalTest, EveryRefusalSaysWhyInAPayloadNotOnlyInItsMessage) {
  v1::ServiceConfig s = fusing_service();
  s.mutable_retry()->set_budget(0.1);
  s.mutable_retry()->set_min_per_second(0);  // no reserve: the budget's share only
  SimClient c(one(s));
  auto why = [&](const PickRequest& r) { return refusal_of(c.client->pick(r).status()); };
  EXPECT_EQ(why({.service = "nope"}), Refusal::kNotConfigured);
  EXPECT_EQ(why({.service = "svc", .deadline = Deadline::at(MonotonicTime::infinite_past())}),
            Refusal::kDeadlineSpent);
  EXPECT_EQ(why({.service = "svc", .is_retry = true}), Refusal::kRetryBudgetSpent)
      << "no first attempts yet: no budget";
  for (int i = 0; i < 100; ++i) c.pick_and_report("svc", Outcome::ok(ms(1)));
  c.executor->advance(ms(100));
  const std::vector<std::string_view> all = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                                             "10.0.0.4:80"};
  EXPECT_EQ(why({.service = "svc", .is_retry = true, .avoid = all}), Refusal::kEveryBackendTried);
  EXPECT_EQ(why({.service = "svc"}), Refusal::kNone) << "picked";
  EXPECT_EQ(why({.service = ""}), Refusal::kNone) << "the caller's own error";
  // Fusing: every attempt times out for a whole interval.
  for (int i = 0; i < 1100; ++i) {
    c.pick_and_report("svc", Outcome::transport_error(Transport::kReadTimeout, ms(100)));
    if (i % 100 == 99) c.executor->advance(ms(100));
  }
  ASSERT_THAT(c.client->query("request_info^svc"), HasSubstr("\"fusing\":true"));
  EXPECT_EQ(why({.service = "svc", .is_retry = true}), Refusal::kRetryWhileFusing);
  int shed = 0;
  for (int i = 0; i < 100; ++i) shed += why({.service = "svc"}) == Refusal::kShed;
  EXPECT_GT(shed, 0);
  EXPECT_EQ(refusal_name(Refusal::kShed), "shed");
  EXPECT_EQ(refusal_of(with_refusal(absl::UnavailableError("x"), Refusal::kRetryBudgetSpent)),
            Refusal::kRetryBudgetSpent);
  EXPECT_EQ(refusal_of(absl::UnavailableError("fused: made up")), Refusal::kNone);
}

TEST(RetryBudgetTest, RefusesTheRetryBeyondTenPercentOfRequests) {
  v1::ServiceConfig s = fusing_service();
  s.mutable_fuse()->set_enabled(false);
  s.mutable_retry()->set_budget(0.1);
  s.mutable_retry()->set_min_per_second(0);  // no reserve: exactly the share
  SimClient c(one(s));
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(c.pick_and_report("svc", Outcome::ok(ms(1))).empty());
  c.executor->advance(ms(100));  // the tick grants 10% of the 100 requests
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Pick> retry = c.client->pick({.service = "svc", .is_retry = true});
    ASSERT_TRUE(retry.ok()) << "retry " << i + 1 << ": " << retry.status();
  }
  absl::StatusOr<Pick> eleventh = c.client->pick({.service = "svc", .is_retry = true});
  EXPECT_EQ(eleventh.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(eleventh.status().message(), "retry budget spent: too many retries in the window");
  EXPECT_TRUE(c.client->pick({.service = "svc"}).ok()) << "first attempts are never refused";
  EXPECT_THAT(c.client->query("request_info^svc"), HasSubstr("\"retries_refused_cnt\":1"));
}

TEST(RetryTest, RetriesAvoidBackendsAlreadyTried) {
  v1::ServiceConfig s = fusing_service();
  s.mutable_retry()->set_budget(1.0);
  SimClient c(one(s));
  for (int i = 0; i < 100; ++i) c.pick_and_report("svc", Outcome::ok(ms(1)));
  c.executor->advance(ms(100));
  const std::vector<std::string_view> tried = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"};
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Pick> p = c.client->pick({.service = "svc", .is_retry = true, .avoid = tried});
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->address(), "10.0.0.4:80");
  }
  const std::vector<std::string_view> all = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                                             "10.0.0.4:80"};
  EXPECT_EQ(c.client->pick({.service = "svc", .is_retry = true, .avoid = all}).status().message(),
            "every candidate backend was already tried");
}

TEST(RetryBudgetTest, AQuietServiceRetriesFromItsReserveFromTheStart) {
  v1::ServiceConfig s = fusing_service();
  s.mutable_fuse()->set_enabled(false);
  s.mutable_retry()->set_budget(0.1);  // the default reserve: 1 a second, 10 per 10 s window
  SimClient c(one(s));
  // No tick yet, no first attempt seen: the first failures may still be retried.
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Pick> retry = c.client->pick({.service = "svc", .is_retry = true});
    ASSERT_TRUE(retry.ok()) << "retry " << i + 1 << ": " << retry.status();
  }
  EXPECT_EQ(refusal_of(c.client->pick({.service = "svc", .is_retry = true}).status()),
            Refusal::kRetryBudgetSpent);
  // The reserve is per window: spent, it stays spent until those retries leave it...
  c.executor->advance(absl::Seconds(5));
  EXPECT_EQ(refusal_of(c.client->pick({.service = "svc", .is_retry = true}).status()),
            Refusal::kRetryBudgetSpent);
  c.executor->advance(absl::Seconds(6));
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(c.client->pick({.service = "svc", .is_retry = true}).ok()) << i;
  }
  // ...and adds to the budget's share: 100 requests in the window give 10 + 10.
  c.executor->advance(absl::Seconds(11));
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(c.pick_and_report("svc", Outcome::ok(ms(1))).empty());
  c.executor->advance(ms(100));
  int admitted = 0;
  while (c.client->pick({.service = "svc", .is_retry = true}).ok() && admitted < 100) ++admitted;
  EXPECT_EQ(admitted, 20);
}

TEST(RetryBudgetTest, ARetryWithNowhereToGoGivesItsTokenBack) {
  v1::ServiceConfig s = fusing_service();
  s.mutable_fuse()->set_enabled(false);
  s.mutable_retry()->set_budget(0.1);
  s.mutable_retry()->set_min_per_second(0);
  SimClient c(one(s));
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(c.pick_and_report("svc", Outcome::ok(ms(1))).empty());
  c.executor->advance(ms(100));  // 10 tokens
  const std::vector<std::string_view> all = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                                             "10.0.0.4:80"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(c.client->pick({.service = "svc", .is_retry = true, .avoid = all}).status().message(),
              "every candidate backend was already tried");
  }
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Pick> retry = c.client->pick({.service = "svc", .is_retry = true});
    ASSERT_TRUE(retry.ok()) << "retry " << i + 1 << ": " << retry.status();
  }
  EXPECT_EQ(c.client->pick({.service = "svc", .is_retry = true}).status().message(),
            "retry budget spent: too many retries in the window");
}

TEST(CallTest, RetriesTransportFailuresElsewhereButNeverApplicationErrors) {
  v1::ServiceConfig s = fusing_service();
  s.mutable_retry()->set_budget(1.0);
  SimClient c(one(s));
  for (int i = 0; i < 100; ++i) c.pick_and_report("svc", Outcome::ok(ms(1)));
  c.executor->advance(ms(100));

  std::vector<std::string> seen;
  absl::StatusOr<Outcome> result = c.client->call({.service = "svc"}, [&](const Pick& p) {
    seen.emplace_back(p.address());
    return seen.size() < 3 ? Outcome::transport_error(Transport::kConnectRefused, ms(1))
                           : Outcome::http(200, ms(2));
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status_code, 200);
  ASSERT_EQ(seen.size(), 3u) << "max_attempts 3";
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 3u)
      << "each on another backend";

  int attempts = 0;
  result = c.client->call({.service = "svc"}, [&](const Pick&) {
    ++attempts;
    return Outcome::http(503, ms(1));
  });
  EXPECT_EQ(attempts, 1) << "an application error is the service's answer: no retry";
  EXPECT_EQ(result->status_code, 503);

  attempts = 0;
  result = c.client->call({.service = "svc"}, [&](const Pick&) {
    ++attempts;
    return Outcome::transport_error(Transport::kReset, ms(1));
  });
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(result->transport, Transport::kReset);
}

TEST(FusingConfigTest, ValidationReportsEveryBadFieldWithItsPath) {
  v1::ServiceConfig s = make_service("svc", 1, "round_robin");
  s.mutable_fuse()->set_controller("pid");
  s.mutable_fuse()->set_threshold(0);
  s.mutable_fuse()->set_step(1.5);
  s.mutable_fuse()->set_max_drop(-0.1);
  s.mutable_fuse()->mutable_interval()->set_nanos(5000000);
  s.mutable_fuse()->set_headroom(2);
  s.mutable_retry()->set_max_attempts(11);
  s.mutable_retry()->set_budget(1.5);
  s.mutable_retry()->set_min_per_second(-1);
  s.mutable_timeouts()->mutable_strict()->mutable_read()->set_seconds(-1);
  EXPECT_EQ(validate_service(s).message(),
            "fuse.controller: unknown controller \"pid\"; expected seed or adaptive; "
            "fuse.interval: must be in [100ms, 1m], got 5ms; "
            "fuse.threshold: must be in (0, 1], got 0; "
            "fuse.step: must be in (0, 1], got 1.5; "
            "fuse.max_drop: must be in [0, 1], got -0.1; "
            "fuse.headroom: must be in [0, 1], got 2; "
            "retry.max_attempts: must be in [1, 10], got 11; "
            "retry.budget: must be in [0, 1], got 1.5; "
            "retry.min_per_second: must be in [0, 1000], got -1; "
            "timeouts.strict.read: must be in [1ns, 1h], got -1s");
}

}  // namespace
}  // namespace ufc
