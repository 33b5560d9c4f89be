// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/duration.h"

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

// The fast path must agree with the library everywhere, including where it defers.
TEST(DurationTest, ToMicrosMatchesAbsl) {
  for (absl::Duration d :
       {absl::ZeroDuration(), absl::Nanoseconds(1), absl::Nanoseconds(999), absl::Microseconds(1),
        absl::Nanoseconds(1500), absl::Milliseconds(7) + absl::Nanoseconds(123456),
        absl::Seconds(3) + absl::Microseconds(999999), absl::Hours(24 * 365 * 20),
        absl::Hours(24 * 365 * 100), -absl::Nanoseconds(1), -absl::Milliseconds(5),
        -absl::Seconds(2) - absl::Nanoseconds(1), absl::InfiniteDuration(),
        -absl::InfiniteDuration()}) {
    EXPECT_EQ(to_micros(d), absl::ToInt64Microseconds(d)) << absl::FormatDuration(d);
  }
}

}  // namespace
}  // namespace ufc::internal
