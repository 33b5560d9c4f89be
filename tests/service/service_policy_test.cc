// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// A ServiceConfig read once: defaults written only in the policy structs, each section
// parsed by its own room, and endpoint-only updates that keep the parsed policy.

#include "src/service/service_policy.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"
#include "tests/testing/sim_core.h"

namespace ufc::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::make_service;
using testing::SimCore;
using ::testing::UnorderedElementsAre;

TEST(ServicePolicyTest, AbsentSectionsMeanTheDefaultsOfThePolicyStructs) {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.add_endpoints()->set_address("10.0.0.1:80");
  absl::StatusOr<ParsedService> parsed = parse_service(s);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const ServicePolicy& p = *parsed->policy;
  EXPECT_EQ(p.balancing.policy->name, "round_robin");
  EXPECT_EQ(p.fuse, FusePolicy{});
  const BanPolicy ban;
  EXPECT_EQ(p.ban.window, ban.window);
  EXPECT_EQ(p.ban.failures, ban.failures);
  EXPECT_EQ(p.ban.interval, ban.interval);
  EXPECT_EQ(p.ban.max_ratio, ban.max_ratio);
  EXPECT_EQ(p.retry.max_attempts, RetryPolicy{}.max_attempts);
  EXPECT_EQ(p.retry.budget, RetryPolicy{}.budget);
  EXPECT_EQ(p.attempt.max_attempts, RetryPolicy{}.max_attempts);
  EXPECT_EQ(p.attempt.connect_ns, kInfiniteNs);
  EXPECT_EQ(p.attempt.strict_read_ns, kInfiniteNs);
  EXPECT_EQ(p.attempt.deadline_margin_ns, 0);
  EXPECT_FALSE(p.routing.affinity.enabled);
  EXPECT_EQ(p.routing.affinity.tag, "idc");
  ASSERT_EQ(parsed->endpoints.specs.size(), 1u);
  EXPECT_EQ(parsed->endpoints.specs[0].weight, 1);
  EXPECT_EQ(parsed->endpoints.specs[0].host_port.port, 80);
}

