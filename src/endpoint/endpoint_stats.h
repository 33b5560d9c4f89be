// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/endpoint_stats.h: the per-CPU part of an endpoint's live state, and the arena
// that lays it out so that no two CPUs ever write one cache line.

#ifndef UFC_ENDPOINT_ENDPOINT_STATS_H_
#define UFC_ENDPOINT_ENDPOINT_STATS_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "src/common/coarse_clock.h"
#include "src/common/cpu_shard.h"

namespace ufc::internal {

// ShardStats: what pick and report write for one endpoint, as seen from one CPU shard.
// Every report lands in the shard its pick was taken on, so a shard is a complete view
// of the requests that CPU started: least-loaded balancing reads its own CPU's view (as
// every client process of a fleet balances on its own view), queries and detectors read
// the sum.
struct ShardStats {
  // Picks alive (holders, high half) and picks not yet reported (in flight, low half), so
  // that a pick is one atomic add. A holder keeps the endpoint's memory alive.
  std::atomic<uint64_t> word{0};
  std::atomic<float> ewma_us{0};       // latency EWMA of this shard's reports; 0 = none yet
  std::atomic<uint32_t> last_tick{0};  // CoarseTick of the latest report; 0 = none
  // Reports by class: kSuccess, kClientError ("4xx"), kServerError ("5xx"). Transport
  // failures are rare and counted on the Endpoint itself.
  std::atomic<uint64_t> counts[3] = {};
  std::atomic<uint64_t> latency_sum_us{0};

  static constexpr uint64_t kHolder = uint64_t{1} << 32;
};
static_assert(sizeof(ShardStats) == 48, "the per-endpoint, per-CPU cost");
static_assert(offsetof(ShardStats, word) == 0, "a Pick's hold word is its ShardStats");

// coarse_tick() and kCoarseTickNs, the 32-bit coarse time, are in coarse_clock.h.
// A tick age that stands for "too long ago to matter" (~26 days).
inline constexpr int64_t kLongAgoTicks = INT32_MAX;

// Ticks from `then` to `now_tick`. A tick slightly ahead of `now_tick` (another thread
// read the clock a moment later) is age 0. One far ahead means the difference wrapped: the
// shard has been silent for over 2^31 ticks (~26 days), so it is kLongAgoTicks — not
// fresh. (Past 2^32 ticks, 52 days, the age wraps again; a stale view can then pass for
// fresh for at most the idle time, once.)
inline int64_t tick_age(uint32_t then, uint32_t now_tick) {
  const int32_t d = static_cast<int32_t>(now_tick - then);
  if (d >= 0) return d;
  return d > -1024 ? 0 : kLongAgoTicks;
}
// Nanoseconds from tick `then` to `now_ns`.
inline int64_t ticks_since(uint32_t then, int64_t now_ns) {
  return tick_age(then, coarse_tick(now_ns)) * kCoarseTickNs;
}

// One shard's view, for least-loaded balancing: requests in flight, and the latency EWMA
// (0 when the shard has no report younger than the idle time).
inline uint32_t shard_inflight(const ShardStats& s) {
  return static_cast<uint32_t>(s.word.load(std::memory_order_relaxed));
}
inline int32_t idle_ticks(int64_t idle_ns) {
  return static_cast<int32_t>(std::min<int64_t>(idle_ns / kCoarseTickNs, INT32_MAX - 1));
}
// With the clock already in ticks: a policy computes coarse_tick(now) and idle_ticks()
// once, not per candidate.
inline float shard_ewma_us(const ShardStats& s, uint32_t now_tick, int32_t idle) {
  const uint32_t last = s.last_tick.load(std::memory_order_relaxed);
  if (last == 0 || tick_age(last, now_tick) > idle) return 0.0f;
  return s.ewma_us.load(std::memory_order_relaxed);
}
inline float shard_ewma_us(const ShardStats& s, int64_t now_ns, int64_t idle_ns) {
  return shard_ewma_us(s, coarse_tick(now_ns), idle_ticks(idle_ns));
}

// ShardArena: process-wide storage for per-CPU records (ShardStats, LatencyBuckets). A slot
// is one record per CPU shard; slots come in chunks of kSlotsPerChunk laid out shard-major,
// so the records one shard writes are contiguous and a shard's block is a whole number of
// cache lines: two CPUs never write one line, and an endpoint costs CpuShards::count() x
// sizeof(Record) bytes, not a cache line per CPU. Chunks are never returned to the heap
// (freed slots are reused): the arena is as large as the most endpoints alive at once.
//
// Thread-safety: allocate/release take a mutex; they run on the control path only (an
// endpoint is created by a config change and deleted by reclamation, never by pick or
// report).
template <typename Record>
class ShardArena {
 public:
  static constexpr uint32_t kSlotsPerChunk = 64;
  static_assert(kSlotsPerChunk * sizeof(Record) % 64 == 0,
                "a shard's block of records must end on a cache line");

  static ShardArena& global() {
    static ShardArena* arena = new ShardArena();  // never destroyed: endpoints outlive main()
    return *arena;
  }

  // A zeroed slot; shard s's record is slot[s * kSlotsPerChunk].
  Record* allocate() {
    absl::MutexLock lock(&mu_);
    if (free_.empty()) {
      // A 64-aligned chunk keeps every shard block on its own lines.
      void* raw = ::operator new(chunk_bytes(), std::align_val_t(64));
      Record* chunk = static_cast<Record*>(raw);
      for (size_t i = 0; i < size_t{kSlotsPerChunk} * shards_; ++i) new (&chunk[i]) Record();
      chunks_.push_back(raw);
      for (uint32_t k = kSlotsPerChunk; k-- > 0;) free_.push_back(chunk + k);
    }
    Record* slot = free_.back();
    free_.pop_back();
    return slot;
  }
  // Zeroes the slot and keeps it for reuse.
  void release(Record* slot) {
    for (uint32_t s = 0; s < shards_; ++s) {
      Record* r = &slot[s * kSlotsPerChunk];
      r->~Record();
      new (r) Record();
    }
    absl::MutexLock lock(&mu_);
    free_.push_back(slot);
  }

  size_t chunk_bytes() const { return sizeof(Record) * kSlotsPerChunk * shards_; }

 private:
  ShardArena() : shards_(CpuShards::count()) {}
  absl::Mutex mu_;
  std::vector<Record*> free_ ABSL_GUARDED_BY(mu_);
  std::vector<void*> chunks_ ABSL_GUARDED_BY(mu_);  // kept: the arena lives as long as the process
  const uint32_t shards_;
};

using StatsArena = ShardArena<ShardStats>;

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_ENDPOINT_STATS_H_
