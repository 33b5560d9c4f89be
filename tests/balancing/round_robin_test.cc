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
  a.thread = 0;
  b.thread = 8;
  EXPECT_EQ(eps.index_of(rr.pick(a)), 0);
  EXPECT_EQ(eps.index_of(rr.pick(b)), 8);
}

// The rotation follows the thread, not the CPU it happens to run on.
TEST(RoundRobinTest, AThreadThatMigratesBetweenCpusStillRotatesStrictly) {
  EndpointsFixture eps = EndpointsFixture::uniform(5);
  RoundRobin rr(eps.candidates());
  PickContext ctx;
  ctx.thread = 3;
  const int first = eps.index_of(rr.pick(ctx));
  for (int i = 1; i < 20; ++i) {
    ctx.shard = static_cast<uint32_t>(i % 3);  // a different CPU each time
    EXPECT_EQ(eps.index_of(rr.pick(ctx)), (first + i) % 5) << i;
  }
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
