// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Fault injection through a real Client on simulated time: what a Pick carries, the
// measured rates, caller and attribute restrictions, and that injected faults never feed
// banning, fusing or the service's counts.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"
#include "ufc/config.h"
#include "ufc/refusal.h"

namespace ufc {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using testing::make_service;
using ::testing::Not;
using testing::SimClient;

v1::ClientConfig one(const v1::ServiceConfig& s) {
  v1::ClientConfig c;
  *c.add_services() = s;
  return c;
}

v1::FaultRule* add_abort(v1::ServiceConfig& s, double percent, uint32_t status) {
  v1::FaultRule* f = s.add_faults();
  f->mutable_abort()->set_percent(percent);
  f->mutable_abort()->set_http_status(status);
  return f;
}

void add_delay(v1::FaultRule* f, double percent, int ms) {
  f->mutable_delay()->set_percent(percent);
  *f->mutable_delay()->mutable_fixed() = TimeUtil::MillisecondsToDuration(ms);
}

void require(v1::FaultRule* f, const std::string& key, const std::string& value) {
  v1::AttributeMatch* m = f->add_attributes();
  m->set_key(key);
  m->set_value(value);
}

size_t count_events(const SimClient& c, EventType type) {
  size_t n = 0;
  for (const Event& e : c.events) n += e.type == type ? 1 : 0;
  return n;
}

TEST(FaultInjectionTest, AbortedPickHasNoBackendAndReportingItDoesNothing) {
  v1::ServiceConfig s = make_service("svc", 3, "round_robin");
  *s.mutable_timeouts()->mutable_read() = TimeUtil::MillisecondsToDuration(300);
  s.mutable_retry()->set_max_attempts(3);
  add_abort(s, 100, 503);
  SimClient c(one(s));
  std::vector<Pick> held;  // unreported and alive: still no in-flight count
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Pick> pick = c.client->pick(
        {.service = "svc",
         .deadline = Deadline::at(c.clock->monotonic_now() + absl::Milliseconds(200))});
    ASSERT_TRUE(pick.ok()) << pick.status();
    EXPECT_EQ(pick->fault().abort_status, 503);
    EXPECT_EQ(pick->fault().delay, absl::ZeroDuration());
    EXPECT_EQ(pick->address(), "");
    EXPECT_EQ(pick->host(), "");
    EXPECT_EQ(pick->port(), 0);
    EXPECT_TRUE(pick->tags().empty());
    EXPECT_EQ(pick->tag("idc"), "");
    EXPECT_EQ(pick->timeouts().read, absl::Milliseconds(200)) << "capped by the deadline";
    EXPECT_FALSE(pick->retry_allowed());
    EXPECT_FALSE(pick->deadline().is_none());
    if (i % 2 == 0) {
      c.client->report(*pick,
                       Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1)));
    }
    held.push_back(*std::move(pick));
  }
  const std::string info = c.client->query("request_info^svc");
  EXPECT_THAT(info, HasSubstr("\"request_cnt\":0,"));
  EXPECT_THAT(info, HasSubstr("\"transport_fail_cnt\":0,\"inflight\":0,"));
  EXPECT_THAT(info, HasSubstr("\"faults\":{\"aborts\":5,\"delays\":0}"));
}

TEST(FaultInjectionTest, DelayedPickGoesToItsBackendAndIsReportedNormally) {
  v1::ServiceConfig s = make_service("svc", 2, "round_robin");
  add_delay(s.add_faults(), 100, 20);
  SimClient c(one(s));
  absl::StatusOr<Pick> pick = c.client->pick({.service = "svc"});
  ASSERT_TRUE(pick.ok());
  EXPECT_EQ(pick->fault().abort_status, 0);
  EXPECT_EQ(pick->fault().delay, absl::Milliseconds(20));
  EXPECT_EQ(pick->address(), "10.0.0.1:80");
  EXPECT_THAT(c.client->query("request_info^svc"), HasSubstr("\"inflight\":1,"));
  c.client->report(*pick, Outcome::http(200, absl::Milliseconds(5)));  // the delay excluded
  const std::string info = c.client->query("request_info^svc");
  EXPECT_THAT(info, HasSubstr("\"request_cnt\":1,\"success_cnt\":1,"));
  EXPECT_THAT(info, HasSubstr("\"faults\":{\"aborts\":0,\"delays\":1}"));
}

