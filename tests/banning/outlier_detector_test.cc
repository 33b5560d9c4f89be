// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/outlier_detector.h"

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace ufc::internal
