// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/policy_registry.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/common/strings.h"

namespace ufc::internal {

// Defined at the bottom of each policy's own file.
extern const BalancingPolicy kRoundRobinPolicy, kRandomPolicy, kWeightedRoundRobinPolicy,
    kWeightedRandomPolicy, kConsistentHashPolicy, kLeastLoadedPolicy;

namespace {

// Every policy a config may name, in the order error messages list them.
const BalancingPolicy* const kPolicies[] = {
    &kRoundRobinPolicy,     &kRandomPolicy,         &kWeightedRoundRobinPolicy,
    &kWeightedRandomPolicy, &kConsistentHashPolicy, &kLeastLoadedPolicy,
};

}  // namespace

const BalancingPolicy& default_policy() { return kRoundRobinPolicy; }

std::string BalancingConfig::identity() const {
  std::string out(policy->name);
  out.push_back('\0');
  v1::Balancing p = params;
  p.clear_policy();  // "" and "round_robin" name the same policy
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  p.SerializeToCodedStream(&coded);
  return out;
}

const BalancingPolicy* find_policy(std::string_view name) {
  if (name.empty()) return &default_policy();
  for (const BalancingPolicy* p : kPolicies) {
    if (p->name == name) return p;
  }
  return nullptr;
}

BalancingConfig parse_balancing(const v1::Balancing& balancing, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "balancing");
  BalancingConfig out;
  out.params = balancing;
  const BalancingPolicy* chosen = find_policy(sv(balancing.policy()));
  if (chosen == nullptr) {
    ValidationErrors::Scope field(errors, "policy");
    std::vector<absl::string_view> names;
    for (const BalancingPolicy* p : kPolicies) names.push_back(av(p->name));
    errors.add(absl::StrCat("unknown policy \"", balancing.policy(), "\"; expected one of ",
                            absl::StrJoin(names, ", ")));
  } else {
    out.policy = chosen;
  }
  for (const BalancingPolicy* p : kPolicies) {
    if (p->has_params == nullptr || !p->has_params(balancing)) continue;
    ValidationErrors::Scope field(errors, av(p->params_field));
    if (chosen != nullptr && chosen != p) {
      errors.add(absl::StrCat("only allowed with policy \"", av(p->name), "\""));
    }
    p->validate(balancing, errors);
  }
  return out;
}

}  // namespace ufc::internal