// One rule, 10% aborts and 10% delays drawn independently (a delay only for the requests
// not aborted), over 10,000 picks of a seeded generator.
TEST(FaultInjectionTest, TenPercentAbortsAndDelaysWithinOneAndAHalfPoints) {
  v1::ServiceConfig s = make_service("svc", 4, "random");
  add_delay(add_abort(s, 10, 503), 10, 50);
  SimClient c(one(s), /*seed=*/20260101);
  constexpr int kPicks = 10000;
  int aborted = 0, delayed = 0, reached = 0;
  for (int i = 0; i < kPicks; ++i) {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "svc"});
    ASSERT_TRUE(pick.ok());
    const InjectedFault f = pick->fault();
    if (f.abort_status != 0) {
      EXPECT_EQ(f.abort_status, 503);
      EXPECT_EQ(f.delay, absl::ZeroDuration());
      ++aborted;
      continue;
    }
    if (f.delay != absl::ZeroDuration()) {
      EXPECT_EQ(f.delay, absl::Milliseconds(50));
      ++delayed;
    }
    ++reached;
    c.client->report(*pick, Outcome::http(200, absl::Milliseconds(3)));
  }
  EXPECT_NEAR(aborted / double(kPicks), 0.10, 0.015);
  EXPECT_NEAR(delayed / double(kPicks - aborted), 0.10, 0.015);
  EXPECT_NEAR(delayed / double(kPicks), 0.09, 0.015);  // 10% of the 90% not aborted
  const std::string info = c.client->query("request_info^svc");
  EXPECT_THAT(info, HasSubstr(absl::StrCat("\"request_cnt\":", reached, ",")));
  EXPECT_THAT(info, HasSubstr(absl::StrCat("\"faults\":{\"aborts\":", aborted,
                                           ",\"delays\":", delayed, "}")));
}

TEST(FaultInjectionTest, TheSameSeedGivesTheSameDecisions) {
  v1::ServiceConfig s = make_service("svc", 4, "random");
  add_delay(add_abort(s, 30, 500), 30, 5);
  auto run = [&] {
    SimClient c(one(s), /*seed=*/42);
    std::string trace;
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<Pick> pick = c.client->pick({.service = "svc"});
      const InjectedFault f = pick->fault();
      trace += f.abort_status != 0 ? 'A' : f.delay != absl::ZeroDuration() ? 'D' : '.';
      trace += std::string(pick->address());
    }
    return trace;
  };
  const std::string first = run();
  EXPECT_EQ(first, run());
  EXPECT_THAT(first, HasSubstr("A"));
  EXPECT_THAT(first, HasSubstr("D"));
}

TEST(FaultInjectionTest, OnlyTheGivenCallersAndAttributesAreFaulted) {
  v1::ServiceConfig s = make_service("svc", 2, "round_robin");
  v1::FaultRule* f = add_abort(s, 100, 503);
  f->add_caller_services("web");
  require(f, "x-chaos", "on");
  SimClient c(one(s));  // self_service "tester"
  const Attribute chaos[] = {{"x-chaos", "on"}};
  const Attribute calm[] = {{"x-chaos", "off"}};
  auto status_of = [&](PickRequest r) {
    r.service = "svc";
    absl::StatusOr<Pick> pick = c.client->pick(r);
    return pick.ok() ? pick->fault().abort_status : -1;
  };
  EXPECT_EQ(status_of({.attributes = chaos, .caller_service = "web"}), 503);
  EXPECT_EQ(status_of({.attributes = calm, .caller_service = "web"}), 0);
  EXPECT_EQ(status_of({.caller_service = "web"}), 0);
  EXPECT_EQ(status_of({.attributes = chaos, .caller_service = "batch"}), 0);
  EXPECT_EQ(status_of({.attributes = chaos}), 0) << "the client's own name is \"tester\"";
  EXPECT_THAT(c.client->query("request_info^svc"),
              HasSubstr("\"faults\":{\"aborts\":1,\"delays\":0}"));
}

TEST(FaultInjectionTest, RetriesAreNotFaulted) {
  v1::ServiceConfig s = make_service("svc", 2, "round_robin");
  add_abort(s, 100, 503);
  s.mutable_retry()->set_min_per_second(0);  // no reserve: the budget is empty at start
  SimClient c(one(s));
  absl::StatusOr<Pick> retry = c.client->pick({.service = "svc", .is_retry = true});
  // It went on to the retry budget (empty at start), not to an injected abort.
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(refusal_of(retry.status()), Refusal::kRetryBudgetSpent);
}

TEST(FaultInjectionTest, CallReturnsTheAbortWithoutAnAttempt) {
  v1::ServiceConfig s = make_service("svc", 2, "round_robin");
  add_abort(s, 100, 429);
  SimClient c(one(s));
  int attempts = 0;
  absl::StatusOr<Outcome> out = c.client->call({.service = "svc"}, [&](const Pick&) {
    ++attempts;
    return Outcome::http(200, absl::Milliseconds(1));
  });
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(attempts, 0);
  EXPECT_EQ(out->status_kind, StatusKind::kHttp);
  EXPECT_EQ(out->status_code, 429);
}

