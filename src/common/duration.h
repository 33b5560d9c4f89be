// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/duration.h: absl::Duration conversions the request path can afford.

#ifndef UFC_COMMON_DURATION_H_
#define UFC_COMMON_DURATION_H_

#include <cstdint>

#include "absl/time/time.h"

namespace ufc::internal {

// to_micros() is absl::ToInt64Microseconds with an inline fast path. The library call is
// out of line and costs ~25 instructions, about 7% of a whole pick+report; the fast path
// reads the Duration's representation (whole seconds, and quarter-nanosecond ticks, from
// absl/time/time.h's own inline accessors) for the common case of a non-negative, finite
// latency under ~35 years, and defers to the library for everything else.
inline int64_t to_micros(absl::Duration d) {
  const int64_t seconds = absl::time_internal::GetRepHi(d);
  const uint32_t ticks = absl::time_internal::GetRepLo(d);  // 4e9 per second; ~0 = infinite
  if (seconds >= 0 && seconds < (int64_t{1} << 30) && ticks != ~uint32_t{0}) {
    return seconds * 1000000 + ticks / 4000;
  }
  return absl::ToInt64Microseconds(d);
}

// The request path keeps durations and instants as int64 nanoseconds: comparing and
// subtracting them is one instruction each, where absl::Duration arithmetic on its
// (seconds, quarter-nanoseconds) representation is a dozen.
// to_micros() clamped below at 0: a latency, which the clock can make negative only by
// jumping. The fast path is non-negative by construction, so the clamp costs nothing there.
// (An infinite Duration's seconds are INT64_MIN or INT64_MAX, so the range test alone
// keeps it from the fast path: only finite ones carry ticks below 4e9.)
inline bool fast_latency_micros(absl::Duration d, int64_t& us) {
  const int64_t seconds = absl::time_internal::GetRepHi(d);
  if (static_cast<uint64_t>(seconds) >= (uint64_t{1} << 30)) return false;
  us = seconds * 1000000 + absl::time_internal::GetRepLo(d) / 4000;
  return true;
}
inline int64_t to_latency_micros(absl::Duration d) {
  int64_t us;
  if (fast_latency_micros(d, us)) return us;
  us = absl::ToInt64Microseconds(d);
  return us > 0 ? us : 0;
}

inline constexpr int64_t kInfiniteNs = INT64_MAX;

// to_nanos() is absl::ToInt64Nanoseconds (saturating to kInfiniteNs for infinity and
// anything beyond ~292 years) with the same kind of inline fast path as to_micros().
inline int64_t to_nanos(absl::Duration d) {
  const int64_t seconds = absl::time_internal::GetRepHi(d);
  const uint32_t ticks = absl::time_internal::GetRepLo(d);
  if (seconds >= 0 && seconds < (int64_t{1} << 32) && ticks != ~uint32_t{0}) {
    return seconds * 1000000000 + ticks / 4;
  }
  if (d >= absl::Nanoseconds(kInfiniteNs)) return kInfiniteNs;
  return absl::ToInt64Nanoseconds(d);
}

// An instant on a Clock's axis as nanoseconds since that axis' epoch (the CoarseClock's
// unit); kInfiniteNs for absl::InfiniteFuture().
inline int64_t to_nanos(absl::Time t) { return to_nanos(absl::time_internal::ToUnixDuration(t)); }

// sub_sat() is a - b, saturating at INT64_MIN / INT64_MAX instead of overflowing (signed
// overflow is undefined behaviour). Instants far in the past or future saturate in
// to_nanos(), and the difference of two saturated values must not wrap around: a deadline
// at absl::InfinitePast() minus "now" would otherwise come out as a large positive budget.
// One subtraction and one well-predicted branch.
inline int64_t sub_sat(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_expect(__builtin_sub_overflow(a, b, &r), 0)) return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}

inline absl::Duration from_nanos(int64_t ns) {
  return ns == kInfiniteNs ? absl::InfiniteDuration() : absl::Nanoseconds(ns);
}

}  // namespace ufc::internal

#endif  // UFC_COMMON_DURATION_H_
