// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/refusal.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/types/optional.h"

namespace ufc {
namespace {
// This Abseil's string_view is its own type, not std::string_view.
absl::string_view url() {
  return absl::string_view(kRefusalPayloadUrl.data(), kRefusalPayloadUrl.size());
}
}  // namespace

Refusal refusal_of(const absl::Status& status) {
  if (status.ok()) return Refusal::kNone;
  const absl::optional<absl::Cord> payload = status.GetPayload(url());
  if (!payload.has_value() || payload->size() != 1) return Refusal::kNone;
  const auto value = static_cast<uint8_t>(std::string(*payload)[0]);
  return value <= static_cast<uint8_t>(Refusal::kNoEndpoints) ? static_cast<Refusal>(value)
                                                              : Refusal::kNone;
}

std::string_view refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::kNone:
      return "none";
    case Refusal::kShed:
      return "shed";
    case Refusal::kRetryWhileFusing:
      return "retry_while_fusing";
    case Refusal::kRetryBudgetSpent:
      return "retry_budget_spent";
    case Refusal::kEveryBackendTried:
      return "every_backend_tried";
    case Refusal::kDeadlineSpent:
      return "deadline_spent";
    case Refusal::kNotConfigured:
      return "not_configured";
    case Refusal::kNoEndpoints:
      return "no_endpoints";
  }
  return "none";
}

absl::Status with_refusal(absl::Status status, Refusal refusal) {
  if (status.ok() || refusal == Refusal::kNone) return status;
  status.SetPayload(url(), absl::Cord(std::string(1, static_cast<char>(refusal))));
  return status;
}

}  // namespace ufc
