// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/backoff.h: the delay before the next reconnection attempt.
//
// Exponential with jitter: each delay is drawn uniformly from [d/2, d], then d doubles up to
// `max`; reset() after a success starts again from `initial`. The jitter keeps several
// ufc-metad servers that lost etcd at the same moment from reconnecting in lockstep.

#ifndef UFC_METAD_STORE_ETCD_BACKOFF_H_
#define UFC_METAD_STORE_ETCD_BACKOFF_H_

#include <algorithm>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/uniform_real_distribution.h"
#include "absl/time/time.h"

namespace ufc::metad {

// Backoff. Cost: O(1). Thread-safety: not thread-safe (each state machine owns one).
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max)
      : initial_(initial), max_(max), next_(initial) {}

  // The delay to wait now; the following one is longer (up to `max`).
  absl::Duration next(absl::BitGenRef gen) {
    const double share = absl::uniform_real_distribution<double>(0.5, 1.0)(gen);
    const absl::Duration delay = next_ * share;
    next_ = std::min(next_ * 2, max_);
    return delay;
  }

  // The last attempt succeeded: the next delay is `initial` again.
  void reset() { next_ = initial_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  absl::Duration next_;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_BACKOFF_H_
