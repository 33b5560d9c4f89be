// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/outlier_detector.h"

#include "gtest/gtest.h"
#include "src/endpoint/failure_window.h"

namespace ufc::internal {
namespace {

std::vector<IntervalSample> fleet(int n, uint64_t requests, uint64_t c4, uint64_t c5,
                                  double latency_ms) {
  return std::vector<IntervalSample>(
      n, IntervalSample{requests, c4, c5, requests * latency_ms * 1000});
}

TEST(OutlierDetectorTest, AllFourOhFourBackendAmongLowErrorPeersIsAnOutlier) {
  std::vector<IntervalSample> s = fleet(10, 1000, 30, 0, 10);
  s[2] = IntervalSample{1000, 1000, 0, 1000 * 10000.0};
  const std::vector<Outlier> out = find_outliers(s, BanPolicy{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].index, 2u);
  EXPECT_EQ(out[0].reason, "4xx share 100.0% vs peers 3.0%");
}

TEST(OutlierDetectorTest, ServiceWideErrorsAreNobodysFault) {
  // Everyone at 60% 5xx: each is at the mean of the others, not 5x above it.
  const std::vector<IntervalSample> s = fleet(10, 1000, 0, 600, 10);
  EXPECT_TRUE(find_outliers(s, BanPolicy{}).empty());
}

TEST(OutlierDetectorTest, ShareBelowMinShareIsNotEnoughEvenIfFarAboveMean) {
  // 40% 5xx against peers at 1%: 40x the mean, but under min_share 50%.
  std::vector<IntervalSample> s = fleet(5, 1000, 0, 10, 10);
  s[0].status_5xx = 400;
  EXPECT_TRUE(find_outliers(s, BanPolicy{}).empty());
}

TEST(OutlierDetectorTest, SlowBackendNeedsBothFactorAndFloor) {
  std::vector<IntervalSample> s = fleet(10, 1000, 0, 0, 20);
  s[7].latency_sum_us = 1000 * 80 * 1000.0;  // 80 ms vs 20: 4x and 60 ms above
  std::vector<Outlier> out = find_outliers(s, BanPolicy{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].index, 7u);
  EXPECT_EQ(out[0].reason, "latency 80.0 ms vs peers 20.0 ms");

  // 3 ms vs 1 ms: 3x, but only 2 ms above the peers, under the 50 ms floor.
  std::vector<IntervalSample> fast = fleet(10, 1000, 0, 0, 1);
  fast[7].latency_sum_us = 1000 * 3 * 1000.0;
  EXPECT_TRUE(find_outliers(fast, BanPolicy{}).empty());
}

TEST(OutlierDetectorTest, BackendsWithTooFewRequestsAreNeitherJudgedNorPeers) {
  std::vector<IntervalSample> s = fleet(3, 1000, 0, 0, 10);
  s[0] = IntervalSample{5, 5, 0, 50000};  // 100% 4xx but only 5 requests (< 20)
  EXPECT_TRUE(find_outliers(s, BanPolicy{}).empty());
  s.resize(2);
  s[1] = IntervalSample{5, 0, 0, 50000};
  // One eligible backend left: nobody to compare with.
  s[0] = IntervalSample{1000, 1000, 0, 1e7};
  EXPECT_TRUE(find_outliers(s, BanPolicy{}).empty());
}

TEST(OutlierDetectorTest, EachSignalCanBeTurnedOff) {
  std::vector<IntervalSample> s = fleet(4, 1000, 0, 0, 20);
  s[0].status_4xx = 1000;
  s[1].status_5xx = 1000;
  s[2].latency_sum_us = 1000 * 200 * 1000.0;
  BanPolicy p;
  EXPECT_EQ(find_outliers(s, p).size(), 3u);
  p.status_4xx = false;
  p.status_5xx = false;
  p.latency = false;
  EXPECT_TRUE(find_outliers(s, p).empty());
}

// --- Severity: one scale for every detector ---

TEST(OutlierDetectorTest, SeverityRanksTheWorstFirstWhateverTheSignal) {
  // The nginx-like four: always-404, 60% 5xx, 250 ms slow, against clean 2 ms peers.
  std::vector<IntervalSample> s = fleet(6, 1000, 0, 0, 2);
  s[1] = IntervalSample{1000, 0, 600, 1000 * 2000.0};   // 60% 5xx
  s[3] = IntervalSample{1000, 0, 0, 1000 * 250000.0};   // 250 ms
  s[4] = IntervalSample{1000, 1000, 0, 1000 * 1000.0};  // 100% 404
  const std::vector<Outlier> out = find_outliers(s, BanPolicy{});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].index, 4u);
  EXPECT_NEAR(out[0].severity, 1.0, 1e-9);  // 100% vs peers 0%
  EXPECT_EQ(out[1].index, 3u);
  EXPECT_GT(out[1].severity, 0.9);  // (250 - peers' mean) / 250
  EXPECT_EQ(out[2].index, 1u);
  EXPECT_NEAR(out[2].severity, 0.6, 1e-9);
}

