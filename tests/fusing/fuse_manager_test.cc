// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The fuse manager alone, without a Client: endpoints fed by hand, the request path played
// by hand on the FuseGate, the manager's tick fired by a ManualExecutor on a SimClock.

#include "src/fusing/fuse_manager.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/manual_executor.h"

namespace ufc::internal {
namespace {

using testing::ManualExecutor;
using testing::SimClock;

constexpr int64_t kNow = SimClock::kStartNs;

class FuseManagerTest : public ::testing::Test {
 protected:
  FuseManagerTest()
      : clock_(std::make_shared<SimClock>()),
        executor_(std::make_shared<ManualExecutor>(clock_)),
        fuses_(std::make_unique<FuseManager>(FuseManager::Options{
            clock_.get(), executor_.get(), [this](const Event& e) { events_.push_back(e); }})),
        set_(std::make_shared<EndpointSet>()) {
    for (int i = 0; i < 2; ++i) {
      EndpointIdentity id;
      id.address = "10.0.0." + std::to_string(i + 1) + ":80";
      id.tags = std::make_shared<const std::vector<Tag>>();
      set_->endpoints.push_back(EndpointRef::adopt(new Endpoint(std::move(id))));
      set_->weights.push_back(1);
    }
    id_ = fuses_->add_service("svc", &gate_);
  }

  // One 100 ms tick of traffic: `n` attempts of which `ok` succeeded in transport, half
  // critical and half low priority.
  void tick(int n, int ok) {
    for (int i = 0; i < n; ++i) {
      Endpoint& e = *set_->endpoints[i % 2];
      if (gate_.fusing.load()) {
        gate_.count_demand(traffic_class(i % 2 ? Priority::kLow : Priority::kCritical, false));
      }
      e.on_pick(0);
      e.on_report(0, i < ok ? OutcomeClass::kSuccess : OutcomeClass::kConnectTimeout, 1000, kNow);
      e.release(0, true);
    }
    executor_->advance(kFuseTick);
  }

  double drop(Priority p) const {
    return std::ldexp(static_cast<double>(gate_.drop[traffic_class(p, false)].load()), -64);
  }
  size_t count(EventType type) const {
    size_t n = 0;
    for (const Event& e : events_) n += e.type == type;
    return n;
  }

