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

// A 32-bit coarse time: monotonic nanoseconds >> 20 (units of 1.048576 ms), wrapping
// every 52 days; differences are taken modulo 2^32. Never 0, which means "none".
inline uint32_t coarse_tick(int64_t now_ns) {
  const uint32_t t = static_cast<uint32_t>(static_cast<uint64_t>(now_ns) >> 20);
  return t != 0 ? t : 1;
}
inline constexpr int64_t kCoarseTickNs = int64_t{1} << 20;

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
  // coarse_tick(now_ns()), kept beside it so that the request path reads it in one load.
  // Refreshed just after now_ns(), so the two may differ by one refresh.
  uint32_t tick() const { return tick_.load(std::memory_order_relaxed); }
  absl::Time now() const { return absl::UnixEpoch() + absl::Nanoseconds(now_ns()); }

  // Reads the underlying clock and publishes it (never moving backwards).
  void refresh() {
    const int64_t t = absl::ToUnixNanos(clock_.now());
    int64_t seen = now_ns_.load(std::memory_order_relaxed);
    while (t > seen && !now_ns_.compare_exchange_weak(seen, t, std::memory_order_relaxed)) {
    }
    tick_.store(coarse_tick(now_ns_.load(std::memory_order_relaxed)), std::memory_order_relaxed);
  }

  Clock& clock() const { return clock_; }

 private:
  Clock& clock_;
  std::atomic<int64_t> now_ns_{INT64_MIN};
  std::atomic<uint32_t> tick_{1};
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_COARSE_CLOCK_H_
