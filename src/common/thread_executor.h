// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/thread_executor.h: the default Executor, one background thread.

#ifndef UFC_COMMON_THREAD_EXECUTOR_H_
#define UFC_COMMON_THREAD_EXECUTOR_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "ufc/executor.h"

namespace ufc::internal {

// ThreadExecutor: runs tasks on one thread it owns, timed by std::chrono::steady_clock.
//
// Tasks run one at a time, in due order. Destruction cancels everything and joins.
// Thread-safety: all methods are thread-safe and may be called from a task.
class ThreadExecutor final : public Executor {
 public:
  explicit ThreadExecutor(std::string name);
  ~ThreadExecutor() override;

  TaskId run_every(absl::Duration period, absl::AnyInvocable<void()> task) override;
  TaskId run_after(absl::Duration delay, absl::AnyInvocable<void()> task) override;
  void cancel(TaskId id) override;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Task {
    absl::AnyInvocable<void()> fn;
    std::chrono::nanoseconds period{0};  // 0 for one-shot
    TimePoint due;
  };

  TaskId schedule(std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                  absl::AnyInvocable<void()> fn);
  void loop();

  std::mutex mu_;
  std::condition_variable wake_;  // new earlier task, or stop
  std::condition_variable done_;  // a run finished (for cancel)
  absl::flat_hash_map<TaskId, Task> tasks_;
  std::multimap<TimePoint, TaskId> queue_;
  TaskId next_id_ = 1;
  TaskId running_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_THREAD_EXECUTOR_H_
