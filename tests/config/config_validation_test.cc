// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Config validation: every error, with its full field path, in one status.

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ufc/config.h"

namespace ufc {
namespace {

v1::ServiceConfig good_service(const std::string& name) {
  v1::ServiceConfig s;
  s.set_name(name);
  s.set_version(1);
  for (int i = 1; i <= 3; ++i) {
    v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0.0." + std::to_string(i) + ":80");
    e->set_weight(1);
    (*e->mutable_tags())["idc"] = "bj";
  }
  s.mutable_balancing()->set_policy("weighted_round_robin");
  return s;
}

TEST(ConfigValidationTest, GoodConfigPasses) {
  v1::ClientConfig config;
  *config.add_services() = good_service("a");
  *config.add_services() = good_service("b");
  EXPECT_TRUE(validate_config(config).ok()) << validate_config(config);
}

TEST(ConfigValidationTest, AbsentWeightMeansOneAndPolicyDefaultsToRoundRobin) {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.add_endpoints()->set_address("10.0.0.1:80");
  EXPECT_TRUE(validate_service(s).ok()) << validate_service(s);
}

TEST(ConfigValidationTest, GathersEveryErrorWithItsFieldPath) {
  v1::ClientConfig config;
  *config.add_services() = good_service("ok");
  v1::ServiceConfig* bad = config.add_services();
  *bad = good_service("bad");
  bad->mutable_endpoints(0)->set_weight(-1);
  bad->mutable_endpoints(1)->set_weight(std::nan(""));
  bad->mutable_endpoints(2)->set_address("10.0.0.1:80");  // same as endpoints[0]
  bad->mutable_balancing()->set_policy("fastest");
  v1::ServiceConfig* unnamed = config.add_services();
  *unnamed = good_service("");

  const absl::Status status = validate_config(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "services[1].endpoints[0].weight: must be >= 0, got -1; "
            "services[1].endpoints[1].weight: must be a number, got NaN; "
            "services[1].endpoints[2].address: duplicate of endpoints[0] (\"10.0.0.1:80\"); "
            "services[1].balancing.policy: unknown policy \"fastest\"; expected one of "
            "round_robin, random, weighted_round_robin, weighted_random, consistent_hash, "
            "least_loaded; "
            "services[2].name: must not be empty");
}

TEST(ConfigValidationTest, RejectsBadAddresses) {
  v1::ServiceConfig s = good_service("svc");
  s.clear_endpoints();
  for (const char* address :
       {"", "10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:http", "::1:80", "[::1]",
        "[zz::1]:80", "bad_host:80", "999.1.1.1:80", ":80", "[::1]:80", "db-1.example:8080"}) {
    s.add_endpoints()->set_address(address);
  }
  EXPECT_EQ(validate_service(s).message(),
            "endpoints[0].address: must not be empty; "
            "endpoints[1].address: \"10.0.0.1\" has no port (expected host:port); "
            "endpoints[2].address: \"10.0.0.1:0\" has an invalid port \"0\" (expected 1..65535); "
            "endpoints[3].address: \"10.0.0.1:65536\" has an invalid port \"65536\" (expected "
            "1..65535); "
            "endpoints[4].address: \"10.0.0.1:http\" has an invalid port \"http\" (expected "
            "1..65535); "
            "endpoints[5].address: \"::1:80\" looks like an IPv6 address without brackets "
            "(expected [ipv6]:port); "
            "endpoints[6].address: \"[::1]\" has no port (expected [ipv6]:port); "
            "endpoints[7].address: \"[zz::1]:80\" has an invalid IPv6 host; "
            "endpoints[8].address: \"bad_host:80\" has a host that is neither an IP address nor "
            "a valid DNS name; "
            "endpoints[9].address: \"999.1.1.1:80\" has a host that is neither an IP address "
            "nor a valid DNS name; "
            "endpoints[10].address: \":80\" has an empty host");
}

TEST(ConfigValidationTest, DuplicateDetectionNormalizesAddresses) {
  v1::ServiceConfig s = good_service("svc");
  s.clear_endpoints();
  s.add_endpoints()->set_address("[::1]:80");
  s.add_endpoints()->set_address("[0:0::1]:80");
  s.add_endpoints()->set_address("Db1.Example:80");
  s.add_endpoints()->set_address("db1.example:80");
  EXPECT_EQ(validate_service(s).message(),
            "endpoints[1].address: duplicate of endpoints[0] (\"[::1]:80\"); "
            "endpoints[3].address: duplicate of endpoints[2] (\"Db1.Example:80\")");
}

TEST(ConfigValidationTest, RejectsEmptyAndAllZeroEndpointLists) {
  v1::ServiceConfig empty = good_service("svc");
  empty.clear_endpoints();
  EXPECT_EQ(validate_service(empty).message(), "endpoints: must not be empty");

  v1::ServiceConfig drained = good_service("svc");
  for (auto& e : *drained.mutable_endpoints()) e.set_weight(0);
  EXPECT_EQ(validate_service(drained).message(),
            "endpoints: all weights are 0; at least one endpoint must have weight > 0");
}

TEST(ConfigValidationTest, RejectsInfiniteAndHugeWeights) {
  v1::ServiceConfig s = good_service("svc");
  s.mutable_endpoints(0)->set_weight(std::numeric_limits<double>::infinity());
  s.mutable_endpoints(1)->set_weight(2e6);
  EXPECT_EQ(validate_service(s).message(),
            "endpoints[0].weight: must be <= 1e+06, got inf; "
            "endpoints[1].weight: must be <= 1e+06, got 2e+06");
}

// The control server's agent watch (config.proto AgentWatch, AgentDrain): clients check
// what they are sent like any other section.
TEST(ConfigValidationTest, ChecksTheAgentWatchAndItsDrains) {
  v1::ServiceConfig s = good_service("svc");
  s.mutable_agent_watch()->set_enabled(true);
  s.mutable_agent_watch()->mutable_after()->set_seconds(30);
  s.mutable_agent_watch()->set_max_share(0.25);
  s.mutable_endpoints(0)->set_weight(0);
  s.mutable_endpoints(0)->mutable_agent_drain()->set_weight(5);
  s.mutable_endpoints(0)->mutable_agent_drain()->set_since_unix_ms(1);
  EXPECT_TRUE(validate_service(s).ok()) << validate_service(s);

  s.mutable_agent_watch()->mutable_after()->set_seconds(0);
  s.mutable_agent_watch()->set_max_share(0);
  s.mutable_endpoints(0)->mutable_agent_drain()->set_weight(-1);
  s.mutable_endpoints(0)->mutable_agent_drain()->set_since_unix_ms(-5);
  s.mutable_endpoints(1)->mutable_agent_drain();  // drained, yet weighted
  EXPECT_EQ(std::string(validate_service(s).message()),
            "endpoints[0].agent_drain.weight: must be 0 or in [1e-06, 1e+06], got -1; "
            "endpoints[0].agent_drain.since_unix_ms: must be >= 0, got -5; "
            "endpoints[1].agent_drain: is set, so the endpoint's weight must be 0; "
            "agent_watch.after: must be in [1s, 1h], got 0; "
            "agent_watch.max_share: must be in (0, 1], got 0");
}

TEST(ConfigValidationTest, RejectsSubnormalWeightsThatWouldBlowUpTables) {
  v1::ServiceConfig s = good_service("svc");
  s.mutable_endpoints(0)->set_weight(1e-306);
  s.mutable_endpoints(1)->set_weight(0);
  s.mutable_endpoints(2)->set_weight(1e-6);
  EXPECT_EQ(validate_service(s).message(),
            "endpoints[0].weight: must be 0 or >= 1e-06, got 1e-306");
}

TEST(ConfigValidationTest, RejectsWhitespaceAndControlCharactersInAddresses) {
  v1::ServiceConfig s = good_service("svc");
  s.mutable_endpoints(0)->set_address("10.0.0.1:80\n");
  s.mutable_endpoints(1)->set_address(std::string("10.0.0.2\0x:80", 13));
  EXPECT_EQ(validate_service(s).message(),
            "endpoints[0].address: \"10.0.0.1:80\\n\" has a space, control or non-ASCII character; "
            "endpoints[1].address: \"10.0.0.2\\x00x:80\" has a space, control or non-ASCII "
            "character");
}

TEST(ConfigValidationTest, RejectsBadNames) {
  v1::ServiceConfig s = good_service("has space");
  EXPECT_EQ(validate_service(s).message(),
            "name: \"has space\" has a character that is a space, '^', a control character or "
            "not ASCII");
  s.set_name("a^b");
  EXPECT_THAT(std::string(validate_service(s).message()), ::testing::StartsWith("name: \"a^b\""));
  s.set_name(std::string(256, 'x'));
  EXPECT_EQ(validate_service(s).message(), "name: must be at most 255 bytes, got 256");
}

TEST(ConfigValidationTest, RejectsDuplicateServiceNames) {
  v1::ClientConfig config;
  *config.add_services() = good_service("echo");
  *config.add_services() = good_service("other");
  *config.add_services() = good_service("echo");
  EXPECT_EQ(validate_config(config).message(),
            "services[2].name: duplicate of services[0] (\"echo\")");
}

TEST(ConfigValidationTest, RejectsPolicyParametersForAnotherPolicy) {
  v1::ServiceConfig s = good_service("svc");
  s.mutable_balancing()->set_policy("round_robin");
  s.mutable_balancing()->mutable_consistent_hash()->set_min_table_size(5000000);
  s.mutable_balancing()->mutable_least_loaded()->mutable_idle_reset()->set_nanos(1000);
  EXPECT_EQ(validate_service(s).message(),
            "balancing.consistent_hash: only allowed with policy \"consistent_hash\"; "
            "balancing.consistent_hash.min_table_size: must be <= 4194301, got 5000000; "
            "balancing.least_loaded: only allowed with policy \"least_loaded\"; "
            "balancing.least_loaded.idle_reset: must be in [10ms, 1h], got 1us");
}

TEST(ConfigValidationTest, RejectsMalformedDurations) {
  v1::ServiceConfig s = good_service("svc");
  s.mutable_balancing()->set_policy("least_loaded");
  auto* d = s.mutable_balancing()->mutable_least_loaded()->mutable_idle_reset();
  d->set_seconds(1);
  d->set_nanos(-5);
  EXPECT_EQ(validate_service(s).message(),
            "balancing.least_loaded.idle_reset: is not a valid duration (seconds and nanos "
            "disagree)");
}

TEST(ConfigValidationTest, RejectsEmptyTagKeys) {
  v1::ServiceConfig s = good_service("svc");
  (*s.mutable_endpoints(1)->mutable_tags())[""] = "x";
  EXPECT_EQ(validate_service(s).message(), "endpoints[1].tags: keys must not be empty");
}

}  // namespace
}  // namespace ufc
