// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/limits.h: limits that keep a hostile or broken config from exhausting memory
// or time. Each section's parser enforces the ones it owns, naming the field.

#ifndef UFC_CONFIG_LIMITS_H_
#define UFC_CONFIG_LIMITS_H_

#include <cstddef>

namespace ufc::internal {

inline constexpr int kMaxEndpoints = 100000;
inline constexpr int kMaxServices = 100000;
inline constexpr double kMaxWeight = 1e6;
// The smallest nonzero weight: keeps weight ratios (and the tables built from them) bounded.
inline constexpr double kMinWeight = 1e-6;
inline constexpr size_t kMaxNameLength = 255;

}  // namespace ufc::internal

#endif  // UFC_CONFIG_LIMITS_H_
