// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/refusal.h: why `Client::pick` refused a request, as a value rather than a message.
//
// Every status pick() returns for a request UFC decided not to send carries a Refusal in
// a payload of the absl::Status (under kRefusalPayloadUrl), so that a caller, the agent
// or the proxy can tell apart what to do next without matching message text:
//
//   absl::StatusOr<ufc::Pick> pick = client->pick(request);
//   if (!pick.ok()) {
//     switch (ufc::refusal_of(pick.status())) {
//       case ufc::Refusal::kShed:             // the service is overloaded: fail fast, or
//         return ServeDegraded();             // serve a cached / degraded answer
//       case ufc::Refusal::kDeadlineSpent:    // nobody waits for this answer any more
//         return pick.status();
//       ...
//     }
//   }
//
// Cost: none on the request path — each refusal status is built once per thread with its
// payload, and returned by copy (a reference count). refusal_of() is a payload lookup:
// a few tens of nanoseconds; call it on the failure path only.

#ifndef UFC_REFUSAL_H_
#define UFC_REFUSAL_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace ufc {

enum class Refusal : uint8_t {
  kNone = 0,  // not a refusal: OK, or an error UFC did not decide (see refusal_of)
  // UNAVAILABLE. The service is fusing (overloaded) and this request was shed, lowest
  // priorities first. Retrying soon makes it worse; fail fast or degrade.
  kShed,
  // UNAVAILABLE. A retry (PickRequest::is_retry) while the service is fusing: no retries
  // until it recovers. The attempt that failed stands as the request's outcome.
  kRetryWhileFusing,
  // UNAVAILABLE. A retry beyond the service's retry budget (Retry.budget of its requests
  // in Retry.window). With fusing off the budget still applies.
  kRetryBudgetSpent,
  // UNAVAILABLE. Every backend the request may go to is in PickRequest::avoid (already
  // tried): with N backends a request gets at most N attempts, whatever max_attempts.
  kEveryBackendTried,
  // DEADLINE_EXCEEDED. The request's deadline has passed, or is within the service's
  // deadline_margin: no backend is worth it.
  kDeadlineSpent,
  // NOT_FOUND. No service of that name is configured (yet, or any more).
  kNotConfigured,
  // UNAVAILABLE. The request's candidate set has no endpoint with weight > 0: the service
  // (or the routing subset the request matched) takes its endpoints from DNS destinations
  // that have not resolved yet (its static ones, if any, drained). query() says why for
  // each name. Nothing else empties a set: a service without destinations is validated to
  // have an endpoint with weight > 0, a failed lookup keeps the last good answer, and when
  // banning has taken every endpoint out of rotation pick() still chooses among them
  // (panic mode, counted in the query) rather than refuse.
  kNoEndpoints,
};

// The payload's type URL; its value is one byte, the Refusal.
inline constexpr std::string_view kRefusalPayloadUrl = "type.ufc.dev/ufc.Refusal";

// refusal_of() reads the Refusal a pick() status carries; kNone for OK and for any status
// without one (an error of the caller's own, or one pick() did not decide, such as an
// empty service name: INVALID_ARGUMENT).
Refusal refusal_of(const absl::Status& status);

// The reason's name: "shed", "retry_while_fusing", "retry_budget_spent",
// "every_backend_tried", "deadline_spent", "not_configured", "no_endpoints", or "none". Stable:
// metrics labels and the agent's wire use it.
std::string_view refusal_name(Refusal refusal);

// A status with `refusal` attached (what pick() returns; for tests and for wrappers such
// as the agent that re-create UFC's refusals).
absl::Status with_refusal(absl::Status status, Refusal refusal);

}  // namespace ufc

#endif  // UFC_REFUSAL_H_
