// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "tests/testing/manual_executor.h"

namespace ufc::testing {

Executor::TaskId ManualExecutor::add(absl::Duration delay, absl::Duration period,
                                     absl::AnyInvocable<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  const TaskId id = next_id_++;
  const absl::Time due = clock_->now() + delay;
  tasks_.emplace(id,
                 Task{std::make_shared<absl::AnyInvocable<void()>>(std::move(fn)), period, due});
  queue_.emplace(std::make_pair(due, id), id);
  return id;
}

Executor::TaskId ManualExecutor::run_every(absl::Duration period, absl::AnyInvocable<void()> task) {
  return add(period, period, std::move(task));
}

Executor::TaskId ManualExecutor::run_after(absl::Duration delay, absl::AnyInvocable<void()> task) {
  return add(delay, absl::ZeroDuration(), std::move(task));
}

void ManualExecutor::cancel(TaskId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  queue_.erase(std::make_pair(it->second.due, id));
  tasks_.erase(it);
}

size_t ManualExecutor::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

void ManualExecutor::advance(absl::Duration d) {
  const absl::Time target = clock_->now() + d;
  for (;;) {
    std::shared_ptr<absl::AnyInvocable<void()>> fn;
    TaskId id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty() || queue_.begin()->first.first > target) break;
      auto first = queue_.begin();
      id = first->second;
      const absl::Time due = first->first.first;
      queue_.erase(first);
      Task& task = tasks_.at(id);
      fn = task.fn;
      if (due > clock_->now()) clock_->set(due);
      if (task.period > absl::ZeroDuration()) {
        task.due = due + task.period;
        queue_.emplace(std::make_pair(task.due, id), id);
      } else {
        tasks_.erase(id);
      }
    }
    (*fn)();
  }
  if (target > clock_->now()) clock_->set(target);
}

}  // namespace ufc::testing
