// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/endpoint/failure_window.h"

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

const uint32_t kRule = WindowRule::pack(true, 10, 5, 5);

uint64_t push_all(std::initializer_list<int> outcomes, uint32_t window = 10) {
  uint64_t w = 0;
  for (int failed : outcomes) w = FailureWindow::push(w, failed != 0, window);
  return w;
}

TEST(FailureWindowTest, RulePacksAndUnpacks) {
  EXPECT_TRUE(WindowRule::enabled(kRule));
  EXPECT_EQ(WindowRule::window(kRule), 10u);
  EXPECT_EQ(WindowRule::failures(kRule), 5u);
  EXPECT_EQ(WindowRule::consecutive(kRule), 5u);
  EXPECT_FALSE(WindowRule::enabled(WindowRule::pack(false, 10, 5, 5)));
}

TEST(FailureWindowTest, FiveFailuresAmongTheLastTenTrip) {
  const uint64_t w = push_all({1, 0, 1, 0, 1, 0, 1, 0, 1, 0});
  EXPECT_EQ(FailureWindow::failures(w), 5u);
  EXPECT_EQ(FailureWindow::run(w), 0u);
  EXPECT_TRUE(FailureWindow::tripped(w, kRule));
}

TEST(FailureWindowTest, OldFailuresFallOutOfTheWindow) {
  // Four failures, then ten successes: nothing left in the window of ten.
  uint64_t w = push_all({1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(FailureWindow::failures(w), 0u);
  w = FailureWindow::push(w, true, 10);
  EXPECT_EQ(FailureWindow::failures(w), 1u);
  EXPECT_FALSE(FailureWindow::tripped(w, kRule));
}

TEST(FailureWindowTest, ConsecutiveRunTripsAndASuccessResetsIt) {
  const uint32_t run_only = WindowRule::pack(true, 10, 10, 3);
  uint64_t w = push_all({0, 1, 1});
  EXPECT_EQ(FailureWindow::run(w), 2u);
  EXPECT_FALSE(FailureWindow::tripped(w, run_only));
  w = FailureWindow::push(w, true, 10);
  EXPECT_TRUE(FailureWindow::tripped(w, run_only));
  w = FailureWindow::push(w, false, 10);
  EXPECT_EQ(FailureWindow::run(w), 0u);
  EXPECT_FALSE(FailureWindow::tripped(w, run_only));
}

TEST(FailureWindowTest, ConsecutiveZeroMeansOff) {
  const uint32_t no_run = WindowRule::pack(true, 56, 56, 0);
  uint64_t w = 0;
  for (int i = 0; i < 40; ++i) w = FailureWindow::push(w, true, 56);
  EXPECT_EQ(FailureWindow::run(w), 40u);
  EXPECT_FALSE(FailureWindow::tripped(w, no_run));
}

TEST(FailureWindowTest, RunSaturatesAndWideWindowKeeps56) {
  uint64_t w = 0;
  for (int i = 0; i < 300; ++i) w = FailureWindow::push(w, true, 56);
  EXPECT_EQ(FailureWindow::run(w), 255u);
  EXPECT_EQ(FailureWindow::failures(w), 56u);
}

}  // namespace
}  // namespace ufc::internal
