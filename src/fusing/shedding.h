// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fusing/shedding.h: which requests a fusing service drops — heterogeneous shedding.

#ifndef UFC_FUSING_SHEDDING_H_
#define UFC_FUSING_SHEDDING_H_

#include <array>
#include <cstdint>

#include "ufc/pick.h"

namespace ufc::internal {

// A request's traffic class: its priority, and whether it is a retry. A retry ranks just
// below first attempts of its own priority (a retry of a critical request still outranks
// a normal one).
inline constexpr int kTrafficClasses = 8;
inline constexpr int kPriorities = 4;
inline int traffic_class(Priority priority, bool retry) {
  return static_cast<int>(priority) * 2 + (retry ? 1 : 0);
}

using ClassShares = std::array<double, kTrafficClasses>;

// shed() turns a total drop share `d` into a drop probability per class, dropping the
// lowest-ranked classes first (offline retries, offline, low retries, low, ... critical),
// in proportion to the traffic `mix` observed (requests per class, any scale): classes are
// dropped whole until d is reached, the class at the boundary in part. With no observed
// traffic every class drops d. Example: 20% critical, 80% low, d = 0.5 drops 62.5% of low
// and no critical. Pure function.
ClassShares shed(double d, const ClassShares& mix);

}  // namespace ufc::internal

#endif  // UFC_FUSING_SHEDDING_H_
