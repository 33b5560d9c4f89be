// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/thread_shard.h: a small per-thread number used to spread hot counters.

#ifndef UFC_COMMON_THREAD_SHARD_H_
#define UFC_COMMON_THREAD_SHARD_H_

#include <cstdint>

#include "absl/base/attributes.h"
#include "src/common/tls.h"

namespace ufc::internal {

namespace thread_shard_internal {
inline thread_local uint32_t shard UFC_HOT_TLS = UINT32_MAX;
uint32_t assign();
}  // namespace thread_shard_internal

// thread_shard() returns a number fixed for the calling thread, handed out 0, 1, 2, ... in
// order of first call, so the first N threads get distinct shards of an N-way structure
// and a counter every thread bumps becomes N counters that do not share a cache line.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t thread_shard() {
  const uint32_t s = thread_shard_internal::shard;
  return __builtin_expect(s != UINT32_MAX, 1) ? s : thread_shard_internal::assign();
}

}  // namespace ufc::internal

#endif  // UFC_COMMON_THREAD_SHARD_H_
