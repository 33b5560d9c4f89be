// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/weighted_round_robin.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>

#include "src/balancing/policy_registry.h"

namespace ufc::internal {
namespace {

uint64_t max_cycle(size_t n) { return std::max<uint64_t>(4096, 64 * uint64_t{n}); }

std::vector<uint32_t> build_schedule(const std::vector<uint64_t>& w) {
  const uint64_t cycle = std::accumulate(w.begin(), w.end(), uint64_t{0});
  const uint64_t n = w.size();
  // Endpoint i's k-th slot has virtual deadline (k + phase_i) / w_i with phase_i =
  // (2i + 1) / 2n: staggered phases keep equal-weight endpoints from falling due together
  // (5:1:1 gives AAABAAC, not AAAAABC). Every phase is in (0, 1), so exactly w_i deadlines
  // fall in [0, 1): each cycle of sum(w) picks is exact. Deadlines are compared exactly,
  // as (2nk + 2i + 1) / (2n w_i), by cross-multiplication in 128 bits.
  struct Slot {
    uint64_t k;
    uint32_t i;
  };
  auto later = [&w, n](const Slot& a, const Slot& b) {
    using u128 = unsigned __int128;
    const u128 lhs = u128{2 * n * a.k + 2 * a.i + 1} * w[b.i];
    const u128 rhs = u128{2 * n * b.k + 2 * b.i + 1} * w[a.i];
    return lhs != rhs ? lhs > rhs : a.i > b.i;
  };
  std::priority_queue<Slot, std::vector<Slot>, decltype(later)> heap(later);
  for (uint32_t i = 0; i < n; ++i) heap.push(Slot{0, i});
  std::vector<uint32_t> schedule;
  schedule.reserve(cycle);
  while (schedule.size() < cycle) {
    Slot s = heap.top();
    heap.pop();
    schedule.push_back(s.i);
    ++s.k;
    heap.push(s);
  }
  return schedule;
}

}  // namespace

std::vector<uint64_t> integer_cycle_weights(absl::Span<const double> weights) {
  const uint64_t limit = max_cycle(weights.size());
  bool integral = true;
  double sum = 0;
  for (double w : weights) {
    integral = integral && w == std::floor(w) && w <= 1e9;
    sum += w;
  }
  std::vector<uint64_t> out(weights.size());
  if (integral) {
    uint64_t g = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      out[i] = static_cast<uint64_t>(weights[i]);
      g = std::gcd(g, out[i]);
    }
    uint64_t total = 0;
    for (uint64_t& w : out) total += (w /= g);
    if (total <= limit) return out;
  }
  // Scale so the cycle is about `limit` long; nonzero weights keep at least one slot.
  // (Validated weights are in [1e-6, 1e6], so `scale` is finite and each product is at
  // most `limit`; the clamp is a second line of defence for direct callers.)
  const double scale = static_cast<double>(limit) / sum;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double scaled = std::min(weights[i] * scale, static_cast<double>(limit));
    out[i] = std::max<uint64_t>(
        1, std::isfinite(scaled) ? static_cast<uint64_t>(std::llround(scaled)) : 1);
  }
  return out;
}

WeightedRoundRobin::WeightedRoundRobin(absl::Span<const WeightedEndpoint> endpoints)
    // The cursor's period is the schedule's length, so the schedule is built while the
    // cursor is initialized (endpoints_, weights_ and schedule_ are declared before it).
    : cursor_([&] {
        std::vector<double> w;
        for (const WeightedEndpoint& e : endpoints) w.push_back(e.weight);
        weights_ = integer_cycle_weights(w);
        schedule_ = build_schedule(weights_);
        return static_cast<uint32_t>(schedule_.size());
      }()) {
  endpoints_.reserve(endpoints.size());
  for (const WeightedEndpoint& e : endpoints) endpoints_.push_back(e.endpoint);
}

extern const BalancingPolicy kWeightedRoundRobinPolicy = {
    "weighted_round_robin", "", nullptr, nullptr,
    [](const v1::Balancing&, absl::Span<const WeightedEndpoint> endpoints)
        -> std::unique_ptr<Balancer> { return std::make_unique<WeightedRoundRobin>(endpoints); }};

}  // namespace ufc::internal
