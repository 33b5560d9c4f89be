// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fusing/fuse_policy.h: a service's `fuse` and `retry` config sections, read once.

#ifndef UFC_FUSING_FUSE_POLICY_H_
#define UFC_FUSING_FUSE_POLICY_H_

#include <cmath>
#include <cstdint>

#include "absl/time/time.h"
#include "src/config/validation_errors.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

enum class FuseControllerKind { kSeed, kAdaptive };

// FusePolicy: what config section `fuse` means (see config.proto for each field). The
// member initializers are the defaults.
struct FusePolicy {
  bool enabled = true;
  FuseControllerKind controller = FuseControllerKind::kSeed;
  absl::Duration interval = absl::Seconds(1);
  double threshold = 0.9;
  uint32_t min_requests = 20;
  double step = 0.1;
  double max_drop = 0.95;
  absl::Duration window = absl::Seconds(1);
  double headroom = 0.1;
  // Not a `fuse` field: the attempt timeout while fusing (section `timeouts`: strict.read,
  // else strict.connect; infinite when neither is set), which the adaptive controller
  // aims under. Set by the service's parser.
  absl::Duration attempt_timeout = absl::InfiniteDuration();

  // parse() reads section `fuse`, adding every problem to `errors` under "fuse"; the
  // policy is meaningful only when nothing was added.
  static FusePolicy parse(const v1::Fuse& fuse, ValidationErrors& errors);

  bool operator==(const FusePolicy& o) const;
  bool operator!=(const FusePolicy& o) const { return !(*this == o); }
};

// RetryPolicy: what config section `retry` means; the member initializers are the defaults.
struct RetryPolicy {
  uint32_t max_attempts = 3;
  double budget = 0.1;
  absl::Duration window = absl::Seconds(10);
  double min_per_second = 1;  // the reserve, beyond the budget's share

  // Retries the reserve allows per window: floor(min_per_second x window).
  int64_t reserve() const {
    return static_cast<int64_t>(std::floor(min_per_second * absl::ToDoubleSeconds(window)));
  }

  // parse() reads section `retry`, adding every problem to `errors` under "retry".
  static RetryPolicy parse(const v1::Retry& retry, ValidationErrors& errors);
};

}  // namespace ufc::internal

#endif  // UFC_FUSING_FUSE_POLICY_H_
