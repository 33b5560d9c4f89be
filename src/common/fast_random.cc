// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/fast_random.h"

#include <random>

namespace ufc::internal {
namespace {

struct Xoshiro256 {
  uint64_t s[4];
  bool seeded = false;

  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  void seed() {
    std::random_device rd;
    // splitmix64 spreads the device's entropy over the whole state (never all zero).
    uint64_t z = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    for (uint64_t& word : s) {
      z += 0x9e3779b97f4a7c15ULL;
      uint64_t x = z;
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
      x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
      word = x ^ (x >> 31);
    }
    seeded = true;
  }

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

thread_local Xoshiro256 tls_rng;  // trivially destructible: no TLS guard on access

}  // namespace

uint64_t thread_random() {
  Xoshiro256& rng = tls_rng;
  if (__builtin_expect(!rng.seeded, 0)) rng.seed();
  return rng.next();
}

}  // namespace ufc::internal
