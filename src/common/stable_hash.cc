// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/stable_hash.h"

#include <cstring>

namespace ufc::internal {

uint64_t stable_hash(std::string_view data, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const size_t len = data.size();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const unsigned char* end = p + (len & ~size_t{7});
  uint64_t h = seed ^ (len * m);
  for (; p != end; p += 8) {
    uint64_t k = 0;
    for (int i = 0; i < 8; ++i) k |= static_cast<uint64_t>(p[i]) << (8 * i);  // little-endian
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t tail = len & 7;
  if (tail != 0) {
    for (size_t i = tail; i-- > 0;) h ^= static_cast<uint64_t>(p[i]) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

}  // namespace ufc::internal
