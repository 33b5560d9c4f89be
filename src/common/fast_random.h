// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/fast_random.h: the random numbers the request path draws.

#ifndef UFC_COMMON_FAST_RANDOM_H_
#define UFC_COMMON_FAST_RANDOM_H_

#include <cstdint>

#include "ufc/random.h"

namespace ufc::internal {

// thread_random() returns the next value of this thread's xoshiro256** generator
// (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021), seeded
// from std::random_device on the thread's first call. Not for cryptography.
uint64_t thread_random();

// Random: what the request path calls. Uses the injected source when there is one (tests,
// simulations), the per-thread generator otherwise. Cheap to copy.
class Random {
 public:
  explicit Random(RandomSource* injected = nullptr) : injected_(injected) {}
  uint64_t next() const { return injected_ != nullptr ? injected_->next() : thread_random(); }
  // A uniform value in [0, n), n > 0, by Lemire's multiply-shift (no division).
  uint32_t below(uint32_t n) const { return reduce(next(), n); }
  static uint32_t reduce(uint64_t r, uint32_t n) {
    return static_cast<uint32_t>((static_cast<unsigned __int128>(r) * n) >> 64);
  }

 private:
  RandomSource* injected_;
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_FAST_RANDOM_H_
