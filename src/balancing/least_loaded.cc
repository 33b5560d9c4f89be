// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/least_loaded.h"

#include <algorithm>

#include "src/balancing/policy_registry.h"
#include "src/common/cpu_shard.h"
#include "src/config/field_checks.h"

namespace ufc::internal {

LeastLoaded::LeastLoaded(absl::Span<const WeightedEndpoint> endpoints, int64_t idle_reset_ns)
    : idle_reset_ticks_(idle_ticks(idle_reset_ns)) {
  double max_weight = 0;
  for (const WeightedEndpoint& e : endpoints) max_weight = std::max(max_weight, e.weight);
  candidates_.reserve(endpoints.size());
  for (const WeightedEndpoint& e : endpoints) {
    candidates_.push_back(Candidate{e.endpoint, static_cast<float>(max_weight / e.weight)});
  }
}

float LeastLoaded::borrowed_latency(const ShardStats* stats, uint32_t shard,
                                    uint32_t now_tick) const {
  float latency = 0;
  int64_t youngest = kLongAgoTicks;
  const uint32_t shards = CpuShards::count();
  for (uint32_t s = 0; s < shards; ++s) {
    if (s == shard) continue;
    const ShardStats& other = stats[s * StatsArena::kSlotsPerChunk];
    const uint32_t last = other.last_tick.load(std::memory_order_relaxed);
    if (last == 0) continue;
    const int64_t age = tick_age(last, now_tick);
    if (age > idle_reset_ticks_ || age >= youngest) continue;  // stale, or not the freshest
    const float e = other.ewma_us.load(std::memory_order_relaxed);
    if (e > 0) {
      latency = e;
      youngest = age;
    }
  }
  return latency;
}

inline float LeastLoaded::cost(const Candidate& c, const ShardStats* stats, uint32_t shard,
                               uint32_t now_tick) const {
  const ShardStats& s = stats[shard * StatsArena::kSlotsPerChunk];
  float latency = shard_ewma_us(s, now_tick, idle_reset_ticks_);
  // No fresh sample on this CPU (start-up, a new endpoint, a CPU that has not used it
  // lately): borrow the freshest other CPU's, so that every CPU does not rediscover a
  // slow endpoint by sending it traffic. Rare in steady state, so the remote reads are.
  if (__builtin_expect(latency == 0, 0)) latency = borrowed_latency(stats, shard, now_tick);
  return static_cast<float>(shard_inflight(s) + 1) * latency * c.inverse_weight;
}

Endpoint* LeastLoaded::pick(const PickContext& context) const {
  const uint32_t n = static_cast<uint32_t>(candidates_.size());
  if (n == 1) return candidates_[0].endpoint;
  // One 64-bit draw gives both choices: its halves are independent 32-bit values, and
  // multiply-shift maps each onto its range (bias < n / 2^32).
  const uint64_t r = context.random.next();
  const uint32_t i = static_cast<uint32_t>((uint64_t{static_cast<uint32_t>(r)} * n) >> 32);
  uint32_t j = static_cast<uint32_t>(((r >> 32) * (n - 1)) >> 32);  // then skip i: distinct
  if (j >= i) ++j;
  const Candidate& a = candidates_[i];
  const Candidate& b = candidates_[j];
  // The records are read through the endpoints (they get them at their service's first
  // pick): the chosen one's line is read next anyway, for its admission word.
  const ShardStats* sa = a.endpoint->stats_base();
  const ShardStats* sb = b.endpoint->stats_base();
  const uint32_t now_tick = coarse_tick(context.now_ns);
  const float ca = cost(a, sa, context.shard, now_tick);
  const float cb = cost(b, sb, context.shard, now_tick);
  if (ca != cb) return ca < cb ? a.endpoint : b.endpoint;
  const uint32_t off = context.shard * StatsArena::kSlotsPerChunk;
  return shard_inflight(sa[off]) <= shard_inflight(sb[off]) ? a.endpoint : b.endpoint;
}

namespace {
constexpr absl::Duration kDefaultIdleReset = absl::Seconds(2);
}  // namespace

extern const BalancingPolicy kLeastLoadedPolicy = {
    "least_loaded", "least_loaded", [](const v1::Balancing& b) { return b.has_least_loaded(); },
    [](const v1::Balancing& b, ValidationErrors& errors) {
      if (b.least_loaded().has_idle_reset()) {
        check_duration(errors, "idle_reset", b.least_loaded().idle_reset(), absl::Milliseconds(10),
                       absl::Hours(1));
      }
    },
    [](const v1::Balancing& params,
       absl::Span<const WeightedEndpoint> endpoints) -> std::unique_ptr<Balancer> {
      absl::Duration idle = kDefaultIdleReset;
      if (params.least_loaded().has_idle_reset()) {
        idle = to_duration(params.least_loaded().idle_reset()).value_or(idle);
      }
      return std::make_unique<LeastLoaded>(endpoints, absl::ToInt64Nanoseconds(idle));
    }};

}  // namespace ufc::internal
