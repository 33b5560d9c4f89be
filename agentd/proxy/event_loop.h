// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/proxy/event_loop.h: one thread's epoll loop with timers, for the HTTP proxy.
//
// Descriptors are registered once, edge-triggered, for input and output together; a
// handler keeps reading or writing until EAGAIN and remembers which side would block, so
// steady-state traffic costs no epoll_ctl calls. Timers are an ordered set of (instant,
// timer): arming or cancelling is O(log n), and a fired timer is out of the set before its
// callback runs, so the callback may re-arm it or destroy its owner.
//
// Thread-safety: everything but stop() runs on the loop's thread only.

#ifndef UFC_AGENTD_PROXY_EVENT_LOOP_H_
#define UFC_AGENTD_PROXY_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "ufc/clock.h"

namespace ufc_agent::proxy {

class EventLoop;

// An fd's owner. `events` are EPOLL* bits.
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  virtual void on_io(uint32_t events) = 0;
};

// A one-shot timer owned by its user; cancelled by its destructor.
class Timer {
 public:
  explicit Timer(std::function<void()> fire) : fire_(std::move(fire)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  bool armed() const { return loop_ != nullptr; }

 private:
  friend class EventLoop;
  std::function<void()> fire_;
  EventLoop* loop_ = nullptr;  // while armed
  int64_t when_ns_ = 0;
};

class EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> create();
  ~EventLoop();

  // add() registers `fd` edge-triggered for EPOLLIN | EPOLLOUT | EPOLLRDHUP. False (errno
  // set) if epoll refuses it.
  bool add(int fd, IoHandler* handler);
  // remove() unregisters `fd`; call before closing it when it may be reused meanwhile.
  void remove(int fd);

  // arm() (re)schedules `timer` at `when` (cached-clock time, see now()); cancel() drops it.
  void arm(Timer* timer, ufc::MonotonicTime when);
  void cancel(Timer* timer);

  // defer() runs `fn` after the current batch of events (for freeing an object an event
  // later in the batch may still name).
  void defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

  // The time read once per wake-up (every handler of a batch sees the same instant).
  ufc::MonotonicTime now() const { return now_; }

  // run() serves events until stop(); stop() may be called from any thread.
  void run();
  void stop();

 private:
  EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}
  void refresh_now();

  const int epoll_fd_;
  const int wake_fd_;
  ufc::MonotonicTime now_;
  absl::btree_set<std::pair<int64_t, Timer*>> timers_;
  std::vector<std::function<void()>> deferred_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ufc_agent::proxy

#endif  // UFC_AGENTD_PROXY_EVENT_LOOP_H_
