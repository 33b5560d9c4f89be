// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/policy.h"

namespace ufc::internal {
namespace {

struct Named {
  PolicyKind kind;
  absl::string_view name;
};

constexpr Named kPolicies[] = {
    {PolicyKind::kRoundRobin, "round_robin"},
    {PolicyKind::kRandom, "random"},
    {PolicyKind::kWeightedRoundRobin, "weighted_round_robin"},
    {PolicyKind::kWeightedRandom, "weighted_random"},
    {PolicyKind::kConsistentHash, "consistent_hash"},
    {PolicyKind::kLeastLoaded, "least_loaded"},
};

}  // namespace

std::optional<PolicyKind> policy_from_name(absl::string_view name) {
  if (name.empty()) return PolicyKind::kRoundRobin;
  for (const Named& p : kPolicies) {
    if (p.name == name) return p.kind;
  }
  return std::nullopt;
}

absl::string_view policy_name(PolicyKind kind) {
  for (const Named& p : kPolicies) {
    if (p.kind == kind) return p.name;
  }
  return "unknown";
}

absl::string_view policy_names_list() {
  return "round_robin, random, weighted_round_robin, weighted_random, consistent_hash, "
         "least_loaded";
}

}  // namespace ufc::internal
