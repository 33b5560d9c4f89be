// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/policy_registry.h: the balancing policies a config may name.
//
// Each policy registers itself as a BalancingPolicy defined at the bottom of its own file
// (name, the check of its own parameters, the factory), listed once in
// policy_registry.cc: adding a policy is one file plus one line there (and the file in
// src/CMakeLists.txt). Everything else — validation, the error messages that list the
// names, building candidate sets, query output — reads the registry.

#ifndef UFC_BALANCING_POLICY_REGISTRY_H_
#define UFC_BALANCING_POLICY_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "src/balancing/balancer.h"
#include "src/config/validation_errors.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// BalancingPolicy: one policy, as the registry holds it. A constant with static storage.
struct BalancingPolicy {
  // The config name, e.g. "round_robin".
  std::string_view name;
  // The field of `Balancing` that holds this policy's parameters ("consistent_hash"), or
  // "" when it has none; then `has_params` and `validate` are nullptr.
  std::string_view params_field;
  bool (*has_params)(const v1::Balancing& balancing);
  // Adds every problem of the parameters to `errors`, at the current path (the caller has
  // descended into "balancing.<params_field>").
  void (*validate)(const v1::Balancing& balancing, ValidationErrors& errors);
  // Builds the policy over `endpoints` (weights > 0, not empty) from validated `params`.
  std::unique_ptr<Balancer> (*make)(const v1::Balancing& params,
                                    absl::Span<const WeightedEndpoint> endpoints);
  // The most lookup-table slots the policy builds over `endpoints` endpoints with `params`
  // (what kMaxMaglevEntriesPerService budgets), or nullptr when it builds no such table.
  uint64_t (*table_slots)(const v1::Balancing& params, size_t endpoints) = nullptr;
};

// The policy called `name` ("" means round_robin), or nullptr.
const BalancingPolicy* find_policy(std::string_view name);
const BalancingPolicy& default_policy();  // round_robin

// BalancingConfig: a validated `balancing` section, read once: the policy and its
// parameters. A plain value.
struct BalancingConfig {
  const BalancingPolicy* policy = &default_policy();
  v1::Balancing params;

  std::unique_ptr<Balancer> make(absl::Span<const WeightedEndpoint> endpoints) const {
    return policy->make(params, endpoints);
  }
  uint64_t table_slots(size_t endpoints) const {
    return policy->table_slots != nullptr ? policy->table_slots(params, endpoints) : 0;
  }
  // Equal for configs that build the same balancer over the same endpoints.
  std::string identity() const;
};

// parse_balancing() checks a balancing section (the service's, or a subset's override),
// adding every problem to `errors` under "balancing": an unknown policy name (listing the
// known ones), parameters of another policy, and each policy's own parameter checks.
// Returns the section as read; meaningful only when nothing was added.
BalancingConfig parse_balancing(const v1::Balancing& balancing, ValidationErrors& errors);

}  // namespace ufc::internal

#endif  // UFC_BALANCING_POLICY_REGISTRY_H_
