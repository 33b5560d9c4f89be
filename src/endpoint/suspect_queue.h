// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/suspect_queue.h: how `report` hands an endpoint whose failure window tripped
// to the control path without locking.

#ifndef UFC_ENDPOINT_SUSPECT_QUEUE_H_
#define UFC_ENDPOINT_SUSPECT_QUEUE_H_

#include <atomic>

namespace ufc::internal {

class Endpoint;

// SuspectQueue: a lock-free multi-producer stack (Treiber) linked through the endpoints'
// own suspect link; the control path takes everything at once. An endpoint is in it at
// most once (its suspect flag guards the push) and holds a structural reference while
// queued, which whoever takes it drops.
// Thread-safety: push() from any thread; take_all() from one consumer at a time.
class SuspectQueue {
 public:
  void push(Endpoint* endpoint);
  // The queued endpoints (most recent first) as a list walked with next(), or nullptr.
  Endpoint* take_all() { return head_.exchange(nullptr, std::memory_order_acquire); }
  // The endpoint after `endpoint` in a list take_all() returned.
  static Endpoint* next(const Endpoint* endpoint);
  bool empty() const { return head_.load(std::memory_order_relaxed) == nullptr; }

 private:
  std::atomic<Endpoint*> head_{nullptr};
};

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_SUSPECT_QUEUE_H_
