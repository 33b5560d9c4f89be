// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The fuse controllers and heterogeneous shedding, fed scripted ticks.

#include "src/fusing/fuse_controller.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "src/fusing/shedding.h"

namespace ufc::internal {
namespace {

// One 100 ms tick in which `attempts` completed with the given success rate.
FuseSample tick(double offered, double attempts, double success) {
  return FuseSample{offered, attempts * success, attempts * (1 - success)};
}

// Feeds one whole seed interval (10 ticks) and returns the drop share after it.
double interval(SeedController& c, double success) {
  double d = 0;
  for (int i = 0; i < 10; ++i) d = c.update(tick(100, 100, success));
  return d;
}

TEST(SeedControllerTest, StepsUpWhileUnhealthyDownOnceHealthyThenEnds) {
  SeedController c{FusePolicy{}};
  std::vector<double> d;
  for (double success : {0.95, 0.5, 0.5, 0.5, 0.95, 0.95, 0.95, 0.95})
    d.push_back(interval(c, success));
  const std::vector<double> expected = {0, 0.1, 0.2, 0.3, 0.2, 0.1, 0, 0};
  ASSERT_EQ(d.size(), expected.size());
  for (size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(d[i], expected[i], 1e-9) << "interval " << i;
  EXPECT_FALSE(c.fusing());
}

TEST(SeedControllerTest, DropIsCappedAndActsOnlyAtIntervalBoundaries) {
  SeedController c{FusePolicy{}};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(c.update(tick(100, 100, 0.1)), 0) << "mid-interval";
  EXPECT_NEAR(c.update(tick(100, 100, 0.1)), 0.1, 1e-9);
  for (int i = 0; i < 12; ++i) interval(c, 0.1);
  EXPECT_NEAR(c.drop(), 0.95, 1e-9);
  EXPECT_TRUE(c.fusing());
}

TEST(SeedControllerTest, TooFewRequestsNeverStartFusing) {
  SeedController c{FusePolicy{}};
  for (int i = 0; i < 10; ++i) c.update(tick(1, 1, 0));  // 10 failures < min_requests 20
  EXPECT_FALSE(c.fusing());
}

// A service that can complete 800 attempts a tick (8000/s): beyond that, the excess fails.
FuseSample served(double offered, double attempts) {
  const double ok = std::min(attempts, 800.0);
  return FuseSample{offered, ok, attempts - ok};
}

TEST(AdaptiveControllerTest, ConvergesOnCapacityUnderSurgeAndStopsDroppingWhenLoadFalls) {
  FusePolicy p;
  p.controller = FuseControllerKind::kAdaptive;
  AdaptiveController c(p);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.update(served(400, 400)), 0) << "healthy: nothing";
  // 10x surge: 4000 offered a tick against a capacity of 800.
  c.update(served(4000, 4000));
  EXPECT_TRUE(c.fusing());
  for (int i = 0; i < 30; ++i) c.update(served(4000, 4000 * (1 - c.drop())));
  // It admits about the capacity: drops about 80% (the admission rate hunts around it).
  EXPECT_GT(c.drop(), 0.7);
  EXPECT_LT(c.drop(), 0.9);
  // Load falls to 400 a tick, under what it admits: nothing dropped from the next tick on.
  EXPECT_EQ(c.update(served(400, 400)), 0);
  for (int i = 0; i < 10; ++i) c.update(served(400, 400));
  EXPECT_FALSE(c.fusing()) << "a whole calm window ends it";
}

TEST(SheddingTest, CriticalLosesNothingWhenLowerClassesCoverTheDrop) {
  ClassShares mix{};
  mix[traffic_class(Priority::kCritical, false)] = 20;
  mix[traffic_class(Priority::kLow, false)] = 80;
  const ClassShares p = shed(0.5, mix);
  EXPECT_EQ(p[traffic_class(Priority::kCritical, false)], 0);
  EXPECT_NEAR(p[traffic_class(Priority::kLow, false)], 0.625, 1e-12);
}

TEST(SheddingTest, RetriesGoBeforeFirstAttemptsOfTheirPriority) {
  ClassShares mix{};
  mix[traffic_class(Priority::kNormal, false)] = 50;
  mix[traffic_class(Priority::kNormal, true)] = 10;
  mix[traffic_class(Priority::kCritical, true)] = 10;
  mix[traffic_class(Priority::kOffline, false)] = 30;
  const ClassShares p = shed(0.45, mix);  // 45 of 100: offline (30), normal retries (10), 5 normal
  EXPECT_EQ(p[traffic_class(Priority::kOffline, false)], 1);
  EXPECT_EQ(p[traffic_class(Priority::kNormal, true)], 1);
  EXPECT_NEAR(p[traffic_class(Priority::kNormal, false)], 0.1, 1e-12);
  EXPECT_EQ(p[traffic_class(Priority::kCritical, true)], 0) << "a critical retry outranks normal";
}

TEST(SheddingTest, WithNoObservedMixEveryClassDropsAlike) {
  const ClassShares p = shed(0.3, ClassShares{});
  for (double x : p) EXPECT_DOUBLE_EQ(x, 0.3);
  const ClassShares none = shed(0, ClassShares{});
  for (double x : none) EXPECT_EQ(x, 0);
}

}  // namespace
}  // namespace ufc::internal
