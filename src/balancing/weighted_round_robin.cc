// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/weighted_round_robin.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>

#include "src/balancing/policy_registry.h"

namespace ufc::internal {
namespace {

uint64_t max_cycle(size_t n) { return std::max<uint64_t>(4096, 64 * uint64_t{n}); }

// Endpoint i's k-th slot has virtual deadline (k + phase_i) / w_i with phase_i =
// (2i + 1) / 2n: staggered phases keep equal-weight endpoints from falling due together
// (5:1:1 gives AAABAAC, not AAAAABC). Every phase is in (0, 1), so exactly w_i deadlines
// fall in [0, 1): each cycle of sum(w) picks is exact.
//
// Short cycles are ordered exactly, comparing (2nk + 2i + 1) / (2n w_i) by
// cross-multiplication in 128 bits, through a heap: O(cycle log n).
}  // namespace

std::vector<uint32_t> exact_schedule(const std::vector<uint64_t>& w, uint64_t cycle) {
  const uint64_t n = w.size();
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

// Long cycles (100,000 endpoints make cycles of millions) with few distinct weights are a
// merge of one sequence per weight, through a timing wheel: O(cycle).
// With many distinct weights they are ordered in O(cycle): each
// deadline, as a double, falls into one of `cycle` equal buckets of [0, 1) (a counting
// sort), and the rare buckets holding several are sorted by (deadline, i). The double
// division is correctly rounded, so equal deadlines stay equal; deadlines closer than
// 2^-52 apart may swap, which no share can notice. Memory: two arrays of the cycle.
std::vector<uint32_t> bucketed_schedule(const std::vector<uint64_t>& w, uint64_t cycle) {
  const uint32_t n = static_cast<uint32_t>(w.size());
  const double two_n = 2.0 * n;
  auto deadline = [&](uint32_t i, uint64_t k) {
    return (two_n * static_cast<double>(k) + 2.0 * i + 1.0) / (two_n * static_cast<double>(w[i]));
  };
  auto bucket = [&](double d) {
    const uint64_t b = static_cast<uint64_t>(d * static_cast<double>(cycle));
    return b < cycle ? b : cycle - 1;
  };
  std::vector<uint32_t> end(cycle + 1, 0);  // first the counts, shifted by one
  for (uint32_t i = 0; i < n; ++i) {
    for (uint64_t k = 0; k < w[i]; ++k) ++end[bucket(deadline(i, k)) + 1];
  }
  for (uint64_t b = 1; b <= cycle; ++b) end[b] += end[b - 1];  // end[b]: where bucket b begins
  std::vector<uint32_t> schedule(cycle);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint64_t k = 0; k < w[i]; ++k) schedule[end[bucket(deadline(i, k))]++] = i;
  }
  // Now end[b] is where bucket b ends. Within a bucket, slots are in endpoint order.
  std::vector<std::pair<double, uint32_t>> tied;
  for (uint64_t b = 0, begin = 0; b < cycle; begin = end[b], ++b) {
    if (end[b] - begin < 2) continue;
    tied.clear();
    for (uint64_t j = begin; j < end[b]; ++j) {
      const uint32_t i = schedule[j];
      // The k of endpoint i's slot in bucket b (near b w_i / cycle).
      uint64_t k = static_cast<uint64_t>(static_cast<double>(b) * static_cast<double>(w[i]) /
                                         static_cast<double>(cycle));
      k = std::min(k, w[i] - 1);
      while (k > 0 && bucket(deadline(i, k)) > b) --k;
      while (k + 1 < w[i] && bucket(deadline(i, k)) < b) ++k;
      tied.emplace_back(deadline(i, k), i);
    }
    std::sort(tied.begin(), tied.end());
    for (size_t t = 0; t < tied.size(); ++t) schedule[begin + t] = tied[t].second;
  }
  return schedule;
}

