// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/least_loaded.h"

#include "gtest/gtest.h"
#include "src/common/cpu_shard.h"
#include "tests/balancing/endpoints_fixture.h"
#include "tests/testing/seeded_random.h"

namespace ufc::internal {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kStart = 1'000'000 * kMs;

// 10 endpoints at 1000 req/s, each request reported at once: endpoint 0 answers in 30 ms,
// the rest in 10 ms. The slow one must get measurably less traffic — here, almost only
// the probes the idle reset grants it (one per 2 s).
TEST(LeastLoadedTest, SendsLessTrafficToAThreeTimesSlowerEndpoint) {
  EndpointsFixture eps = EndpointsFixture::uniform(10);
  LeastLoaded p2c(eps.candidates(), 2000 * kMs);
  testing::SeededRandom rng(11);
  std::vector<int> counts(10);
  constexpr int kPicks = 100000;
  for (int i = 0; i < kPicks; ++i) {
    const int64_t now = kStart + i * kMs;
    PickContext ctx{.random = Random(&rng), .shard = 0, .now_ns = now};
    Endpoint* e = p2c.pick(ctx);
    e->on_pick(0);
    const int idx = eps.index_of(e);
    ++counts[idx];
    e->on_report(0, OutcomeClass::kSuccess, idx == 0 ? 30000 : 10000, now);
    e->release(0, true);  // the Pick is gone
  }
  const double slow_share = counts[0] / static_cast<double>(kPicks);
  EXPECT_LT(slow_share, 0.02) << "slow endpoint got " << counts[0];
  EXPECT_GT(counts[0], 0) << "the idle reset must still probe it";
  for (int i = 1; i < 10; ++i) EXPECT_NEAR(counts[i], kPicks * 0.98 / 9, kPicks * 0.02) << i;
}

TEST(LeastLoadedTest, PrefersFewerRequestsInFlightAtEqualLatency) {
  EndpointsFixture eps = EndpointsFixture::uniform(2);
  LeastLoaded p2c(eps.candidates(), 2000 * kMs);
  for (int i = 0; i < 2; ++i) {
    eps.at(i)->on_pick(0);
    eps.at(i)->on_report(0, OutcomeClass::kSuccess, 10000, kStart);
    eps.at(i)->release(0, true);
  }
  for (int i = 0; i < 5; ++i) eps.at(0)->on_pick(0);  // five requests stuck on endpoint 0
  testing::SeededRandom rng(5);
  PickContext ctx{.random = Random(&rng), .shard = 0, .now_ns = kStart};
  for (int i = 0; i < 100; ++i) ASSERT_EQ(p2c.pick(ctx), eps.at(1));
  for (int i = 0; i < 5; ++i) eps.at(0)->release(0, false);
}

TEST(LeastLoadedTest, IdleEndpointIsTriedAgainAfterIdleReset) {
  EndpointsFixture eps = EndpointsFixture::uniform(2);
  LeastLoaded p2c(eps.candidates(), 2000 * kMs);
  eps.at(0)->on_pick(0);
  eps.at(0)->on_report(0, OutcomeClass::kSuccess, 90000, kStart);  // once very slow
  eps.at(0)->release(0, true);
  eps.at(1)->on_pick(0);
  eps.at(1)->on_report(0, OutcomeClass::kSuccess, 10000, kStart + 2500 * kMs);
  eps.at(1)->release(0, true);
  testing::SeededRandom rng(9);
  PickContext fresh{.random = Random(&rng), .shard = 0, .now_ns = kStart + 1000 * kMs};
  fresh.now_ns = kStart + 2600 * kMs;  // endpoint 0 silent for 2.6 s > 2 s
  EXPECT_EQ(p2c.pick(fresh), eps.at(0));
}

// A CPU with no fresh latency of its own borrows another CPU's view, instead of taking
// every candidate as free and rediscovering the slow one with traffic.
TEST(LeastLoadedTest, ACpuWithoutSamplesBorrowsAnotherCpusLatency) {
  ASSERT_GE(CpuShards::count(), 2u) << "balancing_test runs with UFC_CPU_SHARDS=4";
  EndpointsFixture eps = EndpointsFixture::uniform(2);
  LeastLoaded p2c(eps.candidates(), 2000 * kMs);
  for (int i = 0; i < 2; ++i) {  // shard 0 saw endpoint 0 slow, endpoint 1 fast
    eps.at(i)->on_pick(0);
    eps.at(i)->on_report(0, OutcomeClass::kSuccess, i == 0 ? 30000 : 10000, kStart);
    eps.at(i)->release(0, true);
  }
  testing::SeededRandom rng(3);
  PickContext ctx{
      .random = Random(&rng), .shard = 1, .now_ns = kStart + 10 * kMs};  // shard 1 has seen nothing
  for (int i = 0; i < 100; ++i) ASSERT_EQ(p2c.pick(ctx), eps.at(1)) << i;
  // Once every view is stale, the slow endpoint is worth a probe again.
  ctx.now_ns = kStart + 2500 * kMs;
  int slow = 0;
  for (int i = 0; i < 100; ++i) slow += p2c.pick(ctx) == eps.at(0);
  EXPECT_GT(slow, 10);
}

// A shard silent for more than 2^31 ticks (~26 days) reads as stale, not as fresh again
// when its 32-bit tick difference wraps.
TEST(LeastLoadedTest, AViewSilentForWeeksIsStaleNotFresh) {
  EndpointsFixture eps = EndpointsFixture::uniform(1);
  Endpoint* e = eps.at(0);
  e->on_pick(0);
  e->on_report(0, OutcomeClass::kSuccess, 90000, kStart);
  e->release(0, true);
  const int64_t day = 86400'000 * kMs;
  for (int64_t later : {int64_t{0}, 3 * kMs, 30 * day, 40 * day, 51 * day}) {
    const bool fresh = e->ewma_latency_us(0, kStart + later, 2000 * kMs) > 0;
    EXPECT_EQ(fresh, later <= 3 * kMs) << later / day << " days";
  }
}

TEST(LeastLoadedTest, EwmaFollowsAFreshSampleAfterSilence) {
  EndpointsFixture eps = EndpointsFixture::uniform(1);
  Endpoint* e = eps.at(0);
  auto report = [e](int64_t latency_us, int64_t now) {
    e->on_pick(0);
    e->on_report(0, OutcomeClass::kSuccess, latency_us, now);
    e->release(0, true);  // the Pick is gone
  };
  report(90000, kStart);
  report(10000, kStart + 1);  // the same instant: the minimum weight, 0.1
  EXPECT_NEAR(e->ewma_latency_us(), 90000 - 0.1 * 80000, 1);
  report(10000, kStart + 1 + 9000 * kMs);  // 9 s later the fresh sample weighs 0.9
  EXPECT_NEAR(e->ewma_latency_us(), 82000 - 0.9 * 72000, 1);
}

}  // namespace
}  // namespace ufc::internal
