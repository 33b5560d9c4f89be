// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/routing/route_rule.h: a service's `routes` and `idc_affinity` sections, read once.
//
// A RouteRule is what the config says a rule is, compiled for matching: conditions on the
// request (attributes, caller, percentage) and the destination subsets by tags with their
// weights. Which endpoints a subset holds, and which of them are usable, is decided per
// snapshot (candidate_set.h), because it changes with bans and endpoint updates while the
// rule does not.

#ifndef UFC_ROUTING_ROUTE_RULE_H_
#define UFC_ROUTING_ROUTE_RULE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/balancing/policy_registry.h"
#include "src/common/fast_random.h"
#include "src/config/validation_errors.h"
#include "src/routing/request_match.h"
#include "ufc/pick.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// One destination of a rule: the endpoints carrying every tag of `selector`.
struct SubsetSpec {
  std::string key;                           // "<rule>/<subset>", as query shows it
  std::vector<Tag> selector;                 // sorted by key
  std::optional<BalancingConfig> balancing;  // the subset's own policy, if it overrides
};

// RouteRule: one rule, compiled. Immutable; shared by every snapshot of its config version.
struct RouteRule {
  std::string name;
  RequestMatch request;                  // attributes and caller services
  std::vector<std::string> caller_idcs;  // physical or logical; empty = any
  Share percent;                         // of the requests meeting the conditions
  std::vector<SubsetSpec> destinations;
  std::vector<uint64_t> cumulative;  // draw thresholds, when there are several destinations

  // Whether `request` from `caller` meets the attribute, caller and percentage conditions
  // (the caller IDC is decided per client: see RouteTargets::idc_ok). The draw comes last.
  bool matches(const PickRequest& request, std::string_view caller, const Random& random) const;
  // Which destination a matched request goes to, by the subsets' weights.
  size_t choose(const Random& random) const;
};

// IdcAffinity as read from the config, defaults applied.
struct AffinityPolicy {
  bool enabled = false;
  uint32_t min_healthy = 1;
  double min_healthy_share = 0;
  std::string tag = "idc";
};

struct RoutingPolicy {
  std::vector<RouteRule> rules;
  AffinityPolicy affinity;
};

// parse_routing() reads `service`'s `routes` and `idc_affinity` sections, adding every
// problem to `errors`: unknown operators, percentages outside [0, 100], subset weights that
// are negative, not finite or all 0, duplicate rule names, bad balancing overrides. Its
// caller has checked the counts (routes, destinations, conditions, selector tags) against
// limits.h and the strings first (service_policy.cc); which endpoints the subsets select
// is checked by build_layout() (candidate_set.h), once the endpoints are known. Meaningful
// only when nothing was added.
RoutingPolicy parse_routing(const v1::ServiceConfig& service, ValidationErrors& errors);

// Whether an endpoint's tags include every (key, value) of `selector`.
bool tags_match(const google::protobuf::Map<std::string, std::string>& endpoint_tags,
                const google::protobuf::Map<std::string, std::string>& selector);
// The same for a compiled selector and an endpoint's sorted tags.
bool tags_match(const std::vector<Tag>& endpoint_tags, const std::vector<Tag>& selector);

}  // namespace ufc::internal

#endif  // UFC_ROUTING_ROUTE_RULE_H_
