// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/grpc.h: gRPC glue for deadlines (the ufc::grpc library), a separate target so libufc
// itself does not depend on gRPC.

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <chrono>

#include "ufc/grpc.h"

namespace ufc {
namespace {

// gRPC deadlines are system_clock time points; ours are monotonic. Convert through the
// remaining time, read on both clocks at (nearly) the same moment.
Deadline from_system_time_point(std::chrono::system_clock::time_point tp, Clock& clock) {
  if (tp == std::chrono::system_clock::time_point::max()) return Deadline::none();
  // Subtract as absl::Time, which saturates: `tp - now()` on time_points overflows int64
  // nanoseconds for a tp near either end of the clock's range.
  const absl::Duration left =
      absl::FromChrono(tp) - absl::FromChrono(std::chrono::system_clock::now());
  return Deadline::at(clock.monotonic_now() + left);
}

}  // namespace

absl::StatusOr<Deadline> deadline_from(const grpc::ServerContextBase& context, Clock& clock) {
  Deadline deadline = from_system_time_point(context.deadline(), clock);
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(kTimeoutHeader.data(), kTimeoutHeader.size()));
  if (it != metadata.end()) {
    absl::StatusOr<Deadline> ours = decode_timeout(
        std::string_view(it->second.data(), it->second.size()), clock.monotonic_now());
    if (!ours.ok()) return ours.status();
    deadline = deadline.earliest(*ours);
  }
  return deadline;
}

void set_deadline(grpc::ClientContext& context, const Deadline& deadline, Clock& clock) {
  if (deadline.is_none()) return;
  const absl::Duration left = deadline.remaining(clock);
  // In absl::Time, which saturates (now() + nanoseconds::max() would overflow); a deadline
  // beyond what system_clock can represent is gRPC's "no deadline".
  const absl::Time at = absl::FromChrono(std::chrono::system_clock::now()) + left;
  context.set_deadline(at >= absl::FromChrono(std::chrono::system_clock::time_point::max())
                           ? std::chrono::system_clock::time_point::max()
                           : absl::ToChronoTime(at));
  context.AddMetadata(std::string(kTimeoutHeader), encode_timeout(deadline, clock));
}

}  // namespace ufc
