// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "tests/testing/manual_executor.h"

#include <vector>

#include "gtest/gtest.h"

namespace ufc::testing {
namespace {

TEST(ManualExecutorTest, RunsTasksInDueOrderAtTheirDueTime) {
  auto clock = std::make_shared<SimClock>();
  ManualExecutor executor(clock);
  const absl::Time start = clock->now();
  std::vector<std::pair<int, absl::Duration>> runs;
  executor.run_after(absl::Seconds(3), [&] { runs.push_back({3, clock->now() - start}); });
  executor.run_every(absl::Seconds(2), [&] { runs.push_back({2, clock->now() - start}); });
  executor.advance(absl::Seconds(5));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], std::make_pair(2, absl::Seconds(2)));
  EXPECT_EQ(runs[1], std::make_pair(3, absl::Seconds(3)));
  EXPECT_EQ(runs[2], std::make_pair(2, absl::Seconds(4)));
  EXPECT_EQ(clock->now() - start, absl::Seconds(5));
}

TEST(ManualExecutorTest, CancelledTaskDoesNotRun) {
  auto clock = std::make_shared<SimClock>();
  ManualExecutor executor(clock);
  int runs = 0;
  auto id = executor.run_every(absl::Seconds(1), [&] { ++runs; });
  executor.advance(absl::Seconds(2));
  executor.cancel(id);
  executor.advance(absl::Seconds(10));
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(executor.pending(), 0u);
}

}  // namespace
}  // namespace ufc::testing
