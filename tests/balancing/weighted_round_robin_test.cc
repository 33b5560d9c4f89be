// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/weighted_round_robin.h"

#include "gtest/gtest.h"
#include "tests/balancing/endpoints_fixture.h"

namespace ufc::internal {
namespace {

std::vector<int> picks(const Balancer& b, const EndpointsFixture& eps, int n) {
  PickContext ctx;
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(eps.index_of(b.pick(ctx)));
  return out;
}

TEST(WeightedRoundRobinTest, ExactProportionsOverEveryFullCycle) {
  EndpointsFixture eps({1, 2, 3, 4});
  WeightedRoundRobin wrr(eps.candidates());
  const std::vector<int> seq = picks(wrr, eps, 10 * 100);
  for (int cycle = 0; cycle < 100; ++cycle) {
    std::vector<int> counts(4);
    for (int i = 0; i < 10; ++i) ++counts[seq[cycle * 10 + i]];
    EXPECT_EQ(counts, (std::vector<int>{1, 2, 3, 4})) << "cycle " << cycle;
  }
}

TEST(WeightedRoundRobinTest, ReducesIntegerWeightsByTheirGcd) {
  EndpointsFixture eps({100, 200, 300});
  WeightedRoundRobin wrr(eps.candidates());
  EXPECT_EQ(wrr.cycle_weights(), (std::vector<uint64_t>{1, 2, 3}));
  std::vector<int> counts(3);
  for (int i : picks(wrr, eps, 6)) ++counts[i];
  EXPECT_EQ(counts, (std::vector<int>{1, 2, 3}));
}

TEST(WeightedRoundRobinTest, InterleavesInsteadOfBursting) {
  // 5:1:1 — a naive WRR gives AAAAABC (a run of 5, 6 across cycles); ours staggers the
  // two light endpoints so no run, even across cycle boundaries, exceeds 3.
  EndpointsFixture eps({5, 1, 1});
  WeightedRoundRobin wrr(eps.candidates());
  const std::vector<int> seq = picks(wrr, eps, 70);
  int run = 0, longest = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    run = (i > 0 && seq[i] == seq[i - 1]) ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 3);
}

TEST(WeightedRoundRobinTest, FractionalWeightsKeepTheirRatio) {
  EndpointsFixture eps({0.5, 1.5});
  WeightedRoundRobin wrr(eps.candidates());
  const std::vector<uint64_t>& w = wrr.cycle_weights();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1], 3 * w[0]);
  std::vector<int> counts(2);
  for (int i : picks(wrr, eps, static_cast<int>(w[0] + w[1]))) ++counts[i];
  EXPECT_EQ(counts[1], 3 * counts[0]);
}

TEST(WeightedRoundRobinTest, HugeWeightSpreadIsScaledNotExploded) {
  // 1 and 1e6: exact integers would need a million-slot cycle; the cycle is capped.
  EndpointsFixture eps({1, 1000000});
  WeightedRoundRobin wrr(eps.candidates());
  const std::vector<uint64_t>& w = wrr.cycle_weights();
  EXPECT_LE(w[0] + w[1], 4096u + 2);
  EXPECT_EQ(w[0], 1u);  // a nonzero weight keeps at least one slot
}

// Long cycles are ordered by a merge per weight or a counting sort of the deadlines
// instead of a heap of endpoints: all must give the same schedule, ties included.
TEST(WeightedRoundRobinTest, FastSchedulesEqualTheExactOne) {
  std::vector<std::vector<uint64_t>> cases = {{5, 1, 1}, {1, 1, 1, 1}, {3, 2}, {7, 7, 14, 1}};
  std::vector<uint64_t> uneven, tied;
  for (int i = 0; i < 2000; ++i) uneven.push_back(1 + (i * 7919) % 100);  // cycle ~100k
  for (int i = 0; i < 3000; ++i) tied.push_back(i % 2 == 0 ? 6 : 4);
  cases.push_back(uneven);
  cases.push_back(tied);
  for (const std::vector<uint64_t>& w : cases) {
    uint64_t cycle = 0;
    for (uint64_t x : w) cycle += x;
    const std::vector<uint32_t> exact = exact_schedule(w, cycle);
    EXPECT_EQ(bucketed_schedule(w, cycle), exact) << w.size() << " weights";
    EXPECT_EQ(merged_schedule(w, cycle), exact) << w.size() << " weights";
  }
}

}  // namespace
}  // namespace ufc::internal
