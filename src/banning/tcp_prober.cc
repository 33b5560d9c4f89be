// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The real Prober: non-blocking TCP connects multiplexed with poll() on one thread.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "ufc/prober.h"

namespace ufc {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Done = absl::AnyInvocable<void(bool)>;

// Fills `addr` for an IP literal or a name; false if it cannot be resolved.
bool resolve(const std::string& host, uint16_t port, sockaddr_storage& addr, socklen_t& len) {
  std::memset(&addr, 0, sizeof(addr));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(*v4);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(*v6);
    return true;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return false;
  std::memcpy(&addr, found->ai_addr, found->ai_addrlen);
  len = found->ai_addrlen;
  freeaddrinfo(found);
  if (addr.ss_family == AF_INET) v4->sin_port = htons(port);
  if (addr.ss_family == AF_INET6) v6->sin6_port = htons(port);
  return true;
}

class TcpProber final : public Prober {
 public:
  TcpProber() : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  ~TcpProber() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake();
    if (thread_.joinable()) thread_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  void probe(const std::string& host, uint16_t port, absl::Duration timeout, Done done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      queue_.push_back(Request{host, port, timeout, std::move(done)});
      if (!thread_.joinable()) {
        thread_ = std::thread([this] { loop(); });
        pthread_setname_np(thread_.native_handle(), "ufc-prober");
      }
    }
    wake();
  }

 private:
  struct Request {
    std::string host;
    uint16_t port;
    absl::Duration timeout;
    Done done;
  };
  struct Connecting {
    int fd;
    SteadyClock::time_point deadline;
    Done done;
  };

  void wake() {
    if (wake_fd_ >= 0) {
      const uint64_t one = 1;
      (void)::write(wake_fd_, &one, sizeof(one));
    }
  }

  // Starts a connect; finishes at once (done called) when it cannot be pending.
  void start(Request r, std::vector<Connecting>& connecting) {
    sockaddr_storage addr;
    socklen_t len = 0;
    if (!resolve(r.host, r.port, addr, len)) {
      r.done(false);
      return;
    }
    const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      r.done(false);
      return;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) {
      ::close(fd);
      r.done(true);
      return;
    }
    if (errno != EINPROGRESS) {
      ::close(fd);
      r.done(false);
      return;
    }
    connecting.push_back(Connecting{fd, SteadyClock::now() + absl::ToChronoNanoseconds(r.timeout),
                                    std::move(r.done)});
  }

  void loop() {
    std::vector<Connecting> connecting;
    for (;;) {
      std::deque<Request> fresh;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
        fresh.swap(queue_);
      }
      for (Request& r : fresh) start(std::move(r), connecting);

      std::vector<pollfd> fds;
      fds.push_back(pollfd{wake_fd_, POLLIN, 0});
      auto next = SteadyClock::now() + std::chrono::seconds(1);
      for (const Connecting& c : connecting) {
        fds.push_back(pollfd{c.fd, POLLOUT, 0});
        next = std::min(next, c.deadline);
      }
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(next - SteadyClock::now());
      ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, wait.count() + 1)));
      if (fds[0].revents & POLLIN) {
        uint64_t drained;
        (void)::read(wake_fd_, &drained, sizeof(drained));
      }
      const auto now = SteadyClock::now();
      std::vector<Connecting> still;
      for (size_t i = 0; i < connecting.size(); ++i) {
        Connecting& c = connecting[i];
        const short revents = fds[i + 1].revents;
        if (revents != 0) {
          int error = 0;
          socklen_t elen = sizeof(error);
          getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &elen);
          ::close(c.fd);
          c.done(error == 0 && (revents & (POLLERR | POLLHUP)) == 0);
        } else if (now >= c.deadline) {
          ::close(c.fd);
          c.done(false);
        } else {
          still.push_back(std::move(c));
        }
      }
      connecting.swap(still);
    }
    for (Connecting& c : connecting) ::close(c.fd);  // shutting down: no more callbacks
  }

  std::mutex mu_;
  std::deque<Request> queue_;
  bool stop_ = false;
  int wake_fd_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Prober> make_tcp_prober() { return std::make_unique<TcpProber>(); }

}  // namespace ufc
