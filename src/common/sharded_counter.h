// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/sharded_counter.h: a counter many threads bump without sharing a cache line.

#ifndef UFC_COMMON_SHARDED_COUNTER_H_
#define UFC_COMMON_SHARDED_COUNTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "src/common/thread_shard.h"

namespace ufc::internal {

// ShardedCounter: 16 slots on their own cache lines; a thread adds to the slot of its
// thread_shard(), readers sum them. Cost: one uncontended atomic add; 1 KiB of memory.
class ShardedCounter {
 public:
  void add(uint64_t n = 1) {
    slots_[thread_shard() % kSlots].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const {
    uint64_t total = 0;
    for (const Slot& s : slots_) total += s.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  static constexpr uint32_t kSlots = 16;
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  Slot slots_[kSlots];
};

// ShardedCounters: N counters sharded together, for objects that keep several (one
// block per shard instead of one per counter and shard: N x 8 bytes rounded to cache
// lines, times 16, instead of N KiB). Counters of one block share a line; what one thread
// writes mostly stays on its own shard's lines.
template <size_t N>
class ShardedCounters {
 public:
  void add(size_t counter, uint64_t n = 1) {
    slots_[thread_shard() % kSlots].values[counter].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value(size_t counter) const {
    uint64_t total = 0;
    for (const Slot& s : slots_) total += s.values[counter].load(std::memory_order_relaxed);
    return total;
  }

 private:
  static constexpr uint32_t kSlots = 16;
  struct alignas(64) Slot {
    std::atomic<uint64_t> values[N] = {};
  };
  Slot slots_[kSlots];
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_SHARDED_COUNTER_H_
