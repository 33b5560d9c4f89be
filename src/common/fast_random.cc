// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/fast_random.h"

#include <random>

namespace ufc::internal::fast_random_internal {

void Xoshiro256::seed() {
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

}  // namespace ufc::internal::fast_random_internal
