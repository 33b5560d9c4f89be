// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/weighted_round_robin.h: "weighted_round_robin" — a precomputed, smooth,
// exact weighted schedule.

#ifndef UFC_BALANCING_WEIGHTED_ROUND_ROBIN_H_
#define UFC_BALANCING_WEIGHTED_ROUND_ROBIN_H_

#include <cstdint>
#include <vector>

#include "src/balancing/balancer.h"
#include "src/balancing/sharded_cursor.h"

namespace ufc::internal {

// WeightedRoundRobin: walks a schedule built at config time by earliest-deadline-first
// stride scheduling (Waldspurger & Weihl, "Stride scheduling", 1995): endpoint i's k-th
// slot has virtual deadline (k + phase_i) / w_i, and the schedule lists slots in deadline
// order. Over one cycle of sum(w) picks endpoint i appears exactly w_i times, interleaved
// like nginx's smooth WRR, yet a pick is O(1) instead of O(n).
//
// Weights are used exactly when they are integers whose sum (after dividing by their
// gcd) is at most max(4096, 64 x endpoints); otherwise they are scaled to that cycle
// length and rounded (nonzero weights stay >= 1), so shares are exact to about
// 1/cycle. Memory: 4 bytes per schedule slot.
class WeightedRoundRobin final : public Balancer {
 public:
  explicit WeightedRoundRobin(absl::Span<const WeightedEndpoint> endpoints);
  Endpoint* pick(const PickContext& context) const override {
    return pick_by_cursor(context.thread);
  }
  size_t memory_bytes() const override {
    return endpoints_.capacity() * sizeof(Endpoint*) + schedule_.capacity() * sizeof(uint32_t);
  }

  // The integer weights in use (after reduction or scaling), for tests.
  const std::vector<uint64_t>& cycle_weights() const { return weights_; }

 private:
  std::vector<Endpoint*> endpoints_;
  std::vector<uint64_t> weights_;
  std::vector<uint32_t> schedule_;
  ShardedCursor cursor_;
};

// Exposed for tests: the integer weights WeightedRoundRobin uses for `weights`.
std::vector<uint64_t> integer_cycle_weights(absl::Span<const double> weights);

// The schedule of integer weights `w` (cycle = their sum), the three ways it is built: by
// a heap of endpoints (cycles up to 65,536), by merging one sequence per distinct weight
// (longer cycles, up to 4,096 distinct weights), and by a counting sort of the deadlines.
// Exposed for tests, which check that they agree.
std::vector<uint32_t> exact_schedule(const std::vector<uint64_t>& w, uint64_t cycle);
std::vector<uint32_t> merged_schedule(const std::vector<uint64_t>& w, uint64_t cycle);
std::vector<uint32_t> bucketed_schedule(const std::vector<uint64_t>& w, uint64_t cycle);

}  // namespace ufc::internal

#endif  // UFC_BALANCING_WEIGHTED_ROUND_ROBIN_H_
