// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/banning/outlier_detector.h: detection by business signal — which backends differ
// from their peers over one interval.

#ifndef UFC_BANNING_OUTLIER_DETECTOR_H_
#define UFC_BANNING_OUTLIER_DETECTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "src/banning/ban_policy.h"

namespace ufc::internal {

// What one backend did during the interval.
struct IntervalSample {
  uint64_t requests = 0;
  uint64_t status_4xx = 0;
  uint64_t status_5xx = 0;
  double latency_sum_us = 0;  // over all `requests`
};

struct Outlier {
  size_t index;        // into the samples
  std::string reason;  // e.g. "4xx share 100% vs peers 2.0%"
};

// find_outliers() compares each backend that has at least `min_requests` with the mean of
// the *other* such backends (its own figures would dilute the mean it is compared to).
// A backend is an outlier when, for an enabled signal:
//   share >= min_share and share >= factor x peers' mean share      (4xx, 5xx), or
//   latency >= latency_factor x peers' mean and >= peers' mean + latency_floor.
// A single error proves nothing; a backend unlike its peers does. With fewer than two
// eligible backends there is nothing to compare, so nothing is reported. Pure function.
std::vector<Outlier> find_outliers(const std::vector<IntervalSample>& samples,
                                   const BanPolicy& policy);

}  // namespace ufc::internal

#endif  // UFC_BANNING_OUTLIER_DETECTOR_H_
