// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/manual_executor.h: an Executor that runs tasks only when simulated time
// is advanced, on the advancing thread.

#ifndef UFC_TESTS_TESTING_MANUAL_EXECUTOR_H_
#define UFC_TESTS_TESTING_MANUAL_EXECUTOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "tests/testing/sim_clock.h"
#include "ufc/executor.h"

namespace ufc::testing {

// ManualExecutor: tasks are due at SimClock instants. advance(d) moves the clock forward
// in steps, stopping at each due task (the clock reads exactly its due time while it
// runs), then lands on now + d. Tasks scheduled by tasks run in the same advance if due.
// Thread-safety: scheduling and cancelling are thread-safe; advance() runs tasks on the
// calling thread, one advance at a time.
class ManualExecutor final : public Executor {
 public:
  explicit ManualExecutor(std::shared_ptr<SimClock> clock) : clock_(std::move(clock)) {}

  TaskId run_every(absl::Duration period, absl::AnyInvocable<void()> task) override;
  TaskId run_after(absl::Duration delay, absl::AnyInvocable<void()> task) override;
  void cancel(TaskId id) override;

  // Moves time forward by `d`, running every task that falls due on the way.
  void advance(absl::Duration d);
  // Tasks currently scheduled.
  size_t pending() const;

  SimClock& clock() { return *clock_; }

 private:
  struct Task {
    std::shared_ptr<absl::AnyInvocable<void()>> fn;
    absl::Duration period;  // zero for one-shot
    absl::Time due;
  };
  TaskId add(absl::Duration delay, absl::Duration period, absl::AnyInvocable<void()> fn);

  std::shared_ptr<SimClock> clock_;
  mutable std::mutex mu_;
  absl::flat_hash_map<TaskId, Task> tasks_;
  std::multimap<std::pair<absl::Time, TaskId>, TaskId> queue_;  // (due, id) -> id
  TaskId next_id_ = 1;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_MANUAL_EXECUTOR_H_
