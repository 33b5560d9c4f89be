// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/prober.h: how UFC checks that a banned backend answers again before unbanning it.

#ifndef UFC_PROBER_H_
#define UFC_PROBER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace ufc {

// Prober: asynchronous reachability checks, run off the request path when a ban expires.
//
// The default (make_tcp_prober) opens a non-blocking TCP connection to the backend's port:
// reachable means the connection was accepted within the timeout. Tests inject a prober
// whose answers they script, so ban/unban scenarios need no network.
// Thread-safety: probe() may be called from any thread.
class Prober {
 public:
  virtual ~Prober() = default;

  // probe() checks host:port and calls `done(reachable)` exactly once, from any thread
  // (possibly before probe() returns), unless the prober is destroyed first.
  virtual void probe(const std::string& host, uint16_t port, absl::Duration timeout,
                     absl::AnyInvocable<void(bool reachable)> done) = 0;
};

// make_tcp_prober() returns the real prober: one background thread (started on the first
// probe) multiplexing non-blocking connects with poll(). Host names are resolved with
// getaddrinfo on that thread.
std::unique_ptr<Prober> make_tcp_prober();

}  // namespace ufc

#endif  // UFC_PROBER_H_
