// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The `faults` config section: validation with full text, limits, hostile configs, and
// FaultPolicy::decide() on scripted draws.

#include "src/fault/fault_policy.h"

#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "ufc/config.h"

namespace ufc::internal {
namespace {

// Draws from a script; counts what was drawn. An empty script is a test bug.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::deque<uint64_t> draws) : draws_(std::move(draws)) {}
  uint64_t next() override {
    ++drawn_;
    if (draws_.empty()) {
      ADD_FAILURE() << "unscripted draw";
      return 0;
    }
    const uint64_t v = draws_.front();
    draws_.pop_front();
    return v;
  }
  int drawn() const { return drawn_; }
  size_t left() const { return draws_.size(); }

 private:
  std::deque<uint64_t> draws_;
  int drawn_ = 0;
};

constexpr uint64_t kLow = 0;            // under any share's threshold but 0%
constexpr uint64_t kHigh = UINT64_MAX;  // over every share's threshold

v1::ServiceConfig service() {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.add_endpoints()->set_address("10.0.0.1:80");
  return s;
}

v1::FaultRule* abort_rule(v1::ServiceConfig& s, double percent, uint32_t status) {
  v1::FaultRule* f = s.add_faults();
  f->mutable_abort()->set_percent(percent);
  f->mutable_abort()->set_http_status(status);
  return f;
}

void set_delay(v1::FaultRule* f, double percent, int64_t ms) {
  f->mutable_delay()->set_percent(percent);
  f->mutable_delay()->mutable_fixed()->set_seconds(ms / 1000);
  f->mutable_delay()->mutable_fixed()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
}

FaultPolicy parse_ok(const v1::ServiceConfig& s) {
  ValidationErrors errors;
  FaultPolicy p = FaultPolicy::parse(s.faults(), errors);
  EXPECT_TRUE(errors.empty()) << errors.status();
  return p;
}

TEST(FaultPolicyTest, NoRulesIsEmptyAndValid) {
  EXPECT_TRUE(parse_ok(service()).empty());
  EXPECT_TRUE(validate_service(service()).ok());
}

TEST(FaultPolicyTest, DefaultsNameAndPercentAndConvertsTheDelay) {
  v1::ServiceConfig s = service();
  v1::FaultRule* f = s.add_faults();
  f->mutable_abort()->set_http_status(503);  // no percent: 100
  f = s.add_faults();
  f->set_name("slow");
  set_delay(f, 25, 1500);
  const FaultPolicy p = parse_ok(s);
  ASSERT_EQ(p.rules().size(), 2u);
  EXPECT_EQ(p.rules()[0].name, "fault0");
  EXPECT_TRUE(p.rules()[0].aborts);
  EXPECT_TRUE(p.rules()[0].abort_share.always);
  EXPECT_EQ(p.rules()[0].abort_status, 503);
  EXPECT_FALSE(p.rules()[0].delays);
  EXPECT_EQ(p.rules()[1].name, "slow");
  EXPECT_FALSE(p.rules()[1].aborts);
  EXPECT_FALSE(p.rules()[1].delay_share.always);
  EXPECT_EQ(p.rules()[1].delay_share.threshold, static_cast<uint64_t>(std::ldexp(0.25, 64)));
  EXPECT_EQ(p.rules()[1].delay_ms, 1500u);
}

TEST(FaultPolicyTest, ValidationNamesEveryProblemWithItsPath) {
  v1::ServiceConfig s = service();
  v1::FaultRule* a = abort_rule(s, std::nan(""), 0);
  a->set_name("dup");
  v1::AttributeMatch* m = a->add_attributes();
  m->set_key("x-chaos");
  m->set_op("regex");
  a->add_caller_services("");
  set_delay(a, -1, 0);
  v1::FaultRule* b = abort_rule(s, 100.5, 600);
  b->set_name("dup");
  set_delay(b, 50, 2 * 3600 * 1000);
  s.add_faults()->set_name("nothing");
  v1::FaultRule* d = abort_rule(s, 10, 199);
  d->mutable_delay()->set_percent(std::numeric_limits<double>::infinity());  // and no `fixed`
  v1::FaultRule* e = abort_rule(s, 10, 503);
  e->mutable_delay()->mutable_fixed()->set_seconds(-1);
  EXPECT_EQ(validate_service(s).message(),
            "faults[0].attributes[0].op: unknown operator \"regex\"; expected exact, prefix, "
            "present or absent; "
            "faults[0].caller_services[0]: must not be empty; "
            "faults[0].abort.percent: must be in [0, 100], got nan; "
            "faults[0].abort.http_status: must be set, in [200, 599]; "
            "faults[0].delay.percent: must be in [0, 100], got -1; "
            "faults[0].delay.fixed: must be in [1ns, 1h], got 0; "
            "faults[1].name: duplicate rule name \"dup\"; "
            "faults[1].abort.percent: must be in [0, 100], got 100.5; "
            "faults[1].abort.http_status: must be in [200, 599], got 600; "
            "faults[1].delay.fixed: must be in [1ns, 1h], got 2h; "
            "faults[2]: must set abort, delay or both; "
            "faults[3].abort.http_status: must be in [200, 599], got 199; "
            "faults[3].delay.percent: must be in [0, 100], got inf; "
            "faults[3].delay.fixed: must be set, a duration in (0, 1h]; "
            "faults[4].delay.fixed: must be in [1ns, 1h], got -1s");
}

TEST(FaultPolicyTest, BoundsAreInclusiveAndDelaysRoundUpToAMillisecond) {
  v1::ServiceConfig s = service();
  set_delay(abort_rule(s, 0, 200), 100, 3600 * 1000);
  abort_rule(s, 100, 599)->mutable_delay()->mutable_fixed()->set_nanos(1);
  abort_rule(s, 100, 599)->mutable_delay()->mutable_fixed()->set_nanos(2000001);
  EXPECT_TRUE(validate_service(s).ok()) << validate_service(s);
  const FaultPolicy p = parse_ok(s);
  EXPECT_EQ(p.rules()[0].delay_ms, 3600000u);
  EXPECT_EQ(p.rules()[1].delay_ms, 1u);
  EXPECT_EQ(p.rules()[2].delay_ms, 3u);
}

TEST(FaultPolicyTest, CountsAreCheckedBeforeAnythingIsRead) {
  v1::ServiceConfig s = service();
  for (int i = 0; i < 65; ++i) abort_rule(s, 10, 0);  // each also invalid: not reported
  EXPECT_EQ(validate_service(s).message(), "faults: has 65 entries, at most 64 are allowed");

  v1::ServiceConfig t = service();
  v1::FaultRule* f = abort_rule(t, 10, 503);
  for (int i = 0; i < 33; ++i) f->add_attributes()->set_key("k");
  for (int i = 0; i < 257; ++i) f->add_caller_services("web");
  EXPECT_EQ(validate_service(t).message(),
            "faults[0].attributes: has 33 entries, at most 32 are allowed; "
            "faults[0].caller_services: has 257 entries, at most 256 are allowed");
}

TEST(FaultPolicyTest, StringsAreCheckedFirst) {
  v1::ServiceConfig s = service();
  v1::FaultRule* f = abort_rule(s, 10, 0);  // the bad status is not reported
  f->set_name("bad\xff");
  f->add_attributes()->set_value(std::string(1025, 'v'));
  EXPECT_EQ(validate_service(s).message(),
            "faults[0].name: not valid UTF-8 at byte 3; "
            "faults[0].attributes[0].value: must be at most 1024 bytes, got 1025");
}

// The largest config the limits allow (64 rules of 32 maximal conditions and 256 callers)
// is read in well under a second; nothing in it is quadratic.
TEST(FaultPolicyTest, LargestAllowedSectionIsCheap) {
  v1::ServiceConfig s = service();
  for (int r = 0; r < 64; ++r) {
    v1::FaultRule* f = abort_rule(s, 50, 503);
    f->set_name(std::string(200, 'a' + r % 26) + std::to_string(r));
    set_delay(f, 50, 10);
    for (int i = 0; i < 32; ++i) {
      v1::AttributeMatch* m = f->add_attributes();
      m->set_key(std::string(255, 'k'));
      m->set_op("prefix");
      m->set_value(std::string(1024, 'v'));
    }
    for (int i = 0; i < 256; ++i) f->add_caller_services(std::string(255, 'c'));
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(validate_service(s).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(FaultPolicyTest, JsonFormReadsTheSameRules) {
  absl::StatusOr<v1::ClientConfig> c = parse_config_json(R"({"services":[{
      "name":"svc","endpoints":[{"address":"10.0.0.1:80"}],
      "faults":[{"name":"drill","callerServices":["web"],
                 "attributes":[{"key":"x-chaos","value":"on"}],
                 "abort":{"percent":10,"httpStatus":503},
                 "delay":{"percent":5,"fixed":"0.250s"}}]}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(validate_config(*c).ok()) << validate_config(*c);
  const FaultPolicy p = parse_ok(c->services(0));
  ASSERT_EQ(p.rules().size(), 1u);
  EXPECT_EQ(p.rules()[0].name, "drill");
  EXPECT_EQ(p.rules()[0].abort_status, 503);
  EXPECT_EQ(p.rules()[0].delay_ms, 250u);
  EXPECT_EQ(p.rules()[0].request.caller_services, std::vector<std::string>{"web"});
}

// Decisions on scripted draws: the abort is drawn first, the delay only when it did not
// abort; a 100% share spends no draw; the first rule whose conditions hold decides.
TEST(FaultPolicyTest, DecideDrawsAbortThenDelayFromTheInjectedSource) {
  v1::ServiceConfig s = service();
  set_delay(abort_rule(s, 10, 503), 10, 40);
  const FaultPolicy p = parse_ok(s);
  ScriptedRandom draws({kLow, kHigh, kLow, kHigh, kHigh});
  const Random random(&draws);
  const PickRequest r{.service = "svc"};
  FaultDecision d = p.decide(r, "web", random);  // abort: one draw
  EXPECT_EQ(d.abort_status, 503);
  EXPECT_EQ(d.delay_ms, 0u) << "an abort is not delayed";
  EXPECT_EQ(draws.drawn(), 1);
  d = p.decide(r, "web", random);  // no abort, delay
  EXPECT_EQ(d.abort_status, 0);
  EXPECT_EQ(d.delay_ms, 40u);
  EXPECT_EQ(draws.drawn(), 3);
  d = p.decide(r, "web", random);  // neither
  EXPECT_EQ(d.abort_status, 0);
  EXPECT_EQ(d.delay_ms, 0u);
  EXPECT_EQ(draws.left(), 0u);
}

TEST(FaultPolicyTest, FullSharesSpendNoDrawAndRetriesAreNeverFaulted) {
  v1::ServiceConfig s = service();
  s.add_faults()->mutable_abort()->set_http_status(500);
  const FaultPolicy p = parse_ok(s);
  ScriptedRandom draws({});
  const Random random(&draws);
  EXPECT_EQ(p.decide({.service = "svc"}, "web", random).abort_status, 500);
  EXPECT_EQ(p.decide({.service = "svc", .is_retry = true}, "web", random).abort_status, 0);
  EXPECT_EQ(draws.drawn(), 0);
}

TEST(FaultPolicyTest, FirstRuleWhoseConditionsHoldDecidesEvenWhenItInjectsNothing) {
  v1::ServiceConfig s = service();
  v1::FaultRule* vip = abort_rule(s, 0, 503);  // matches x-user=alice, never aborts
  v1::AttributeMatch* m = vip->add_attributes();
  m->set_key("x-user");
  m->set_value("alice");
  v1::FaultRule* web = abort_rule(s, 100, 502);
  web->add_caller_services("web");
  web->add_caller_services("mobile");
  abort_rule(s, 100, 504);  // everyone else
  const FaultPolicy p = parse_ok(s);
  ScriptedRandom draws({kLow});  // the 0% share draws, and nothing is below 0
  const Random random(&draws);
  const Attribute alice[] = {{"x-user", "alice"}};
  const Attribute bob[] = {{"x-user", "bob"}};
  EXPECT_EQ(p.decide({.service = "svc", .attributes = alice}, "web", random).abort_status, 0);
  EXPECT_EQ(p.decide({.service = "svc", .attributes = bob}, "mobile", random).abort_status, 502);
  EXPECT_EQ(p.decide({.service = "svc", .attributes = bob}, "batch", random).abort_status, 504);
  EXPECT_EQ(p.decide({.service = "svc"}, "batch", random).abort_status, 504);
  EXPECT_EQ(draws.drawn(), 1);
}

TEST(FaultPolicyTest, AttributeOperatorsAreRoutingsOwn) {
  v1::ServiceConfig s = service();
  v1::FaultRule* f = abort_rule(s, 100, 503);
  auto add = [&](const std::string& key, const std::string& op, const std::string& value) {
    v1::AttributeMatch* m = f->add_attributes();
    m->set_key(key);
    m->set_op(op);
    m->set_value(value);
  };
  add("path", "prefix", "/api/");
  add("x-debug", "present", "");
  add("x-canary", "absent", "");
  const FaultPolicy p = parse_ok(s);
  const Random random(nullptr);
  const Attribute hit[] = {{"path", "/api/v1"}, {"x-debug", ""}};
  const Attribute canary[] = {{"path", "/api/v1"}, {"x-debug", "1"}, {"x-canary", "1"}};
  const Attribute other_path[] = {{"path", "/apx"}, {"x-debug", "1"}};
  EXPECT_EQ(p.decide({.service = "svc", .attributes = hit}, "", random).abort_status, 503);
  EXPECT_EQ(p.decide({.service = "svc", .attributes = canary}, "", random).abort_status, 0);
  EXPECT_EQ(p.decide({.service = "svc", .attributes = other_path}, "", random).abort_status, 0);
}

}  // namespace
}  // namespace ufc::internal