TEST(ServicePolicyTest, StrictTimeoutsFallBackToTheNormalOnes) {
  v1::ServiceConfig s = make_service("svc", 1, "round_robin");
  s.mutable_timeouts()->mutable_connect()->set_nanos(100000000);
  s.mutable_timeouts()->mutable_read()->set_seconds(2);
  s.mutable_timeouts()->mutable_strict()->mutable_read()->set_nanos(20000000);
  s.mutable_retry()->set_max_attempts(1);
  absl::StatusOr<ParsedService> parsed = parse_service(s);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const AttemptPolicy& a = parsed->policy->attempt;
  EXPECT_EQ(a.connect_ns, 100'000'000);
  EXPECT_EQ(a.strict_connect_ns, 100'000'000) << "no strict connect: T1's";
  EXPECT_EQ(a.read_ns, 2'000'000'000);
  EXPECT_EQ(a.strict_read_ns, 20'000'000);
  EXPECT_EQ(a.write_ns, kInfiniteNs);
  EXPECT_EQ(a.strict_write_ns, kInfiniteNs);
  EXPECT_EQ(a.max_attempts, 1u);
}

TEST(ServicePolicyTest, TheRegistryNamesEveryPolicyAndFindsEach) {
  for (const char* name : {"round_robin", "random", "weighted_round_robin", "weighted_random",
                           "consistent_hash", "least_loaded"}) {
    const BalancingPolicy* p = find_policy(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->name, name);
  }
  EXPECT_EQ(find_policy(""), &default_policy());
  EXPECT_EQ(find_policy("fastest"), nullptr);
  // Parameters are checked by the policy that owns them, whichever policy is chosen.
  v1::Balancing b;
  b.set_policy("consistent_hash");
  b.mutable_consistent_hash()->set_min_table_size(5000000);
  ValidationErrors errors;
  const BalancingConfig config = parse_balancing(b, errors);
  EXPECT_EQ(config.policy->name, "consistent_hash");
  EXPECT_EQ(errors.status().message(),
            "balancing.consistent_hash.min_table_size: must be <= 4194301, got 5000000");
}

// Three endpoints, a rule sending x-canary requests to version v2.
v1::ServiceConfig versioned() {
  v1::ServiceConfig s = make_service("svc", 3, "round_robin", 7);
  (*s.mutable_endpoints(0)->mutable_tags())["version"] = "v1";
  (*s.mutable_endpoints(1)->mutable_tags())["version"] = "v1";
  (*s.mutable_endpoints(2)->mutable_tags())["version"] = "v2";
  v1::Route* r = s.add_routes();
  r->set_name("canary");
  r->mutable_match()->add_attributes()->set_key("x-canary");
  r->mutable_match()->mutable_attributes(0)->set_op("present");
  (*r->add_destinations()->mutable_tags())["version"] = "v2";
  return s;
}

TEST(EndpointUpdateTest, NewEndpointsUnderTheSamePolicyKeepTheirLiveState) {
  v1::ClientConfig config;
  *config.add_services() = versioned();
  SimCore c(config);
  const std::shared_ptr<const ServicePolicy> before = c.core->policy("svc");
  c.picks("svc", 30);
  const Attribute canary[] = {{"x-canary", "1"}};
  ASSERT_TRUE(c.core->pick({.service = "svc", .attributes = canary}).ok());

  // Endpoint 10.0.0.1 goes, 10.0.0.9 comes (v1); 10.0.0.2 and the v2 one stay.
  v1::ServiceConfig next = versioned();
  next.mutable_endpoints(0)->set_address("10.0.0.9:80");
  ASSERT_TRUE(c.core->update_endpoints("svc", next.endpoints()).ok());

  EXPECT_EQ(c.core->policy("svc"), before) << "the policy is not parsed again";
  const std::vector<std::string> after = c.picks("svc", 30);
  EXPECT_THAT(std::set<std::string>(after.begin(), after.end()),
              UnorderedElementsAre("10.0.0.9:80", "10.0.0.2:80", "10.0.0.3:80"));
  const std::string endpoints = c.core->query("endpoints^svc");
  EXPECT_THAT(endpoints, HasSubstr("\"version\":7,")) << "still version 7";
  // 10.0.0.2 kept its 10 reports from before and got 10 more; the newcomer only 10.
  EXPECT_THAT(endpoints, HasSubstr("\"address\":\"10.0.0.2:80\""));
  EXPECT_THAT(endpoints, HasSubstr("\"request_cnt\":20,"));
  // The departed endpoint's reports stay in the totals; the rule's match count carries on.
  EXPECT_THAT(c.core->query("request_info^svc"), HasSubstr("\"request_cnt\":60,"));
  EXPECT_THAT(c.core->query("routes^svc"), HasSubstr("\"name\":\"canary\",\"matched\":1,"));
}

TEST(EndpointUpdateTest, BadEndpointsAreRejectedByFieldAndTheLastGoodStays) {
  v1::ClientConfig config;
  *config.add_services() = versioned();
  SimCore c(config);
  v1::ServiceConfig next = versioned();
  next.mutable_endpoints(1)->set_address("10.0.0.1:80");  // a duplicate
  next.mutable_endpoints(2)->set_weight(-1);
  EXPECT_EQ(c.core->update_endpoints("svc", next.endpoints()).message(),
            "endpoints[1].address: duplicate of endpoints[0] (\"10.0.0.1:80\"); "
            "endpoints[2].weight: must be >= 0, got -1");
  // Dropping the only v2 endpoint would leave the canary rule with nowhere to go.
  next = versioned();
  next.mutable_endpoints()->RemoveLast();
  EXPECT_EQ(c.core->update_endpoints("svc", next.endpoints()).message(),
            "routes[0].destinations[0].tags: {version: v2} selects no endpoint");
  EXPECT_EQ(c.core->update_endpoints("nope", next.endpoints()).code(), absl::StatusCode::kNotFound);
  const std::vector<std::string> picked = c.picks("svc", 3);
  EXPECT_THAT(picked, UnorderedElementsAre("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"));
}

}  // namespace
}  // namespace ufc::internal