std::vector<uint32_t> merged_schedule(const std::vector<uint64_t>& w, uint64_t cycle) {
  const uint64_t n = w.size();
  // Endpoints of one weight fall due in endpoint order, round after round: (k + phase_i)
  // / w grows with i for a fixed k, and the last of round k precedes the first of k + 1.
  std::map<uint64_t, std::vector<uint32_t>> by_weight;
  for (uint32_t i = 0; i < n; ++i) by_weight[w[i]].push_back(i);
  // Heads compare by their deadline as a double (see bucketed_schedule for why that is
  // safe), then by endpoint: a heap step is a few compares of 16-byte entries.
  struct Head {
    double deadline;
    uint32_t i;
    uint32_t cls;
  };
  auto later = [](const Head& a, const Head& b) {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.i > b.i;
  };
  struct Class {
    const std::vector<uint32_t>* members;
    uint64_t weight;
    uint64_t k = 0;
    size_t next = 0;
  };
  std::vector<Class> classes;
  for (const auto& [weight, members] : by_weight) {
    if (weight > 0) classes.push_back(Class{&members, weight});
  }
  const double two_n = 2.0 * static_cast<double>(n);
  auto head_of = [&](uint32_t c) {
    const Class& cl = classes[c];
    const uint32_t i = (*cl.members)[cl.next];
    const double d = (two_n * static_cast<double>(cl.k) + 2.0 * i + 1.0) /
                     (two_n * static_cast<double>(cl.weight));
    return Head{d, i, c};
  };
  // A timing wheel of `cycle` buckets over [0, 1): each class waits in the bucket of its
  // head's deadline. A class's next deadline is never earlier than its last, and mostly a
  // few buckets later, so the wheel is walked once, front to back, touching memory near
  // the walk: O(cycle + slots), where a heap of the classes cost a sift per slot.
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<Head> head(classes.size());
  std::vector<uint32_t> first(cycle, kNone), next_in_bucket(classes.size(), kNone);
  auto bucket_of = [cycle](double d) {
    const uint64_t b = static_cast<uint64_t>(d * static_cast<double>(cycle));
    return b < cycle ? b : cycle - 1;
  };
  auto park = [&](uint32_t c, uint64_t not_before) {
    head[c] = head_of(c);
    const uint64_t b = std::max(bucket_of(head[c].deadline), not_before);
    next_in_bucket[c] = static_cast<uint32_t>(first[b]);
    first[b] = c;
  };
  for (uint32_t c = 0; c < classes.size(); ++c) park(c, 0);
  std::vector<uint32_t> schedule;
  schedule.reserve(cycle);
  for (uint64_t b = 0; b < cycle; ++b) {
    while (first[b] != kNone) {
      // The earliest head in the bucket (buckets hold one or two).
      uint32_t* best = &first[b];
      for (uint32_t* at = &next_in_bucket[first[b]]; *at != kNone; at = &next_in_bucket[*at]) {
        if (later(head[*best], head[*at])) best = at;
      }
      const uint32_t c = *best;
      *best = next_in_bucket[c];  // unlink
      schedule.push_back(head[c].i);
      Class& cl = classes[c];
      if (++cl.next == cl.members->size()) cl.next = 0, ++cl.k;
      if (cl.k < cl.weight) park(c, b);  // else the class's slots are all placed
    }
  }
  return schedule;
}

namespace {

std::vector<uint32_t> build_schedule(const std::vector<uint64_t>& w) {
  const uint64_t cycle = std::accumulate(w.begin(), w.end(), uint64_t{0});
  constexpr uint64_t kExactCycle = 1 << 16;
  constexpr size_t kMergedWeights = 4096;
  if (cycle <= kExactCycle) return exact_schedule(w, cycle);
  std::vector<uint64_t> distinct(w.begin(), w.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  return distinct.size() <= kMergedWeights ? merged_schedule(w, cycle)
                                           : bucketed_schedule(w, cycle);
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
  show_cursor(&cursor_, endpoints_.data(), schedule_.data());
}

extern const BalancingPolicy kWeightedRoundRobinPolicy = {
    "weighted_round_robin", "", nullptr, nullptr,
    [](const v1::Balancing&, absl::Span<const WeightedEndpoint> endpoints)
        -> std::unique_ptr<Balancer> { return std::make_unique<WeightedRoundRobin>(endpoints); }};

}  // namespace ufc::internal
