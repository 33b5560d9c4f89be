// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/writer_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ufc::metad {

WriterPool::WriterPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WriterPool::~WriterPool() { stop(); }

absl::Status WriterPool::post(Job job) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("server stopping");
  if (jobs_.size() >= max_queued_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(jobs_.size(), " writes are waiting for the store already"));
  }
  jobs_.push_back(std::move(job));
  return absl::OkStatus();
}

void WriterPool::stop() {
  std::deque<Job> waiting;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (joined_) return;
    joined_ = true;
    waiting.swap(jobs_);
  }
  for (Job& job : waiting) job(false);
  for (std::thread& t : threads_) t.join();
}

void WriterPool::work() {
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) -> bool {
        return stopping_ || !jobs_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(true);
  }
}

}  // namespace ufc::metad
