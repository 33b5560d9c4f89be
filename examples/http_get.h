// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// examples/http_get.h: one HTTP GET to a picked backend, turned into a ufc::Outcome.
// This is the "any protocol" half of bypass mode: UFC chose the backend, the caller
// talks to it however it likes and reports what happened.

#ifndef UFC_EXAMPLES_HTTP_GET_H_
#define UFC_EXAMPLES_HTTP_GET_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "ufc/client.h"

namespace ufc_examples {

// http_get() connects to pick.host():pick.port() (IP literals or names), sends
// "GET <path>" with the pick's remaining deadline in x-ufc-timeout-ms, and reads the
// whole response (Connection: close). Connect and read are bounded by the pick's
// timeouts (UFC caps them by the deadline); every failure maps to its ufc::Transport
// value. `budget_echo`, if given, receives the backend's x-ufc-budget-ms header.
ufc::Outcome http_get(const ufc::Pick& pick, const std::string& path,
                      std::string* budget_echo = nullptr);

// The same for a backend chosen elsewhere (an agent's pick, ufc/agent_client.h).
struct HttpTarget {
  std::string_view address;  // "host:port", for the Host header
  std::string_view host;
  uint16_t port = 0;
  ufc::Timeouts timeouts;
  ufc::Deadline deadline;
};
ufc::Outcome http_get(const HttpTarget& target, const std::string& path,
                      std::string* budget_echo = nullptr);

}  // namespace ufc_examples

#endif  // UFC_EXAMPLES_HTTP_GET_H_
