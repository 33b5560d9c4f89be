// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/weighted_random.h"

#include <cmath>

#include "gtest/gtest.h"
#include "tests/balancing/endpoints_fixture.h"
#include "tests/testing/seeded_random.h"

namespace ufc::internal {
namespace {

TEST(WeightedRandomTest, SharesWithinTwoPercentOver100kPicks) {
  EndpointsFixture eps({2, 3, 5});
  WeightedRandom wr(eps.candidates());
  testing::SeededRandom rng(2026);
  PickContext ctx{Random(&rng)};
  std::vector<int> counts(3);
  constexpr int kPicks = 100000;
  for (int i = 0; i < kPicks; ++i) ++counts[eps.index_of(wr.pick(ctx))];
  const double expected[] = {0.2, 0.3, 0.5};
  for (int i = 0; i < 3; ++i) {
    const double share = counts[i] / static_cast<double>(kPicks);
    EXPECT_NEAR(share / expected[i], 1.0, 0.02) << "endpoint " << i << " share " << share;
  }
}

TEST(WeightedRandomTest, ManySkewedWeightsStayProportional) {
  // 200 endpoints with weights 1..200: the total share of the top half must be
  // sum(101..200)/sum(1..200) = 15050/20100.
  std::vector<double> weights;
  for (int i = 1; i <= 200; ++i) weights.push_back(i);
  EndpointsFixture eps(weights);
  WeightedRandom wr(eps.candidates());
  testing::SeededRandom rng(1);
  PickContext ctx{Random(&rng)};
  int top = 0;
  constexpr int kPicks = 200000;
  for (int i = 0; i < kPicks; ++i) top += eps.index_of(wr.pick(ctx)) >= 100;
  EXPECT_NEAR(top / static_cast<double>(kPicks), 15050.0 / 20100.0, 0.005);
}

TEST(WeightedRandomTest, SingleEndpointAlwaysWins) {
  EndpointsFixture eps({3});
  WeightedRandom wr(eps.candidates());
  testing::SeededRandom rng(3);
  PickContext ctx{Random(&rng)};
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(wr.pick(ctx), eps.at(0));
}

}  // namespace
}  // namespace ufc::internal
