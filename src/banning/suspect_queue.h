// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/banning/suspect_queue.h: how `report` hands a backend that tripped the by-request
// rule to the control path without locking.

#ifndef UFC_BANNING_SUSPECT_QUEUE_H_
#define UFC_BANNING_SUSPECT_QUEUE_H_

#include <atomic>

namespace ufc::internal {

class Endpoint;

// SuspectQueue: a lock-free multi-producer stack (Treiber) linked through the endpoints'
// own `next_suspect` field; the control path takes everything at once. An endpoint is in
// it at most once (its suspect flag guards the push) and holds a reference while queued.
// Thread-safety: push() from any thread; take_all() from one consumer at a time.
class SuspectQueue {
 public:
  void push(Endpoint* endpoint);
  // The queued endpoints as a list linked by next_suspect (most recent first), or nullptr.
  Endpoint* take_all() { return head_.exchange(nullptr, std::memory_order_acquire); }
  bool empty() const { return head_.load(std::memory_order_relaxed) == nullptr; }

 private:
  std::atomic<Endpoint*> head_{nullptr};
};

}  // namespace ufc::internal

#endif  // UFC_BANNING_SUSPECT_QUEUE_H_
