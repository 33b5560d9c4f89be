// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "examples/http_get.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ufc/deadline.h"

namespace ufc_examples {
namespace {

using Clock = std::chrono::steady_clock;

absl::Duration since(Clock::time_point start) { return absl::FromChrono(Clock::now() - start); }

int poll_ms(absl::Duration left) {
  if (left == absl::InfiniteDuration()) return -1;
  return left <= absl::ZeroDuration() ? 0 : static_cast<int>(absl::ToInt64Milliseconds(left) + 1);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

ufc::Outcome http_get(const ufc::Pick& pick, const std::string& path, std::string* budget_echo) {
  return http_get(
      HttpTarget{pick.address(), pick.host(), pick.port(), pick.timeouts(), pick.deadline()}, path,
      budget_echo);
}

ufc::Outcome http_get(const HttpTarget& pick, const std::string& path, std::string* budget_echo) {
  using ufc::Outcome;
  const absl::Duration connect_timeout = pick.timeouts.connect;
  const absl::Duration read_timeout = pick.timeouts.read;
  using ufc::Transport;
  const Clock::time_point start = Clock::now();
  const std::string host(pick.host);

  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(pick.port);
    addr_len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(pick.port);
    addr_len = sizeof(*v6);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
      return Outcome::transport_error(Transport::kConnectRefused, since(start));
    }
    std::memcpy(&addr, found->ai_addr, found->ai_addrlen);
    addr_len = found->ai_addrlen;
    freeaddrinfo(found);
    if (addr.ss_family == AF_INET) v4->sin_port = htons(pick.port);
    if (addr.ss_family == AF_INET6) v6->sin6_port = htons(pick.port);
  }

  Fd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Outcome::transport_error(Transport::kConnectRefused, since(start));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno != EINPROGRESS) {
      return Outcome::transport_error(
          errno == ECONNRESET ? Transport::kReset : Transport::kConnectRefused, since(start));
    }
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, poll_ms(connect_timeout)) <= 0) {
      return Outcome::transport_error(Transport::kConnectTimeout, since(start));
    }
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error == ETIMEDOUT)
      return Outcome::transport_error(Transport::kConnectTimeout, since(start));
    if (error != 0) return Outcome::transport_error(Transport::kConnectRefused, since(start));
  }

  std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", std::string(pick.address),
                                     "\r\nConnection: close\r\n");
  if (!pick.deadline.is_none()) {  // the budget travels on, relative
    absl::StrAppend(&request, std::string(ufc::kTimeoutHeader), ": ",
                    ufc::encode_timeout(pick.deadline), "\r\n");
  }
  request += "\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return Outcome::transport_error(
        errno == ECONNRESET ? Transport::kReset : Transport::kWriteFailed, since(start));
  }

  std::string response;
  char buf[4096];
  const Clock::time_point read_start = Clock::now();
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, poll_ms(read_timeout - since(read_start)));
    if (ready <= 0) return Outcome::transport_error(Transport::kReadTimeout, since(start));
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Outcome::transport_error(
          errno == ECONNRESET ? Transport::kReset : Transport::kReadFailed, since(start));
    }
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  int status = 0;
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0 ||
      !absl::SimpleAtoi(absl::string_view(response).substr(9, 3), &status)) {
    return Outcome::transport_error(Transport::kReadFailed, since(start));
  }
  if (budget_echo != nullptr) {
    const size_t h = response.find("x-ufc-budget-ms: ");
    if (h != std::string::npos) {
      const size_t from = h + 17;
      *budget_echo = response.substr(from, response.find("\r\n", from) - from);
    }
  }
  return Outcome::http(status, since(start));
}

}  // namespace ufc_examples
