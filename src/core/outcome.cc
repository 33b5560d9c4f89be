// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/outcome.h"

namespace ufc {

OutcomeClass Outcome::classify() const {
  switch (transport) {
    case Transport::kOk:
      break;
    case Transport::kConnectRefused:
      return OutcomeClass::kConnectRefused;
    case Transport::kConnectTimeout:
      return OutcomeClass::kConnectTimeout;
    case Transport::kReset:
      return OutcomeClass::kReset;
    case Transport::kWriteFailed:
      return OutcomeClass::kWriteFailed;
    case Transport::kReadTimeout:
      return OutcomeClass::kReadTimeout;
    case Transport::kReadFailed:
      return OutcomeClass::kReadFailed;
    default:
      return OutcomeClass::kReadFailed;  // an out-of-range value is still a failure
  }
  switch (status_kind) {
    case StatusKind::kNone:
      return OutcomeClass::kSuccess;
    case StatusKind::kHttp:
      if (status_code >= 500) return OutcomeClass::kServerError;
      if (status_code >= 400) return OutcomeClass::kClientError;
      return OutcomeClass::kSuccess;
    case StatusKind::kGrpc:
      switch (status_code) {
        case 0:
          return OutcomeClass::kSuccess;  // OK
        case 1:                           // CANCELLED (499)
        case 3:                           // INVALID_ARGUMENT
        case 5:                           // NOT_FOUND
        case 6:                           // ALREADY_EXISTS
        case 7:                           // PERMISSION_DENIED
        case 8:                           // RESOURCE_EXHAUSTED (429)
        case 9:                           // FAILED_PRECONDITION
        case 10:                          // ABORTED (409)
        case 11:                          // OUT_OF_RANGE
        case 16:                          // UNAUTHENTICATED
          return OutcomeClass::kClientError;
        default:  // UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS
          return OutcomeClass::kServerError;
      }
  }
  return OutcomeClass::kServerError;
}

}  // namespace ufc
