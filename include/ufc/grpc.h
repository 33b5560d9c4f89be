// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/grpc.h: deadlines across gRPC calls. Part of the `ufc::grpc` library (link
// ufc::grpc, which brings gRPC); ufc::ufc itself does not depend on gRPC.
//
//   // Server, first thing in the handler:
//   absl::StatusOr<ufc::Deadline> d = ufc::deadline_from(*context);
//   // Client of the next hop:
//   grpc::ClientContext next;
//   ufc::set_deadline(next, *d);

#ifndef UFC_GRPC_H_
#define UFC_GRPC_H_

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "ufc/clock.h"
#include "ufc/deadline.h"

namespace ufc {

// deadline_from() is the deadline of an incoming gRPC call: the earlier of gRPC's own (from
// the grpc-timeout header, which gRPC fixed when the call arrived) and x-ufc-timeout-ms
// metadata (counted from now: gRPC does not say when the call arrived, so call this first
// thing in the handler). None if the caller sent neither. Takes the synchronous API's
// ServerContext and the callback API's CallbackServerContext alike. INVALID_ARGUMENT for malformed
// x-ufc-timeout-ms metadata.
absl::StatusOr<Deadline> deadline_from(const grpc::ServerContextBase& context,
                                       Clock& clock = *Clock::system());

// set_deadline() prepares an outgoing gRPC call: sets the call's own deadline (so gRPC
// cancels it, and sends grpc-timeout) and adds x-ufc-timeout-ms metadata with the same
// budget, for servers that read ours. Does nothing for none.
void set_deadline(grpc::ClientContext& context, const Deadline& deadline,
                  Clock& clock = *Clock::system());

}  // namespace ufc

#endif  // UFC_GRPC_H_
