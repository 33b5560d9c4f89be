// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/fast_random.h: the random numbers the request path draws.

#ifndef UFC_COMMON_FAST_RANDOM_H_
#define UFC_COMMON_FAST_RANDOM_H_

#include <cstdint>

#include "src/common/tls.h"
#include "ufc/random.h"

namespace ufc::internal {

namespace fast_random_internal {

// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
// 2021): 4 words of state, a few ns per value. Not for cryptography.
struct Xoshiro256 {
  uint64_t s[4];
  bool seeded;  // zero-initialized thread_local: false until seed()

  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  void seed();  // from std::random_device
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

inline thread_local Xoshiro256 generator UFC_HOT_TLS;  // trivially destructible: no TLS guard

}  // namespace fast_random_internal

// thread_random() returns the next value of this thread's generator, seeded from
// std::random_device on the thread's first call.
inline uint64_t thread_random() {
  fast_random_internal::Xoshiro256& g = fast_random_internal::generator;
  if (__builtin_expect(!g.seeded, 0)) g.seed();
  return g.next();
}

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
