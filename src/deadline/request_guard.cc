// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/request_guard.h"

#include <poll.h>

#include <cerrno>

namespace ufc {

bool peer_closed(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;  // nothing to report (or poll itself failed: do not guess)
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

absl::Status RequestGuard::check() const {
  if (deadline_.expired(clock_)) {
    return absl::DeadlineExceededError("the request's deadline has passed");
  }
  if (peer_closed(fd_)) return absl::CancelledError("the client closed its connection");
  return absl::OkStatus();
}

}  // namespace ufc
