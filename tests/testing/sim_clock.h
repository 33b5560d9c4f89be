// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/sim_clock.h: simulated time for scenario tests and simulators.

#ifndef UFC_TESTS_TESTING_SIM_CLOCK_H_
#define UFC_TESTS_TESTING_SIM_CLOCK_H_

#include <atomic>

#include "absl/time/time.h"
#include "ufc/clock.h"

namespace ufc::testing {

// SimClock: time moves only when a test says so. Starts at an arbitrary non-zero instant
// (UFC treats 0 as "never"); the wall clock reads 2019-11-11 plus the same elapsed time.
// Thread-safety: thread-safe.
class SimClock final : public Clock {
 public:
  static constexpr int64_t kStartNs = 1'000'000'000'000;  // 1000 s after the epoch
  static constexpr int64_t kWallStartS = 1573456000;

  absl::Time now() override { return absl::UnixEpoch() + absl::Nanoseconds(ns_.load()); }
  absl::Time wall_now() override {
    return absl::FromUnixSeconds(kWallStartS) + absl::Nanoseconds(ns_.load() - kStartNs);
  }

  void advance(absl::Duration d) { ns_.fetch_add(absl::ToInt64Nanoseconds(d)); }
  void set(absl::Time t) { ns_.store(absl::ToUnixNanos(t)); }

 private:
  std::atomic<int64_t> ns_{kStartNs};
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_SIM_CLOCK_H_
