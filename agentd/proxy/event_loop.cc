// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/proxy/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ufc_agent::proxy {
namespace {

int64_t to_ns(ufc::MonotonicTime t) {
  const absl::Duration d = t - ufc::MonotonicTime();
  if (d == absl::InfiniteDuration()) return INT64_MAX;
  if (d == -absl::InfiniteDuration()) return INT64_MIN;
  return absl::ToInt64Nanoseconds(d);
}

// The wake-up descriptor's handler: draining it is all there is to do.
class WakeHandler final : public IoHandler {
 public:
  explicit WakeHandler(int fd) : fd_(fd) {}
  void on_io(uint32_t) override {
    uint64_t v;
    while (::read(fd_, &v, sizeof(v)) > 0) {
    }
  }

 private:
  int fd_;
};

}  // namespace

Timer::~Timer() {
  if (loop_ != nullptr) loop_->cancel(this);
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::create() {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    ::close(ep);
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(ep, wake));
  loop->refresh_now();
  return loop;
}

EventLoop::~EventLoop() {
  for (auto& [when, timer] : timers_) timer->loop_ = nullptr;
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

bool EventLoop::add(int fd, IoHandler* handler) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = handler;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::arm(Timer* timer, ufc::MonotonicTime when) {
  if (timer->loop_ != nullptr) timers_.erase({timer->when_ns_, timer});
  timer->loop_ = this;
  timer->when_ns_ = to_ns(when);
  timers_.insert({timer->when_ns_, timer});
}

void EventLoop::cancel(Timer* timer) {
  if (timer->loop_ == nullptr) return;
  timers_.erase({timer->when_ns_, timer});
  timer->loop_ = nullptr;
}

void EventLoop::refresh_now() { now_ = ufc::Clock::system()->monotonic_now(); }

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void EventLoop::run() {
  WakeHandler wake(wake_fd_);
  add(wake_fd_, &wake);
  constexpr int kBatch = 256;
  epoll_event events[kBatch];
  while (!stopping_.load(std::memory_order_acquire)) {
    int timeout_ms = -1;
    if (!timers_.empty()) {
      refresh_now();
      const int64_t wait_ns = timers_.begin()->first - to_ns(now_);
      // Round up: waking a little late is fine, waking early spins.
      timeout_ms = wait_ns <= 0
                       ? 0
                       : static_cast<int>(std::min<int64_t>((wait_ns + 999999) / 1000000, 60000));
    }
    const int n = ::epoll_wait(epoll_fd_, events, kBatch, timeout_ms);
    if (n < 0 && errno != EINTR) break;
    refresh_now();
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    // Timers due by now, in order; each leaves the set before it fires.
    const int64_t now_ns = to_ns(now_);
    while (!timers_.empty() && timers_.begin()->first <= now_ns) {
      Timer* timer = timers_.begin()->second;
      timers_.erase(timers_.begin());
      timer->loop_ = nullptr;
      timer->fire_();
    }
    while (!deferred_.empty()) {
      std::vector<std::function<void()>> run_now;
      run_now.swap(deferred_);
      for (auto& fn : run_now) fn();
    }
  }
  for (auto& fn : deferred_) fn();
  deferred_.clear();
  remove(wake_fd_);
}

}  // namespace ufc_agent::proxy
