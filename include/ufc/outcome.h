// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/outcome.h: how one attempt to a backend went, as the caller tells `Client::report`.
//
// The transport result says whether the backend was reachable; the application status (an
// HTTP status or a gRPC code, if the protocol has one) says what it answered. UFC keeps the
// two apart on purpose: communication failures ban backends and fuse services, while
// business errors only count when a backend differs from its peers.

#ifndef UFC_OUTCOME_H_
#define UFC_OUTCOME_H_

#include <cstdint>

#include "absl/time/time.h"

namespace ufc {

// What happened at the transport level. How real clients' failures map to it:
//
//   Transport         errno                    curl (CURLE_...)         gRPC (no response)
//   kConnectRefused   ECONNREFUSED,            COULDNT_CONNECT,         UNAVAILABLE before the
//                     EHOSTUNREACH,            COULDNT_RESOLVE_HOST     stream started
//                     ENETUNREACH; DNS name
//                     unknown (EAI_NONAME)
//   kConnectTimeout   ETIMEDOUT in connect()   OPERATION_TIMEDOUT with  DEADLINE_EXCEEDED while
//                                              nothing connected        connecting
//   kReset            ECONNRESET after         RECV_ERROR (reset)       UNAVAILABLE ("Connection
//                     connecting                                        reset")
//   kWriteFailed      EPIPE / ECONNRESET in    SEND_ERROR               INTERNAL/UNAVAILABLE while
//                     write()                                           sending
//   kReadTimeout      EAGAIN / ETIMEDOUT in    OPERATION_TIMEDOUT       DEADLINE_EXCEEDED after
//                     read() after sending     after sending            sending
//   kReadFailed       EOF mid-response, a      GOT_NOTHING,             UNKNOWN, DATA_LOSS, a
//                     malformed response       PARTIAL_FILE             response that won't parse
//
// Anything the backend did answer (any HTTP status, a gRPC status it sent) is kOk with the
// status (Outcome::http, Outcome::grpc): business errors count against a backend only when
// it differs from its peers. A DNS failure is kConnectRefused: the backend cannot be
// reached, and the unban probe of the name fails the same way.
enum class Transport : uint8_t {
  kOk = 0,          // a response was read (whatever the application status)
  kConnectRefused,  // RST on connect / ECONNREFUSED
  kConnectTimeout,  // no connection within the connect timeout
  kReset,           // connection reset after connecting
  kWriteFailed,     // writing the request failed or timed out
  kReadTimeout,     // no (complete) response within the read timeout
  kReadFailed,      // the read failed (EOF mid-response, malformed response, ...)
};

// Which protocol the application status belongs to.
enum class StatusKind : uint8_t { kNone = 0, kHttp, kGrpc };

// How UFC classifies an outcome. Every report lands in exactly one class.
enum class OutcomeClass : uint8_t {
  kSuccess = 0,     // transport ok; no status, HTTP < 400, or a gRPC code that maps below 400
  kClientError,     // "4xx": HTTP 400-499, or a gRPC code mapped there (NOT_FOUND, ...)
  kServerError,     // "5xx": HTTP >= 500, or UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED, ...
  kConnectRefused,  // the transport failures, one class each
  kConnectTimeout,
  kReset,
  kWriteFailed,
  kReadTimeout,
  kReadFailed,
};
inline constexpr int kOutcomeClassCount = 9;

// The class's name in metrics and logs: "ok", "client_error", "server_error",
// "connect_refused", "connect_timeout", "reset", "write_failed", "read_timeout",
// "read_failed".
constexpr const char* outcome_class_name(OutcomeClass c) {
  constexpr const char* kNames[kOutcomeClassCount] = {
      "ok",    "client_error", "server_error", "connect_refused", "connect_timeout",
      "reset", "write_failed", "read_timeout", "read_failed"};
  const int i = static_cast<int>(c);
  return i < kOutcomeClassCount ? kNames[i] : "read_failed";
}

// Outcome: the result of one attempt. A plain value; copy it freely.
//
// `latency` is what the caller measured for the attempt. UFC never reads the clock in
// `report` (a clock read costs as much as a whole pick), so pass a real figure: it feeds
// the least-loaded policy and latency outlier detection (banning by business signal).
struct Outcome {
  Transport transport = Transport::kOk;
  StatusKind status_kind = StatusKind::kNone;
  // An HTTP status (100..599) or a gRPC code (0..16), per `status_kind`.
  int32_t status_code = 0;
  absl::Duration latency = absl::ZeroDuration();

  // A response was read; no application status to add.
  static Outcome ok(absl::Duration latency) {
    return Outcome{Transport::kOk, StatusKind::kNone, 0, latency};
  }
  // An HTTP response with `status`.
  static Outcome http(int32_t status, absl::Duration latency) {
    return Outcome{Transport::kOk, StatusKind::kHttp, status, latency};
  }
  // A gRPC call that ended with `code` (a grpc::StatusCode value; 0 is OK).
  static Outcome grpc(int32_t code, absl::Duration latency) {
    return Outcome{Transport::kOk, StatusKind::kGrpc, code, latency};
  }
  // The attempt failed in transport; `failure` must not be Transport::kOk.
  static Outcome transport_error(Transport failure, absl::Duration latency) {
    return Outcome{failure, StatusKind::kNone, 0, latency};
  }

  // classify() maps the outcome to its class. gRPC codes follow Google's canonical
  // HTTP mapping (google/rpc/code.proto): CANCELLED, INVALID_ARGUMENT, NOT_FOUND,
  // ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED,
  // OUT_OF_RANGE and UNAUTHENTICATED are client errors; UNKNOWN, DEADLINE_EXCEEDED,
  // UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS are server errors. Unknown codes
  // are server errors.
  OutcomeClass classify() const {
    if (transport != Transport::kOk) {
      const int t = static_cast<int>(transport);
      // Transport values 1..6 map to classes 3..8 in order; anything else is a read failure.
      return t <= static_cast<int>(Transport::kReadFailed)
                 ? static_cast<OutcomeClass>(t - 1 +
                                             static_cast<int>(OutcomeClass::kConnectRefused))
                 : OutcomeClass::kReadFailed;
    }
    switch (status_kind) {
      case StatusKind::kNone:
        return OutcomeClass::kSuccess;
      case StatusKind::kHttp:  // kSuccess below 400, kClientError below 500, else kServerError
        return static_cast<OutcomeClass>(static_cast<int>(status_code >= 400) +
                                         static_cast<int>(status_code >= 500));
      case StatusKind::kGrpc:
        // Bit c set: gRPC code c is a client error (1, 3, 5-11, 16). 0 is OK; the rest,
        // and unknown codes, are server errors.
        if (status_code == 0) return OutcomeClass::kSuccess;
        if (status_code > 0 && status_code < 32 && ((0x10FEAu >> status_code) & 1u)) {
          return OutcomeClass::kClientError;
        }
        return OutcomeClass::kServerError;
    }
    return OutcomeClass::kServerError;
  }
};

}  // namespace ufc

#endif  // UFC_OUTCOME_H_
