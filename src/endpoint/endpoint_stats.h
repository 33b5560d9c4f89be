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
#include <iterator>
#include <map>
#include <new>
#include <set>

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
// sizeof(Record) bytes, not a cache line per CPU.
//
// Slots are handed out lowest chunk first, so live slots pack into few chunks; a chunk
// whose slots are all free goes back to the heap once another chunk has room (one spare is
// kept, so a service going idle and back does not churn the heap).
//
// Thread-safety: allocate/release take a mutex. They run on the control path, and on the
// first pick of a service whose endpoints hold no records (see Endpoint::activate), never
// on a pick or report of a service already in use.
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
    if (open_.empty()) {
      // A 64-aligned chunk keeps every shard block on its own lines.
      void* raw = ::operator new(chunk_bytes(), std::align_val_t(64));
      Record* chunk = static_cast<Record*>(raw);
      for (size_t i = 0; i < size_t{kSlotsPerChunk} * shards_; ++i) new (&chunk[i]) Record();
      chunks_.emplace(chunk, kAllFree);
      open_.insert(chunk);
    }
    Record* chunk = *open_.begin();
    uint64_t& free = chunks_.find(chunk)->second;
    const int k = __builtin_ctzll(free);
    free &= free - 1;
    if (free == 0) open_.erase(chunk);
    ++in_use_;
    return chunk + k;
  }
  // Zeroes the slot and takes it back; frees its chunk if that leaves the chunk empty and
  // another has room.
  void release(Record* slot) {
    for (uint32_t s = 0; s < shards_; ++s) {
      Record* r = &slot[s * kSlotsPerChunk];
      r->~Record();
      new (r) Record();
    }
    absl::MutexLock lock(&mu_);
    auto it = std::prev(chunks_.upper_bound(slot));
    Record* chunk = it->first;
    if (it->second == 0) open_.insert(chunk);
    it->second |= uint64_t{1} << (slot - chunk);
    --in_use_;
    if (it->second == kAllFree && open_.size() > 1) {
      open_.erase(chunk);
      chunks_.erase(it);
      ::operator delete(static_cast<void*>(chunk), std::align_val_t(64));
    }
  }

  size_t chunk_bytes() const { return sizeof(Record) * kSlotsPerChunk * shards_; }
  // Slots handed out and not released; chunks held (tests, benchmarks).
  size_t slots_in_use() const {
    absl::MutexLock lock(&mu_);
    return in_use_;
  }
  size_t chunks() const {
    absl::MutexLock lock(&mu_);
    return chunks_.size();
  }

 private:
  static_assert(kSlotsPerChunk == 64, "a chunk's free slots are one 64-bit mask");
  static constexpr uint64_t kAllFree = ~uint64_t{0};
  ShardArena() : shards_(CpuShards::count()) {}
  mutable absl::Mutex mu_;
  std::map<Record*, uint64_t> chunks_ ABSL_GUARDED_BY(mu_);  // chunk -> its free slots
  std::set<Record*> open_ ABSL_GUARDED_BY(mu_);              // chunks with a free slot
  size_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  const uint32_t shards_;
};

using StatsArena = ShardArena<ShardStats>;

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_ENDPOINT_STATS_H_
