// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/endpoint/endpoint_stats.h"

#include <new>

#include "src/common/cpu_shard.h"

namespace ufc::internal {

static_assert(StatsArena::kSlotsPerChunk * sizeof(ShardStats) % 64 == 0,
              "a shard's block of records must end on a cache line");

StatsArena& StatsArena::global() {
  static StatsArena* arena = new StatsArena();  // never destroyed: endpoints may outlive main()
  return *arena;
}

StatsArena::StatsArena() : shards_(CpuShards::count()) {}

size_t StatsArena::chunk_bytes() const { return sizeof(ShardStats) * kSlotsPerChunk * shards_; }

ShardStats* StatsArena::allocate() {
  absl::MutexLock lock(&mu_);
  if (free_.empty()) {
    // Shard blocks start at multiples of 3072 bytes from the chunk: a 64-aligned chunk
    // keeps every block on its own lines.
    void* raw = ::operator new(chunk_bytes(), std::align_val_t(64));
    ShardStats* chunk = static_cast<ShardStats*>(raw);
    for (size_t i = 0; i < kSlotsPerChunk * shards_; ++i) new (&chunk[i]) ShardStats();
    chunks_.push_back(raw);
    for (uint32_t k = kSlotsPerChunk; k-- > 0;) free_.push_back(chunk + k);
  }
  ShardStats* slot = free_.back();
  free_.pop_back();
  return slot;
}

void StatsArena::release(ShardStats* slot) {
  for (uint32_t s = 0; s < shards_; ++s) {
    ShardStats& r = slot[s * kSlotsPerChunk];
    r.word.store(0, std::memory_order_relaxed);
    r.ewma_us.store(0, std::memory_order_relaxed);
    r.last_tick.store(0, std::memory_order_relaxed);
    for (auto& c : r.counts) c.store(0, std::memory_order_relaxed);
    r.latency_sum_us.store(0, std::memory_order_relaxed);
  }
  absl::MutexLock lock(&mu_);
  free_.push_back(slot);
}

}  // namespace ufc::internal
