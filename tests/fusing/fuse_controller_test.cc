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
  // The fall is seen over AdaptiveController::kCalmTicks (3) ticks; then a whole calm
  // window (10 ticks) ends fusing.
  for (int i = 0; i < 11; ++i) c.update(served(400, 400));
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

// --- No latch, ever (properties on simulated ticks) ---

// A service that answers `capacity` attempts a tick in `base_us` each and times out
// (`timeout_us`) on the rest, or, while `down`, times out on everything.
struct ModelService {
  double capacity = 100;
  double base_us = 20000;
  double timeout_us = 40000;
  FuseSample serve(double offered, double drop, bool down) const {
    const double admitted = offered * (1 - drop);
    const double ok = down ? 0 : std::min(admitted, capacity);
    const double failed = admitted - ok;
    return FuseSample{offered, ok, failed, ok * base_us + failed * timeout_us};
  }
};

FusePolicy adaptive_policy() {
  FusePolicy p;
  p.controller = FuseControllerKind::kAdaptive;
  p.attempt_timeout = absl::Milliseconds(40);
  return p;
}

TEST(AdaptiveControllerTest,
     AfterAnOutageOfAnyLengthAHealthyServiceDropsNothingWithinThreeSeconds) {
  const ModelService service;
  for (double outage_s : {0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0}) {
    AdaptiveController c(adaptive_policy());
    const double offered = 50;  // half the capacity, a tick
    double d = 0;
    for (int i = 0; i < 50; ++i) d = c.update(service.serve(offered, d, false));
    const int outage_ticks = static_cast<int>(outage_s * 10);
    for (int i = 0; i < outage_ticks; ++i) d = c.update(service.serve(offered, d, true));
    EXPECT_TRUE(c.fusing()) << "outage " << outage_s << " s";
    int recovered_after = -1;
    int at_max_with_full_success = 0;
    for (int i = 0; i < 30 && recovered_after < 0; ++i) {
      const FuseSample s = service.serve(offered, d, false);
      if (d >= c.drop() && d >= 0.95 - 1e-9 && s.failed == 0) ++at_max_with_full_success;
      d = c.update(s);
      if (!c.fusing() && d == 0) recovered_after = i + 1;
    }
    EXPECT_GT(recovered_after, 0) << "outage " << outage_s << " s: still fusing after 3 s";
    EXPECT_LE(at_max_with_full_success, 1) << "outage " << outage_s << " s";
  }
}

TEST(AdaptiveControllerTest, AServiceThatAnswersNothingForAMinuteNeverTakesTheRateToZero) {
  const ModelService service;
  AdaptiveController c(adaptive_policy());
  double d = 0;
  for (int i = 0; i < 20; ++i) d = c.update(service.serve(50, d, false));
  for (int i = 0; i < 600; ++i) {
    d = c.update(service.serve(50, d, true));
    // The floor: what max_drop leaves (5% of 500/s) and min_requests a window (20/s).
    if (c.fusing()) {
      EXPECT_GE(c.admit_rate(), 20 - 1e-9) << "tick " << i;
    }
  }
  EXPECT_LE(d, 0.95 + 1e-12);
}

TEST(AdaptiveControllerTest, UnderATenfoldSurgeItAdmitsAboutTheCapacityAndEndsWhenLoadFalls) {
  const ModelService service;  // 100 a tick: 1000/s
  AdaptiveController c(adaptive_policy());
  double d = 0;
  for (int i = 0; i < 20; ++i) d = c.update(service.serve(50, d, false));
  double ok = 0, admitted = 0;
  for (int i = 0; i < 300; ++i) {
    const FuseSample s = service.serve(1000, d, false);
    if (i >= 50) ok += s.ok, admitted += s.ok + s.failed;
    d = c.update(s);
  }
  EXPECT_TRUE(c.fusing());
  EXPECT_GT(ok / 250, 80) << "goodput, a tick, of a capacity of 100";
  EXPECT_GT(ok / admitted, 0.95) << "what it admits, the service answers";
  for (int i = 0; i < 25 && c.fusing(); ++i) d = c.update(service.serve(50, d, false));
  EXPECT_FALSE(c.fusing()) << "load back at half the capacity: fusing ends within 2.5 s";
  EXPECT_EQ(d, 0);
}

TEST(SeedControllerTest, AfterAnOutageOfAnyLengthItStepsBackDownToZero) {
  const ModelService service;
  for (double outage_s : {0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0}) {
    SeedController c{FusePolicy{}};
    double d = 0;
    for (int i = 0; i < 20; ++i) d = c.update(service.serve(50, d, false));
    for (int i = 0; i < static_cast<int>(outage_s * 10); ++i)
      d = c.update(service.serve(50, d, true));
    // Healthy again: at most max_drop / step intervals of 1 s down to 0.
    for (int i = 0; i < 110 && c.fusing(); ++i) d = c.update(service.serve(50, d, false));
    EXPECT_FALSE(c.fusing()) << "outage " << outage_s << " s";
    EXPECT_EQ(d, 0);
  }
}

TEST(SeedControllerTest, TooFewRequestsToJudgeNeitherStepsDownOnFailuresNorLatchesOnSuccesses) {
  // At max_drop on a quiet service (2 requests a tick offered, 0.1 admitted).
  SeedController c{FusePolicy{}};
  for (int i = 0; i < 200; ++i) c.update(tick(100, 100, 0));
  ASSERT_NEAR(c.drop(), 0.95, 1e-9);
  // Every attempt still fails, but there are too few to measure: hold, don't step down.
  for (int i = 0; i < 300; ++i) c.update(FuseSample{2, 0, 0.1});
  EXPECT_NEAR(c.drop(), 0.95, 1e-9) << "0% success is no reason to step down";
  // Every attempt succeeds, still too few to measure: after the extension, step down, and
  // on to the end.
  for (int i = 0; i < 10 * 11 * 10 && c.fusing(); ++i)
    c.update(FuseSample{2, 2 * (1 - c.drop()), 0});
  EXPECT_FALSE(c.fusing()) << "never stuck at max_drop with a 100% success rate";
}

}  // namespace
}  // namespace ufc::internal