TEST(OutlierDetectorTest, TheMostSevereSignalIsTheOneReported) {
  std::vector<IntervalSample> s = fleet(5, 1000, 0, 0, 10);
  s[0] = IntervalSample{1000, 0, 550, 1000 * 500000.0};  // 55% 5xx, and 500 ms
  const std::vector<Outlier> out = find_outliers(s, BanPolicy{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].reason, "latency 500.0 ms vs peers 10.0 ms");
  EXPECT_NEAR(out[0].severity, 0.98, 1e-9);
}

TEST(OutlierDetectorTest, ZeroLatencyEverywhereIsNotALatencyOutlier) {
  BanPolicy p;
  p.latency_floor = absl::ZeroDuration();
  EXPECT_TRUE(find_outliers(fleet(4, 100, 0, 0, 0), p).empty());
}

// --- Probation: half the bar ---

TEST(OutlierDetectorTest, ProbationFailsAStillBadBackendOnASmallSample) {
  const PeerMeans clean{0.01, 0.0, 2000};
  // A 60%-5xx backend that drew 9 of 20 (45%: under the ban's 50%) is still bad.
  EXPECT_TRUE(judge_probation(IntervalSample{20, 0, 9, 20 * 2000.0}, clean, BanPolicy{}));
  // 250 ms against 2 ms, always-404: still bad.
  EXPECT_TRUE(judge_probation(IntervalSample{20, 0, 0, 20 * 250000.0}, clean, BanPolicy{}));
  EXPECT_TRUE(judge_probation(IntervalSample{20, 20, 0, 20 * 1000.0}, clean, BanPolicy{}));
  // Recovered: one 404 in 20 and the peers' latency.
  EXPECT_FALSE(judge_probation(IntervalSample{20, 1, 0, 20 * 2000.0}, clean, BanPolicy{}));
  EXPECT_FALSE(judge_probation(IntervalSample{20, 0, 0, 20 * 3000.0}, clean, BanPolicy{}));
}

// --- By request: a tripped window against the peers' windows ---

constexpr uint32_t kRule = 1u << 24 | 5u << 16 | 5u << 8 | 10u;  // N 10, M 5, K 5

// A window word with `failures` of the last 10 outcomes failed, the newest `run` in a row.
uint64_t window(uint32_t failures, uint32_t run) {
  uint64_t w = 0;
  for (uint32_t i = 0; i < 10 - run; ++i) w = FailureWindow::push(w, i < failures - run, 10);
  for (uint32_t i = 0; i < run; ++i) w = FailureWindow::push(w, true, 10);
  return w;
}

// The peers of a tripped endpoint outside the set: windows with these failure counts
// (newest outcomes successes, so that 5 trips only by count), with `recent` failure shares.
WindowPeers peers(const std::vector<uint32_t>& failures, double recent = 0) {
  ServiceWindows w(kRule);
  for (uint32_t f : failures) w.add(window(f, 0), 100 * recent, 100);
  return w.peers_of(0, 0, 0, /*member=*/false);
}

