// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/stable_hash.h: a hash that is the same in every process and every build.
//
// Consistent hashing must send a key to the same backend from every caller, so it cannot
// use absl::Hash (seeded per process). This is MurmurHash64A (Austin Appleby, public
// domain, https://github.com/aappleby/smhasher), reading input as little-endian words.

#ifndef UFC_COMMON_STABLE_HASH_H_
#define UFC_COMMON_STABLE_HASH_H_

#include <cstdint>
#include <string_view>

namespace ufc::internal {

uint64_t stable_hash(std::string_view data, uint64_t seed = 0);

// Finalizer for keys that are already 64-bit integers (from MurmurHash3's fmix64), so
// sequential ids spread over the whole space.
inline uint64_t mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace ufc::internal

#endif  // UFC_COMMON_STABLE_HASH_H_
