// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/request_guard.h: server-side checks that a request is still worth working on.
//
// Between expensive steps a handler asks: is the deadline still ahead, and is the client
// still there? If not, the rest of the work is waste (spec section 8).
//
//   ufc::RequestGuard guard(*ufc::decode_timeout(header, arrival), client_fd);
//   load_from_db();
//   if (absl::Status s = guard.check(); !s.ok()) return;   // skip the rest
//   render();

#ifndef UFC_REQUEST_GUARD_H_
#define UFC_REQUEST_GUARD_H_

#include "absl/status/status.h"
#include "ufc/clock.h"
#include "ufc/deadline.h"

namespace ufc {

// peer_closed() tells whether the peer of the connected TCP socket `fd` has closed its
// sending side (a FIN arrived), without reading or blocking: poll() with POLLRDHUP, so a
// request still buffered ahead of the FIN does not hide it. Also true on a reset or a
// socket error. Costs one system call.
//
// What it cannot see:
//   * a client that half-closed (shutdown(SHUT_WR)) on purpose and still waits for the
//     answer looks exactly like one that left; don't use it with such clients;
//   * a client that vanished without a FIN (crash, power loss, partition) until TCP
//     notices, which can take minutes;
//   * one request of many on a multiplexed connection (HTTP/2, gRPC): a cancelled stream
//     sends RST_STREAM, not a FIN; use the protocol's cancellation (e.g. gRPC's
//     ServerContext::IsCancelled) instead;
//   * a client behind a proxy that keeps its upstream connection open.
bool peer_closed(int fd);

// RequestGuard: a request's deadline and (optionally) its client connection, checked
// between steps. Thread-safety: const methods are safe from any thread.
class RequestGuard {
 public:
  // `fd` < 0: no connection to watch (e.g. a gRPC call). `clock` must be the clock the
  // deadline was made with.
  explicit RequestGuard(Deadline deadline, int fd = -1, Clock& clock = *Clock::system())
      : deadline_(deadline), fd_(fd), clock_(clock) {}

  // OK while the work is worth finishing; DEADLINE_EXCEEDED once the deadline passed;
  // CANCELLED once the client closed its connection.
  absl::Status check() const;

  const Deadline& deadline() const { return deadline_; }
  absl::Duration remaining() const { return deadline_.remaining(clock_); }

 private:
  Deadline deadline_;
  int fd_;
  Clock& clock_;
};

}  // namespace ufc

#endif  // UFC_REQUEST_GUARD_H_
