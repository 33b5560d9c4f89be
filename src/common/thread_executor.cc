// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/thread_executor.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace ufc::internal {

ThreadExecutor::ThreadExecutor(std::string name) : thread_([this] { loop(); }) {
  name.resize(std::min<size_t>(name.size(), 15));  // the kernel's limit
  pthread_setname_np(thread_.native_handle(), name.c_str());
}

ThreadExecutor::~ThreadExecutor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Executor::TaskId ThreadExecutor::run_every(absl::Duration period, absl::AnyInvocable<void()> task) {
  const auto p = absl::ToChronoNanoseconds(std::max(period, absl::Microseconds(1)));
  return schedule(p, p, std::move(task));
}

Executor::TaskId ThreadExecutor::run_after(absl::Duration delay, absl::AnyInvocable<void()> task) {
  return schedule(absl::ToChronoNanoseconds(std::max(delay, absl::ZeroDuration())),
                  std::chrono::nanoseconds(0), std::move(task));
}

Executor::TaskId ThreadExecutor::schedule(std::chrono::nanoseconds delay,
                                          std::chrono::nanoseconds period,
                                          absl::AnyInvocable<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  const TaskId id = next_id_++;
  const TimePoint due = std::chrono::steady_clock::now() + delay;
  tasks_.emplace(id, Task{std::move(fn), period, due});
  queue_.emplace(due, id);
  wake_.notify_all();
  return id;
}

void ThreadExecutor::cancel(TaskId id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  // Erasing the task is enough to stop future runs: the loop skips queue entries whose
  // task is gone. A run in progress keeps its own moved-out function.
  auto range = queue_.equal_range(it->second.due);
  for (auto q = range.first; q != range.second; ++q) {
    if (q->second == id) {
      queue_.erase(q);
      break;
    }
  }
  tasks_.erase(it);
  if (std::this_thread::get_id() != thread_.get_id()) {
    done_.wait(lock, [&] { return running_ != id; });
  }
}

void ThreadExecutor::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = queue_.begin();
    // Copy the due time: cancel() may erase this queue entry while we wait unlocked.
    const TimePoint due = first->first;
    if (due > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, due);
      continue;
    }
    const TaskId id = first->second;
    queue_.erase(first);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) continue;
    absl::AnyInvocable<void()> fn = std::move(it->second.fn);
    running_ = id;
    lock.unlock();
    fn();
    lock.lock();
    running_ = 0;
    it = tasks_.find(id);  // the task may have been cancelled while it ran
    if (it != tasks_.end()) {
      if (it->second.period.count() > 0) {
        it->second.fn = std::move(fn);
        // Keep the cadence; after an overrun, run again at once rather than in a burst.
        it->second.due =
            std::max(it->second.due + it->second.period, std::chrono::steady_clock::now());
        queue_.emplace(it->second.due, id);
      } else {
        tasks_.erase(it);
      }
    }
    done_.notify_all();
  }
}

}  // namespace ufc::internal
