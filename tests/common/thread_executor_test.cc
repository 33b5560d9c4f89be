// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The real-thread executor. These tests wait for events with generous bounds; they never
// assert on how long anything took.

#include "src/common/thread_executor.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

constexpr auto kBound = std::chrono::seconds(10);

TEST(ThreadExecutorTest, RunAfterRunsOnce) {
  ThreadExecutor executor("test");
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0;
  executor.run_after(absl::Milliseconds(1), [&] {
    std::lock_guard<std::mutex> lock(mu);
    ++runs;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, kBound, [&] { return runs == 1; }));
}

TEST(ThreadExecutorTest, RunEveryRepeatsUntilCancelled) {
  ThreadExecutor executor("test");
  std::atomic<int> runs{0};
  const Executor::TaskId id = executor.run_every(absl::Microseconds(100), [&] { ++runs; });
  const auto until = std::chrono::steady_clock::now() + kBound;
  while (runs.load() < 5 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  ASSERT_GE(runs.load(), 5);
  executor.cancel(id);
  const int after_cancel = runs.load();
  // cancel() returned: the task is not running and never runs again.
  executor.run_after(absl::Milliseconds(5), [] {});
  std::atomic<bool> flushed{false};
  executor.run_after(absl::Milliseconds(10), [&] { flushed = true; });
  while (!flushed.load()) std::this_thread::yield();
  EXPECT_EQ(runs.load(), after_cancel);
}

TEST(ThreadExecutorTest, TaskMayCancelItself) {
  ThreadExecutor executor("test");
  std::atomic<int> runs{0};
  std::atomic<Executor::TaskId> id{0};
  std::atomic<bool> done{false};
  id = executor.run_every(absl::Microseconds(100), [&] {
    while (id.load() == 0) std::this_thread::yield();
    if (++runs == 3) {
      executor.cancel(id.load());
      done = true;
    }
  });
  while (!done.load()) std::this_thread::yield();
  std::atomic<bool> flushed{false};
  executor.run_after(absl::Milliseconds(5), [&] { flushed = true; });
  while (!flushed.load()) std::this_thread::yield();
  EXPECT_EQ(runs.load(), 3);
}

TEST(ThreadExecutorTest, DestructionWithPendingTasksDoesNotRunThem) {
  std::atomic<int> runs{0};
  {
    ThreadExecutor executor("test");
    executor.run_after(absl::Hours(1), [&] { ++runs; });
  }
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace ufc::internal