// A caller that honours the aborts but reports every aborted pick as a refused connection
// (the worst it could do) while the rest of its traffic is healthy: nothing is banned,
// the service does not fuse, and only the real requests are counted. Without the fault
// rule, the same traffic (its chaos half reaching the backends and refused) fuses.
TEST(FaultInjectionTest, InjectedAbortsNeverBanOrFuse) {
  auto drill = [](bool with_faults) {
    v1::ServiceConfig s = make_service("svc", 4, "random");  // chaos spread over all four
    if (with_faults) require(add_abort(s, 100, 503), "x-chaos", "on");
    auto c = std::make_unique<SimClient>(one(s));
    const Attribute chaos[] = {{"x-chaos", "on"}};
    for (int i = 0; i < 6000; ++i) {  // 6 s at 1000 picks/s, half of them chaos
      const bool is_chaos = i % 2 == 0;
      PickRequest r{.service = "svc"};
      if (is_chaos) r.attributes = chaos;
      absl::StatusOr<Pick> pick = c->client->pick(r);
      if (pick.ok()) {
        c->client->report(*pick, is_chaos ? Outcome::transport_error(Transport::kConnectRefused,
                                                                     absl::Milliseconds(1))
                                          : Outcome::http(200, absl::Milliseconds(2)));
      }
      c->executor->advance(absl::Milliseconds(1));
    }
    return c;
  };
  std::unique_ptr<SimClient> faulted = drill(true);
  EXPECT_EQ(count_events(*faulted, EventType::kBan), 0u);
  EXPECT_EQ(count_events(*faulted, EventType::kFuseStart), 0u);
  const std::string info = faulted->client->query("request_info^svc");
  EXPECT_THAT(info, HasSubstr("\"request_cnt\":3000,\"success_cnt\":3000,"));
  EXPECT_THAT(info, HasSubstr("\"transport_fail_cnt\":0,\"inflight\":0,"));
  EXPECT_THAT(info, HasSubstr("\"ban_cnt\":0,\"banned_cnt\":0,"));
  EXPECT_THAT(info, HasSubstr("\"fusing\":false,"));
  EXPECT_THAT(info, HasSubstr("\"fused_cnt\":0,"));
  EXPECT_THAT(info, HasSubstr("\"faults\":{\"aborts\":3000,\"delays\":0}"));
  EXPECT_THAT(faulted->client->query("endpoints^svc"), Not(HasSubstr("\"banned\"")));

  std::unique_ptr<SimClient> control = drill(false);
  EXPECT_GE(count_events(*control, EventType::kFuseStart), 1u) << "the drill would show it";
  EXPECT_THAT(control->client->query("request_info^svc"), Not(HasSubstr("\"faults\"")));
}

// A service without fault rules: no "faults" in its query, nothing in its Picks, and the
// same choices as a service whose only rule never matches (the rule spends no draw).
TEST(FaultInjectionTest, WithoutMatchingRulesEverythingIsAsBefore) {
  v1::ServiceConfig plain = make_service("svc", 5, "random");
  v1::ServiceConfig ruled = plain;
  add_abort(ruled, 50, 503)->add_caller_services("nobody");
  SimClient a(one(plain), /*seed=*/9);
  SimClient b(one(ruled), /*seed=*/9);
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<Pick> pa = a.client->pick({.service = "svc"});
    absl::StatusOr<Pick> pb = b.client->pick({.service = "svc"});
    ASSERT_TRUE(pa.ok() && pb.ok());
    ASSERT_EQ(pa->address(), pb->address()) << "pick " << i;
    EXPECT_EQ(pa->fault().abort_status, 0);
    EXPECT_EQ(pa->fault().delay, absl::ZeroDuration());
    a.client->report(*pa, Outcome::http(200, absl::Milliseconds(1)));
    b.client->report(*pb, Outcome::http(200, absl::Milliseconds(1)));
  }
  EXPECT_THAT(a.client->query("request_info^svc"), Not(HasSubstr("faults")));
  EXPECT_THAT(b.client->query("request_info^svc"),
              HasSubstr("\"faults\":{\"aborts\":0,\"delays\":0}"));
}

TEST(FaultInjectionTest, RulesEndWithTheirVersionAndTheCountsStay) {
  v1::ServiceConfig s = make_service("svc", 2, "round_robin", /*version=*/1);
  add_abort(s, 100, 503);
  SimClient c(one(s));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.client->pick({.service = "svc"})->fault().abort_status, 503);
  ASSERT_TRUE(c.client->apply(make_service("svc", 2, "round_robin", /*version=*/2)).ok());
  absl::StatusOr<Pick> pick = c.client->pick({.service = "svc"});
  ASSERT_TRUE(pick.ok());
  EXPECT_EQ(pick->fault().abort_status, 0);
  EXPECT_NE(pick->address(), "");
  EXPECT_THAT(c.client->query("request_info^svc"),
              HasSubstr("\"faults\":{\"aborts\":3,\"delays\":0}"));
}

TEST(FaultInjectionTest, AnInvalidRuleRejectsTheUpdateAndKeepsTheLastGoodConfig) {
  SimClient c(one(make_service("svc", 2, "round_robin", /*version=*/1)));
  v1::ServiceConfig bad = make_service("svc", 2, "round_robin", /*version=*/2);
  add_abort(bad, 10, 700);
  const absl::Status s = c.client->apply(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("faults[0].abort.http_status: must be in [200, 599], got 700"));
  EXPECT_EQ(c.client->pick({.service = "svc"})->fault().abort_status, 0);
}

}  // namespace
}  // namespace ufc
