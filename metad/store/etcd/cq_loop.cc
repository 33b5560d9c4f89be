// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/etcd/cq_loop.h"

#include <utility>

#include "grpc/support/time.h"

namespace ufc::metad {

CqLoop::CqLoop() {
  thread_ = std::thread([this] { run(); });
}

CqLoop::~CqLoop() { stop(); }

void* CqLoop::tag(std::function<void(bool)> done) {
  ++outstanding_;
  return new Tag{std::move(done)};
}

void CqLoop::arm_wake() {
  if (wake_armed_) return;
  wake_armed_ = true;
  // An alarm due now is the queue's own way to wake its Next(); the previous one has fired
  // (wake_armed_ was false), so replacing it cancels nothing.
  wake_ = std::make_unique<grpc::Alarm>();
  wake_->Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), &wake_tag_);
}

bool CqLoop::post(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  posted_.push_back(std::move(fn));
  arm_wake();
  return true;
}

void CqLoop::stop(std::function<void()> on_stop) {
  if (in_loop()) {
    begin_stop(std::move(on_stop));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      // The hook is the last function posted: whatever was posted before it runs first.
      posted_.push_back(
          [this, hook = std::move(on_stop)]() mutable { begin_stop(std::move(hook)); });
      closed_ = true;
      arm_wake();
    }
  }
  absl::MutexLock join_lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

void CqLoop::run() {
  thread_id_.store(std::this_thread::get_id());
  void* raw = nullptr;
  bool ok = false;
  while (cq_.Next(&raw, &ok)) {
    if (raw == &wake_tag_) {
      run_posted();
    } else {
      Tag* tag = static_cast<Tag*>(raw);
      tag->done(ok);
      delete tag;
      --outstanding_;
    }
    if (stopping()) maybe_shutdown();
  }
}

void CqLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(posted_);
    wake_armed_ = false;
  }
  if (shut_down_) return;  // the queue takes no new operation
  for (std::function<void()>& fn : batch) fn();
}

void CqLoop::begin_stop(std::function<void()> on_stop) {
  if (stopping()) return;
  stopping_.store(true, std::memory_order_release);
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  if (on_stop) on_stop();
  maybe_shutdown();
}

void CqLoop::maybe_shutdown() {
  if (shut_down_ || outstanding_ > 0) return;
  shut_down_ = true;
  // Next() now drains what is left (a wake-up armed before closed_) and returns false.
  cq_.Shutdown();
}

void LoopTimer::arm(absl::Duration delay, std::function<void()> fn) {
  cancel();
  if (loop_.stopping()) return;
  armed_ = true;
  const uint64_t generation = ++generation_;
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_->Set(loop_.cq(), absl::ToChronoTime(absl::Now() + delay),
              loop_.tag([this, generation, fn = std::move(fn)](bool ok) {
                // A cancelled alarm comes back with ok == false; a re-armed one by generation.
                if (!ok || generation != generation_) return;
                armed_ = false;
                fn();
              }));
}

void LoopTimer::cancel() {
  ++generation_;
  armed_ = false;
  if (alarm_ != nullptr) alarm_->Cancel();
}

}  // namespace ufc::metad
