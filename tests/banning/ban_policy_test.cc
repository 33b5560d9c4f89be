// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The `ban` config section: defaults, ban-time doubling, and validation with full text.

#include "src/banning/ban_policy.h"

#include <cmath>

#include "gtest/gtest.h"
#include "ufc/config.h"

namespace ufc::internal {
namespace {

v1::ServiceConfig service_with(const v1::Ban& ban) {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.add_endpoints()->set_address("10.0.0.1:80");
  *s.mutable_ban() = ban;
  return s;
}

TEST(BanPolicyTest, AbsentSectionMeansTheSpecDefaults) {
  ValidationErrors errors;
  const BanPolicy p = BanPolicy::parse(v1::Ban(), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(p.enabled);
  EXPECT_EQ(p.window, 10u);
  EXPECT_EQ(p.failures, 5u);
  EXPECT_EQ(p.consecutive, 5u);
  EXPECT_EQ(p.interval, absl::Seconds(10));
  EXPECT_DOUBLE_EQ(p.min_share, 0.5);
  EXPECT_DOUBLE_EQ(p.factor, 5);
  EXPECT_DOUBLE_EQ(p.latency_factor, 3);
  EXPECT_EQ(p.latency_floor, absl::Milliseconds(50));
  EXPECT_EQ(p.base_time, absl::Seconds(10));
  EXPECT_EQ(p.max_time, absl::Minutes(10));
  EXPECT_DOUBLE_EQ(p.max_ratio, 0.5);
  EXPECT_EQ(p.long_ban, absl::Minutes(30));
}

TEST(BanPolicyTest, BanTimeDoublesPerStreakAndIsCapped) {
  const BanPolicy p;
  EXPECT_EQ(p.ban_time(1), absl::Seconds(10));
  EXPECT_EQ(p.ban_time(2), absl::Seconds(20));
  EXPECT_EQ(p.ban_time(4), absl::Seconds(80));
  EXPECT_EQ(p.ban_time(6), absl::Seconds(320));
  EXPECT_EQ(p.ban_time(7), absl::Minutes(10));
  EXPECT_EQ(p.ban_time(1000), absl::Minutes(10));
}

TEST(BanPolicyTest, ExplicitValuesOverrideDefaults) {
  v1::Ban ban;
  ban.set_enabled(true);
  ban.mutable_by_request()->set_consecutive(0);
  ban.mutable_by_business()->set_status_4xx(false);
  ban.mutable_base_time()->set_seconds(2);
  ban.set_max_ratio(0);
  ValidationErrors errors;
  const BanPolicy p = BanPolicy::parse(ban, errors);
  EXPECT_TRUE(errors.empty()) << errors.status();
  EXPECT_EQ(p.consecutive, 0u);
  EXPECT_FALSE(p.status_4xx);
  EXPECT_EQ(p.base_time, absl::Seconds(2));
  EXPECT_DOUBLE_EQ(p.max_ratio, 0);
  EXPECT_TRUE(validate_service(service_with(ban)).ok());
}

TEST(BanPolicyTest, ValidationReportsEveryBadFieldWithItsPath) {
  v1::Ban ban;
  ban.mutable_by_request()->set_window(60);
  ban.mutable_by_request()->set_failures(0);
  ban.mutable_by_request()->set_consecutive(300);
  ban.mutable_by_business()->mutable_interval()->set_nanos(500000000);
  ban.mutable_by_business()->set_min_requests(0);
  ban.mutable_by_business()->set_min_share(0);
  ban.mutable_by_business()->set_factor(0.5);
  ban.mutable_by_business()->set_latency_factor(std::nan(""));
  ban.mutable_by_business()->mutable_latency_floor()->set_seconds(120);
  ban.mutable_base_time()->set_seconds(30);
  ban.mutable_max_time()->set_seconds(10);
  ban.mutable_streak_reset()->set_seconds(-1);
  ban.set_max_ratio(1.5);
  ban.mutable_long_ban()->set_seconds(10);
  ban.mutable_probe_timeout()->set_seconds(1);
  ban.mutable_probe_timeout()->set_nanos(-1);
  ban.mutable_probation()->set_requests(0);
  ban.mutable_probation()->set_share(0);
  ban.mutable_probation()->mutable_max_time()->set_seconds(7200);
  EXPECT_EQ(validate_service(service_with(ban)).message(),
            "ban.by_request.window: must be in [1, 56], got 60; "
            "ban.by_request.failures: must be in [1, 56], got 0; "
            "ban.by_request.consecutive: must be in [0, 255], got 300; "
            "ban.by_business.interval: must be in [1s, 1h], got 500ms; "
            "ban.by_business.min_requests: must be in [1, 1000000000], got 0; "
            "ban.by_business.min_share: must be in (0, 1], got 0; "
            "ban.by_business.factor: must be in [1, 1000], got 0.5; "
            "ban.by_business.latency_factor: must be in [1, 1000], got nan; "
            "ban.by_business.latency_floor: must be in [0, 1m], got 2m; "
            "ban.max_time: must be in [30s, 24h], got 10s; "
            "ban.streak_reset: must be in [1s, 24h], got -1s; "
            "ban.max_ratio: must be in [0, 1], got 1.5; "
            "ban.long_ban: must be in [1m, 720h], got 10s; "
            "ban.probe_timeout: is not a valid duration (seconds and nanos disagree); "
            "ban.probation.requests: must be in [1, 1000], got 0; "
            "ban.probation.share: must be in (0, 1], got 0; "
            "ban.probation.max_time: must be in [1s, 1h], got 2h");
}

TEST(BanPolicyTest, PeerComparisonAndProbationDefaultOnAndCanBeTurnedOff) {
  ValidationErrors errors;
  const BanPolicy d = BanPolicy::parse(v1::Ban(), errors);
  EXPECT_TRUE(d.compare_peers);
  EXPECT_TRUE(d.probation);
  EXPECT_EQ(d.probation_requests, 20u);
  EXPECT_DOUBLE_EQ(d.probation_share, 0.1);
  EXPECT_EQ(d.probation_max_time, absl::Seconds(30));

  v1::Ban ban;
  ban.mutable_by_request()->set_compare_peers(false);
  ban.mutable_probation()->set_enabled(false);
  ban.mutable_probation()->set_requests(50);
  ban.mutable_probation()->set_share(1);
  ban.mutable_probation()->mutable_max_time()->set_seconds(5);
  const BanPolicy p = BanPolicy::parse(ban, errors);
  EXPECT_TRUE(errors.empty()) << errors.status();
  EXPECT_FALSE(p.compare_peers);
  EXPECT_FALSE(p.probation);
  EXPECT_EQ(p.probation_requests, 50u);
  EXPECT_DOUBLE_EQ(p.probation_share, 1);
  EXPECT_EQ(p.probation_max_time, absl::Seconds(5));
}

TEST(BanPolicyTest, FailuresMayNotExceedTheWindow) {
  v1::Ban ban;
  ban.mutable_by_request()->set_window(4);
  ban.mutable_by_request()->set_failures(5);
  EXPECT_EQ(validate_service(service_with(ban)).message(),
            "ban.by_request.failures: must be in [1, 4], got 5");
  ban.mutable_by_request()->clear_failures();
  EXPECT_EQ(validate_service(service_with(ban)).message(),
            "ban.by_request.failures: defaults to 5, more than window 4; set it");
}

}  // namespace
}  // namespace ufc::internal
