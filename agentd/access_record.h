// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/access_record.h: one request as the agent served it, for the access log and the
// per-caller metrics (agentd/admin/traffic_recorder.h). The proxy hands one over when a
// request ends, the gRPC service one per Report. Views: valid during the call only.

#ifndef UFC_AGENTD_ACCESS_RECORD_H_
#define UFC_AGENTD_ACCESS_RECORD_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ufc/outcome.h"

namespace ufc_agent {

// One attempt to a backend.
struct AccessAttempt {
  std::string_view backend;  // host:port
  ufc::OutcomeClass outcome = ufc::OutcomeClass::kSuccess;
  int status = 0;  // the HTTP status or gRPC code answered, 0 for a transport failure
  absl::Duration latency;
};

struct AccessRecord {
  std::string_view via;  // "proxy", "inbound" or "grpc"
  std::string_view caller, service, method, path, trace_id;
  int status = 0;           // proxy: the status the caller got; grpc: 0
  std::string_view reason;  // the proxy's own answer's x-ufc-reason, or ""
  absl::Duration duration;  // proxy: from the request's first byte; grpc: the attempt's
  std::optional<absl::Duration> deadline_left;  // at arrival, when the request had one
  absl::Span<const AccessAttempt> attempts;
};

}  // namespace ufc_agent

#endif  // UFC_AGENTD_ACCESS_RECORD_H_
