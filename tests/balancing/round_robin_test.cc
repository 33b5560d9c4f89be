// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/round_robin.h"

#include "gtest/gtest.h"
#include "src/balancing/random_choice.h"
#include "tests/balancing/endpoints_fixture.h"
#include "tests/testing/seeded_random.h"

namespace ufc::internal {
namespace {

TEST(RoundRobinTest, VisitsEveryEndpointOncePerCycleInOrder) {
  EndpointsFixture eps = EndpointsFixture::uniform(4);
  RoundRobin rr(eps.candidates());
  PickContext ctx;
  ctx.shard = 0;
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) order.push_back(eps.index_of(rr.pick(ctx)));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3}));
}

TEST(RoundRobinTest, ShardsStartSpreadSoThreadsDoNotMarchInStep) {
  EndpointsFixture eps = EndpointsFixture::uniform(16);
  RoundRobin rr(eps.candidates());
  PickContext a, b;
  a.shard = 0;
  b.shard = 8;
  EXPECT_EQ(eps.index_of(rr.pick(a)), 0);
  EXPECT_EQ(eps.index_of(rr.pick(b)), 8);
}

TEST(RandomChoiceTest, CoversAllEndpointsRoughlyEvenly) {
  EndpointsFixture eps = EndpointsFixture::uniform(5);
  RandomChoice random(eps.candidates());
  testing::SeededRandom rng(7);
  PickContext ctx{Random(&rng)};
  std::vector<int> counts(5);
  for (int i = 0; i < 50000; ++i) ++counts[eps.index_of(random.pick(ctx))];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

}  // namespace
}  // namespace ufc::internal
