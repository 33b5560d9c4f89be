// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/coarse_clock.h: the request path's view of time, refreshed off the path.

#ifndef UFC_COMMON_COARSE_CLOCK_H_
#define UFC_COMMON_COARSE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "ufc/clock.h"

namespace ufc::internal {

// CoarseClock: a cached reading of a Clock's monotonic time, as nanoseconds on the
// Clock's axis. A background task calls refresh() every tick; the request path calls
// now_ns(), which is one relaxed load instead of a ~26 ns clock read.
//
// Resolution: one tick (1 ms by default); readings never go backwards even if the
// underlying clock misbehaves. Thread-safety: all methods are thread-safe.
class CoarseClock {
 public:
  explicit CoarseClock(Clock& clock) : clock_(clock) { refresh(); }

  int64_t now_ns() const { return now_ns_.load(std::memory_order_relaxed); }
  absl::Time now() const { return absl::UnixEpoch() + absl::Nanoseconds(now_ns()); }

  // Reads the underlying clock and publishes it (never moving backwards).
  void refresh() {
    const int64_t t = absl::ToUnixNanos(clock_.now());
    int64_t seen = now_ns_.load(std::memory_order_relaxed);
    while (t > seen && !now_ns_.compare_exchange_weak(seen, t, std::memory_order_relaxed)) {
    }
  }

  Clock& clock() const { return clock_; }

 private:
  Clock& clock_;
  std::atomic<int64_t> now_ns_{INT64_MIN};
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_COARSE_CLOCK_H_