TEST(OutlierDetectorTest, ARefusingBackendAmongCleanPeersIsAnOutlierAtItsFifthFailure) {
  ASSERT_EQ(WindowRule::pack(true, 10, 5, 5), kRule);
  const std::optional<Outlier> o = judge_trip(window(5, 5), kRule, peers({0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->reason, "5 consecutive transport failures");
  EXPECT_DOUBLE_EQ(o->severity, 1.0) << "a run: everything it got lately failed";
}

TEST(OutlierDetectorTest, AServiceFailingAsAWholeHasNoTripOutlier) {
  std::string why;
  // Most peers tripped too.
  EXPECT_FALSE(judge_trip(window(6, 2), kRule, peers({5, 6, 7, 5, 3, 4}), &why));
  EXPECT_EQ(why,
            "6 transport failures in the last 10 attempts, like its peers: 4 of 6 tripped too");
  // Peers failing about half their requests without tripping: 10 of 10 is not improbable.
  EXPECT_FALSE(judge_trip(window(10, 10), kRule, peers({4, 4, 4, 4, 4, 4, 4}), &why));
  EXPECT_EQ(why, "10 consecutive transport failures, not far enough off its peers' 40.0%");
}

TEST(OutlierDetectorTest, PeersFailingTenPercentNeedEightOfTen) {
  const WindowPeers p = peers({1, 1, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_FALSE(judge_trip(window(7, 7), kRule, p));
  const std::optional<Outlier> o = judge_trip(window(8, 8), kRule, p);
  ASSERT_TRUE(o.has_value());
  EXPECT_NEAR(o->severity, 0.9, 1e-9) << "100% lately against peers' 10%";
  EXPECT_EQ(min_trip_failures(0.1, kRule), 8u);
  EXPECT_EQ(min_trip_failures(0.0, kRule), 1u);
  EXPECT_EQ(min_trip_failures(0.3, kRule), 255u);
}

TEST(OutlierDetectorTest, TheCountersRateCountsWhenTheWindowsLookClean) {
  // Peers' windows happen to show nothing, but their counters say 10% lately.
  EXPECT_TRUE(judge_trip(window(5, 5), kRule, peers({0, 0, 0, 0, 0, 0, 0, 0, 0})));
  EXPECT_FALSE(judge_trip(window(5, 5), kRule, peers({0, 0, 0, 0, 0, 0, 0, 0, 0}, 0.1)));
}

TEST(OutlierDetectorTest, AMembersPeersAreEveryoneButItself) {
  // Ten endpoints: the dead one tripped, nine clean, recent counts 0 except its own.
  ServiceWindows w(kRule);
  const uint64_t dead = window(5, 5);
  w.add(dead, 5, 5);
  for (int i = 0; i < 9; ++i) w.add(window(0, 0), 0, 100);
  const WindowPeers p = w.peers_of(dead, 5, 5, /*member=*/true);
  EXPECT_EQ(p.clear, 9u);
  EXPECT_EQ(p.tripped, 0u);
  EXPECT_DOUBLE_EQ(p.rate, 0);
  // Seen from a clean one, the dead one is a tripped peer, trimmed from the rate.
  const WindowPeers q = w.peers_of(window(0, 0), 0, 100, /*member=*/true);
  EXPECT_EQ(q.clear, 8u);
  EXPECT_EQ(q.tripped, 1u);
  EXPECT_DOUBLE_EQ(q.rate, 0);
}

TEST(OutlierDetectorTest, TwoBackendsDyingTogetherDoNotHideEachOther) {
  // Nine peers, one of them dying too (4 of 10 so far): the top quarter is left out.
  EXPECT_TRUE(judge_trip(window(5, 5), kRule, peers({4, 0, 0, 0, 0, 0, 0, 0, 0})));
}

TEST(OutlierDetectorTest, ALoneEndpointIsJudgedByTheRuleAndTwoAreEachOthersPeer) {
  EXPECT_TRUE(judge_trip(window(5, 5), kRule, WindowPeers{}));
  EXPECT_TRUE(judge_trip(window(5, 5), kRule, peers({0})));
  EXPECT_FALSE(judge_trip(window(5, 5), kRule, peers({6}))) << "both failing: alike";
}

TEST(OutlierDetectorTest, BinomialTail) {
  EXPECT_DOUBLE_EQ(binomial_tail(0, 10, 0.3), 1);
  EXPECT_DOUBLE_EQ(binomial_tail(5, 10, 0), 0);
  EXPECT_NEAR(binomial_tail(5, 10, 0.5), 0.623046875, 1e-12);
  EXPECT_NEAR(binomial_tail(10, 10, 0.1), 1e-10, 1e-20);
  EXPECT_NEAR(binomial_tail(8, 10, 0.1), 3.736e-7, 1e-9);
}

}  // namespace
}  // namespace ufc::internal
