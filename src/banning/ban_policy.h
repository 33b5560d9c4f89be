// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/banning/ban_policy.h: a service's `ban` config section, read once.

#ifndef UFC_BANNING_BAN_POLICY_H_
#define UFC_BANNING_BAN_POLICY_H_

#include <cstdint>

#include "absl/time/time.h"
#include "src/config/validation_errors.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// BanPolicy: what config section `ban` means, every default filled in. A plain value,
// built once per config version (see config.proto for each field's meaning and range).
// The member initializers are the defaults: the one place they are written.
struct BanPolicy {
  bool enabled = true;

  bool by_request = true;
  uint32_t window = 10;      // N
  uint32_t failures = 5;     // M
  uint32_t consecutive = 5;  // K; 0 = off
  bool compare_peers = true;

  bool by_business = true;
  absl::Duration interval = absl::Seconds(10);
  uint32_t min_requests = 20;
  bool status_4xx = true;
  bool status_5xx = true;
  double min_share = 0.5;
  double factor = 5;
  bool latency = true;
  double latency_factor = 3;
  absl::Duration latency_floor = absl::Milliseconds(50);

  absl::Duration base_time = absl::Seconds(10);
  absl::Duration max_time = absl::Minutes(10);
  absl::Duration streak_reset = absl::Minutes(5);
  double max_ratio = 0.5;
  absl::Duration long_ban = absl::Minutes(30);
  absl::Duration probe_timeout = absl::Seconds(1);

  bool probation = true;
  uint32_t probation_requests = 20;
  double probation_share = 0.1;
  absl::Duration probation_max_time = absl::Seconds(30);

  // parse() reads section `ban`, adding every problem to `errors` under "ban"; the policy
  // it returns is meaningful only when nothing was added.
  static BanPolicy parse(const v1::Ban& ban, ValidationErrors& errors);

  // The trip rule (failure_window.h) the endpoints apply for detection by request; 0 when
  // that detection is off.
  uint32_t window_rule() const;

  // The ban length for the n-th consecutive ban (n >= 1): base_time x 2^(n-1), capped.
  absl::Duration ban_time(uint32_t streak) const;
};

}  // namespace ufc::internal

#endif  // UFC_BANNING_BAN_POLICY_H_
