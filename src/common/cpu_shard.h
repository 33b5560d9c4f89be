// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/cpu_shard.h: which per-CPU shard the calling thread writes.

#ifndef UFC_COMMON_CPU_SHARD_H_
#define UFC_COMMON_CPU_SHARD_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "src/common/thread_shard.h"

namespace ufc::internal {

// CpuShards: the process-wide shard count for per-CPU state, fixed at load time: the
// configured CPUs rounded up to a power of two, at most kMax (CPUs beyond share shards).
//
// Why per CPU and not per thread: state written on every pick/report scales only if no
// two cores write one cache line. A server has far more threads than cores, but only one
// thread runs on a core at a time, so shards per CPU bound the memory by the core count.
// The current CPU comes from the rseq area glibc (>= 2.35) registers for every thread: one
// load at a fixed offset from the thread pointer. Where rseq is not registered (old
// kernels, valgrind), the thread's thread_shard() stands in.
//
// A thread can migrate between reading its shard and writing it, and two threads of one
// CPU can interleave: shard state must stay correct under that (atomic read-modify-writes),
// it just stops being uncontended for a moment.
struct CpuShards {
  static constexpr uint32_t kMax = 16;
  static uint32_t count() { return config().mask + 1; }
  static uint32_t mask() { return config().mask; }

  struct Config {
    uint32_t mask;         // count - 1
    ptrdiff_t cpu_offset;  // thread pointer -> rseq cpu_id; 0 when rseq is not registered
  };
  // Computed on first use (a function-local static: safe even from other libraries'
  // static initialisers); afterwards one byte load checks the guard.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static const Config& config() {
    static const Config& c = (ready_ = init());
    return c;
  }
  // The same without the guard, for a request path once it holds something sharded (an
  // endpoint with records): config() ran before that was built (its size is count()), and
  // the pick reached it through a publication that followed, so it reads the final value.
  // Never before (a process may not have called config() yet).
  ABSL_ATTRIBUTE_ALWAYS_INLINE static const Config& ready() { return ready_; }

 private:
  static Config init();
  static inline Config ready_{0, 0};  // written once, by config()'s first call
};

// The same for a caller that has its thread_shard() at hand already (the fallback's).
// Only on a request path, past the load of something sharded (see CpuShards::ready()).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t cpu_shard(uint32_t thread) {
  const CpuShards::Config& c = CpuShards::ready();
  if (__builtin_expect(c.cpu_offset != 0, 1)) {
    const char* tp = static_cast<const char*>(__builtin_thread_pointer());
    return *reinterpret_cast<const volatile uint32_t*>(tp + c.cpu_offset) & c.mask;
  }
  return thread & c.mask;
}
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t cpu_shard() {
  const CpuShards::Config& c = CpuShards::config();
  if (__builtin_expect(c.cpu_offset != 0, 1)) {
    const char* tp = static_cast<const char*>(__builtin_thread_pointer());
    return *reinterpret_cast<const volatile uint32_t*>(tp + c.cpu_offset) & c.mask;
  }
  return thread_shard() & c.mask;
}

}  // namespace ufc::internal

#endif  // UFC_COMMON_CPU_SHARD_H_
