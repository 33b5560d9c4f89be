// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/policy.h: the balancing policies a ServiceConfig may name.

#ifndef UFC_CONFIG_POLICY_H_
#define UFC_CONFIG_POLICY_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace ufc::internal {

enum class PolicyKind {
  kRoundRobin,
  kRandom,
  kWeightedRoundRobin,
  kWeightedRandom,
  kConsistentHash,
  kLeastLoaded,
};

// policy_from_name() maps a config name ("round_robin"; "" means round robin) to its kind.
std::optional<PolicyKind> policy_from_name(absl::string_view name);

// policy_name() is the config name of a kind.
absl::string_view policy_name(PolicyKind kind);

// "round_robin, random, ...", for error messages.
absl::string_view policy_names_list();

}  // namespace ufc::internal

#endif  // UFC_CONFIG_POLICY_H_
