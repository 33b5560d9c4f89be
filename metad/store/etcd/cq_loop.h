// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/cq_loop.h: one thread driving a gRPC completion queue, on which EtcdStore
// runs everything that lives in the background (the watch stream, the lease keepalive
// stream, their timers).
//
// Every asynchronous operation gets a tag from tag(); when the operation completes, the loop
// thread runs the tag's function with gRPC's `ok` and frees the tag. Other threads hand work
// to the loop with post(). stop() runs an owner's hook on the loop (where the owner cancels
// its calls and timers), waits until every tag has come back, and joins: after it returns
// no function of the loop runs again.

#ifndef UFC_METAD_STORE_ETCD_CQ_LOOP_H_
#define UFC_METAD_STORE_ETCD_CQ_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
#include "grpcpp/completion_queue.h"

namespace ufc::metad {

// CqLoop. Cost: one thread, idle in CompletionQueue::Next when there is nothing to do; one
// small allocation per operation. Thread-safety: post(), stop(), in_loop() and stopping()
// may be called from any thread; tag(), cq() and everything started on the queue belong to
// the loop thread (or to code that runs before the first post()).
class CqLoop {
 public:
  CqLoop();
  ~CqLoop();  // stop() without a hook
  CqLoop(const CqLoop&) = delete;
  CqLoop& operator=(const CqLoop&) = delete;

  grpc::CompletionQueue* cq() { return &cq_; }

  // A tag for one operation on cq(): `done(ok)` runs on the loop thread when it completes.
  void* tag(std::function<void(bool ok)> done);

  // Runs `fn` on the loop thread soon, after the functions posted before it. Returns false
  // (and drops `fn`) once stop() has begun.
  bool post(std::function<void()> fn);

  // Runs `on_stop` on the loop thread, then waits for every outstanding tag (the hook must
  // cancel what it started, so that they come back), shuts the queue down and joins the
  // thread. Idempotent. Called on the loop thread itself (from one of its functions), it
  // runs the hook at once and returns without waiting; the destructor then joins.
  void stop(std::function<void()> on_stop = nullptr);

  bool in_loop() const { return std::this_thread::get_id() == thread_id_.load(); }
  // True from the moment stop() ran its hook: owners start no new calls.
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

 private:
  struct Tag {
    std::function<void(bool)> done;
  };

  void run();
  void run_posted();
  void begin_stop(std::function<void()> on_stop);
  void maybe_shutdown();
  void arm_wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CompletionQueue cq_;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_;
  std::atomic<bool> stopping_{false};
  int64_t outstanding_ = 0;  // loop thread only: tags handed out and not yet run
  bool shut_down_ = false;   // loop thread only

  absl::Mutex mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;      // stop() was asked: post() refuses
  bool wake_armed_ ABSL_GUARDED_BY(mu_) = false;  // an immediate alarm is on its way
  std::unique_ptr<grpc::Alarm> wake_ ABSL_GUARDED_BY(mu_);
  char wake_tag_ = 0;  // its address is the wake-up tag

  absl::Mutex join_mu_;  // two threads calling stop() join once
};

// A one-shot timer on a CqLoop, re-armable. Loop thread only. It must outlive the loop's
// stop() (its pending tag refers to it).
class LoopTimer {
 public:
  explicit LoopTimer(CqLoop& loop) : loop_(loop) {}

  // Runs `fn` on the loop after `delay`, replacing any armed callback. Does nothing once the
  // loop is stopping.
  void arm(absl::Duration delay, std::function<void()> fn);
  void cancel();
  bool armed() const { return armed_; }

 private:
  CqLoop& loop_;
  std::unique_ptr<grpc::Alarm> alarm_;
  uint64_t generation_ = 0;
  bool armed_ = false;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_CQ_LOOP_H_