  std::shared_ptr<SimClock> clock_;
  std::shared_ptr<ManualExecutor> executor_;
  std::vector<Event> events_;
  std::unique_ptr<FuseManager> fuses_;
  std::shared_ptr<EndpointSet> set_;
  FuseGate gate_;
  FuseServiceId id_;
};

TEST_F(FuseManagerTest, SeedFusesAfterAnUnhealthyIntervalShedsLowFirstAndEnds) {
  fuses_->update_service(id_, FusePolicy{}, RetryPolicy{}, 4, set_);
  for (int i = 0; i < 10; ++i) tick(100, 98);  // 98% communication success: healthy
  EXPECT_FALSE(gate_.fusing.load());
  for (int i = 0; i < 10; ++i) tick(100, 50);  // one whole interval at 50%
  ASSERT_TRUE(gate_.fusing.load());
  ASSERT_EQ(count(EventType::kFuseStart), 1u);
  EXPECT_EQ(events_[0].version, 4u);
  EXPECT_NEAR(events_[0].drop, 0.1, 1e-9);
  // The mix is unknown until a tick is spent fusing: every class drops 10% at first...
  EXPECT_NEAR(drop(Priority::kCritical), 0.1, 1e-6);
  tick(100, 50);
  // ...then the low half goes first: 10% of all is 20% of low, none of critical.
  EXPECT_NEAR(drop(Priority::kLow), 0.2, 1e-6);
  EXPECT_EQ(drop(Priority::kCritical), 0);
  EXPECT_TRUE(fuses_->stats(id_).fusing);
  EXPECT_NEAR(fuses_->stats(id_).drop, 0.1, 1e-9);
  // Healthy again: a step down per interval, then the end.
  for (int i = 0; i < 30; ++i) tick(100, 100);
  EXPECT_FALSE(gate_.fusing.load());
  EXPECT_EQ(count(EventType::kFuseEnd), 1u);
  EXPECT_EQ(drop(Priority::kLow), 0);
}

TEST_F(FuseManagerTest, RetryTokensAreTheBudgetShareOfFirstAttempts) {
  RetryPolicy share_only;
  share_only.min_per_second = 0;  // no reserve: the share alone
  fuses_->update_service(id_, FusePolicy{}, share_only, 1, set_);
  tick(100, 100);
  EXPECT_EQ(gate_.retry_tokens.load(), 10) << "10% of 100 first attempts";
  EXPECT_TRUE(gate_.take_retry_token());
  tick(100, 100);
  // 200 picks, one of them the retry: 10% of 199 first attempts, less the retry taken.
  EXPECT_EQ(gate_.retry_tokens.load(), 18);
  for (int i = 0; i < 18; ++i) EXPECT_TRUE(gate_.take_retry_token());
  EXPECT_FALSE(gate_.take_retry_token());
  EXPECT_EQ(fuses_->stats(id_).retries_refused, 1u);
}

TEST_F(FuseManagerTest, DisablingFusingWhileFusingEndsItAtTheNextTick) {
  fuses_->update_service(id_, FusePolicy{}, RetryPolicy{}, 1, set_);
  for (int i = 0; i < 10; ++i) tick(100, 10);
  ASSERT_TRUE(gate_.fusing.load());
  FusePolicy off;
  off.enabled = false;
  fuses_->update_service(id_, off, RetryPolicy{}, 2, set_);
  tick(100, 10);
  EXPECT_FALSE(gate_.fusing.load());
  ASSERT_EQ(count(EventType::kFuseEnd), 1u);
  EXPECT_EQ(events_.back().detail, "fusing disabled");
  EXPECT_EQ(events_.back().version, 2u);
}

TEST_F(FuseManagerTest, ARemovedServiceIsNoLongerTicked) {
  fuses_->update_service(id_, FusePolicy{}, RetryPolicy{}, 1, set_);
  fuses_->remove_service(id_);
  for (int i = 0; i < 10; ++i) tick(100, 10);
  EXPECT_FALSE(gate_.fusing.load());
  EXPECT_TRUE(events_.empty());
  fuses_.reset();
  EXPECT_EQ(executor_->pending(), 0u) << "the tick is cancelled";
}

// An idle service without traffic in its retry window is skipped by the ticks, with its
// reserve of retry tokens in place; in use again it is ticked (and fuses) as before.
TEST_F(FuseManagerTest, AnIdleQuietServiceIsDormantUntilItIsInUseAgain) {
  RetryPolicy retry;
  fuses_->update_service(id_, FusePolicy{}, retry, 1, set_);
  gate_.idle.store(true);  // known, never picked
  executor_->advance(kFuseTick);
  EXPECT_EQ(fuses_->dormant(), 1u);
  EXPECT_EQ(gate_.retry_tokens.load(), retry.reserve());

  gate_.idle.store(false);
  for (int i = 0; i < 20; ++i) tick(100, 100);
  EXPECT_EQ(fuses_->dormant(), 0u);
  gate_.idle.store(true);  // its records folded: the window still holds its traffic
  executor_->advance(retry.window / 2);
  EXPECT_EQ(fuses_->dormant(), 0u);
  executor_->advance(retry.window);
  EXPECT_EQ(fuses_->dormant(), 1u);
  EXPECT_EQ(gate_.retry_tokens.load(), retry.reserve());

  // In use again, and failing: it fuses as a service that was never idle would.
  gate_.idle.store(false);
  for (int i = 0; i < 30 && !gate_.fusing.load(); ++i) tick(100, 10);
  EXPECT_TRUE(gate_.fusing.load());
  EXPECT_EQ(fuses_->dormant(), 0u);
  // Idle while fusing: not dormant, so the ticks take it out of fusing.
  gate_.idle.store(true);
  for (int i = 0; i < 600 && gate_.fusing.load(); ++i) executor_->advance(kFuseTick);
  EXPECT_FALSE(gate_.fusing.load());
}

TEST_F(FuseManagerTest, SeedReportsEveryChangeOfTheDropShareInForce) {
  FusePolicy fine;
  fine.step = 0.05;  // below the 0.1 the events used to wait for
  fuses_->update_service(id_, fine, RetryPolicy{}, 1, set_);
  for (int i = 0; i < 40; ++i) tick(100, 50);  // four unhealthy intervals: 0.05 ... 0.2
  ASSERT_EQ(count(EventType::kFuseStart), 1u);
  EXPECT_EQ(count(EventType::kFuseStep), 3u) << "0.10, 0.15 and 0.20, each in force";
  EXPECT_NEAR(events_.back().drop, 0.2, 1e-9);
}

TEST_F(FuseManagerTest, AdaptivePacesWhatItAdmitsInsteadOfDrawing) {
  FusePolicy adaptive;
  adaptive.controller = FuseControllerKind::kAdaptive;
  fuses_->update_service(id_, adaptive, RetryPolicy{}, 1, set_);
  for (int i = 0; i < 10; ++i) tick(100, 100);
  EXPECT_FALSE(gate_.pacing.load());
  for (int i = 0; i < 3; ++i) tick(100, 20);
  ASSERT_TRUE(gate_.fusing.load());
  EXPECT_TRUE(gate_.pacing.load());
  EXPECT_EQ(drop(Priority::kLow), 0) << "no random draws while pacing";
  const int64_t interval = gate_.interval_ns.load();
  EXPECT_GT(interval, 0);
  EXPECT_GE(gate_.unit_ns.load(), std::max<int64_t>(interval, 2'000'000))
      << "a tolerance step is never under two ticks of pick's 1 ms clock";
  // Healthy again and the load within what it admits: pacing ends with fusing.
  for (int i = 0; i < 40 && gate_.fusing.load(); ++i) tick(10, 10);
  EXPECT_FALSE(gate_.fusing.load());
  EXPECT_FALSE(gate_.pacing.load());
}

// --- FuseGate pacing, alone ---

class FuseGatePacingTest : public ::testing::Test {
 protected:
  static constexpr int64_t kMs = 1'000'000;
  FuseGatePacingTest() {
    gate_.interval_ns.store(10 * kMs);
    gate_.unit_ns.store(10 * kMs);
    gate_.pacing.store(true);
  }
  int admitted(Priority p, int64_t now, int n) {
    int k = 0;
    for (int i = 0; i < n; ++i) k += gate_.admit_paced(static_cast<int>(p), now);
    return k;
  }
  FuseGate gate_;
};

TEST_F(FuseGatePacingTest, HigherPrioritiesRunFurtherAheadOfTheSchedule) {
  const int64_t now = 1000 * kMs;
  EXPECT_EQ(admitted(Priority::kOffline, now, 5), 1) << "offline: only an idle schedule";
  EXPECT_EQ(admitted(Priority::kLow, now, 5), 1) << "low: one interval ahead";
  EXPECT_EQ(admitted(Priority::kNormal, now, 5), 2) << "normal: three intervals ahead";
  EXPECT_EQ(admitted(Priority::kCritical, now, 5), 3) << "critical: six intervals ahead";
  EXPECT_EQ(admitted(Priority::kCritical, now, 5), 0);
  // The schedule moves on with time: 20 ms later two more critical slots are free.
  EXPECT_EQ(admitted(Priority::kCritical, now + 20 * kMs, 5), 2);
}

TEST_F(FuseGatePacingTest, AdmitsTheRateOverTimeAndGivesLowerPrioritiesOnlyWhatIsLeft) {
  // 10 s at one pick a millisecond of each: critical every 20 ms (half the paced rate of
  // 100 a second), low every millisecond (ten times it).
  int critical = 0, critical_admitted = 0, low_admitted = 0;
  for (int64_t t = 0; t < 10'000; ++t) {
    const int64_t now = 5000 * kMs + t * kMs;
    if (t % 20 == 0) {
      ++critical;
      critical_admitted += gate_.admit_paced(static_cast<int>(Priority::kCritical), now);
    }
    low_admitted += gate_.admit_paced(static_cast<int>(Priority::kLow), now);
  }
  EXPECT_EQ(critical_admitted, critical) << "critical demand within the rate: all of it";
  EXPECT_NEAR(critical_admitted + low_admitted, 1000, 3) << "the paced rate, 100 a second";
  EXPECT_NEAR(low_admitted, 500, 3) << "low: what critical leaves";
}

}  // namespace
}  // namespace ufc::internal
