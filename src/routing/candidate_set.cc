// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/routing/candidate_set.h"

#include "absl/container/flat_hash_map.h"

namespace ufc::internal {
namespace {

std::string_view tag_of(const Endpoint& e, std::string_view key) {
  for (const Tag& t : *e.identity().tags) {
    if (t.first == key) return t.second;
  }
  return {};
}

}  // namespace

std::string logical_idc(const google::protobuf::Map<std::string, std::string>& idc_map,
                        const std::string& physical) {
  auto it = idc_map.find(physical);
  return it == idc_map.end() ? physical : it->second;
}

CandidateSet build_candidate_set(std::string key, std::vector<uint32_t> members,
                                 const CandidateInputs& in) {
  CandidateSet set;
  set.key = std::move(key);
  set.members = std::move(members);
  const std::vector<EndpointRef>& endpoints = in.endpoints->endpoints;
  const std::vector<double>& weights = in.endpoints->weights;
  const std::vector<bool>& out = *in.out;
  std::vector<WeightedEndpoint> usable, live;  // live: weight > 0, in rotation or not
  std::vector<WeightedEndpoint> local_usable;
  const bool affinity = in.affinity->enabled;
  const std::string& caller_idc = in.env->caller.logical_idc;
  for (uint32_t i : set.members) {
    Endpoint* e = endpoints[i].get();
    const bool local =
        affinity &&
        logical_idc(in.env->idc_map, std::string(tag_of(*e, in.affinity->tag))) == caller_idc;
    set.local_size += local ? 1 : 0;
    if (weights[i] <= 0) continue;
    const WeightedEndpoint we{e, weights[i]};
    live.push_back(we);
    if (out[i]) continue;
    usable.push_back(we);
    if (local) local_usable.push_back(we);
  }
  set.affinity = affinity;
  set.usable = usable.size();
  set.local_usable = local_usable.size();
  std::vector<WeightedEndpoint>* chosen = &usable;
  if (affinity) {
    const bool enough =
        !local_usable.empty() && local_usable.size() >= in.affinity->min_healthy &&
        static_cast<double>(local_usable.size()) >=
            in.affinity->min_healthy_share * static_cast<double>(set.local_size) - 1e-9;
    set.widened = !enough;
    if (enough) chosen = &local_usable;
  }
  // Panic: every usable member is banned (or drained and banned): fail open, not closed.
  set.panic = chosen->empty();
  if (set.panic) chosen = &live;
  if (chosen->empty()) {  // every member drained: validation leaves this only to subsets
    for (uint32_t i : set.members) chosen->push_back(WeightedEndpoint{endpoints[i].get(), 1.0});
  }
  set.balancer = in.balancing->make(*chosen);
  return set;
}

std::vector<RouteTargets> compile_targets(const std::vector<RouteRule>& rules,
                                          const CandidateInputs& inputs) {
  std::vector<RouteTargets> out;
  out.reserve(rules.size());
  const CallerInfo& caller = inputs.env->caller;
  const std::vector<EndpointRef>& endpoints = inputs.endpoints->endpoints;
  for (const RouteRule& rule : rules) {
    RouteTargets targets;
    targets.rule = &rule;
    if (!rule.caller_idcs.empty()) {
      targets.idc_ok = false;
      for (const std::string& idc : rule.caller_idcs) {
        targets.idc_ok = targets.idc_ok || idc == caller.idc || idc == caller.logical_idc;
      }
    }
    for (const SubsetSpec& subset : rule.destinations) {
      std::vector<uint32_t> members;
      for (uint32_t i = 0; i < endpoints.size(); ++i) {
        if (tags_match(*endpoints[i]->identity().tags, subset.selector)) members.push_back(i);
      }
      CandidateInputs sub = inputs;
      if (subset.balancing.has_value()) sub.balancing = &*subset.balancing;
      targets.destinations.push_back(build_candidate_set(subset.key, std::move(members), sub));
    }
    out.push_back(std::move(targets));
  }
  return out;
}

std::vector<AffinityChange> affinity_changes(const CandidateSet* before_all,
                                             const std::vector<RouteTargets>* before_routes,
                                             const CandidateSet& after_all,
                                             const std::vector<RouteTargets>& after_routes) {
  absl::flat_hash_map<std::string, bool> widened_before;
  auto note = [&](const CandidateSet& set) {
    if (set.affinity) widened_before[set.key] = set.widened;
  };
  if (before_all != nullptr) note(*before_all);
  if (before_routes != nullptr) {
    for (const RouteTargets& r : *before_routes) {
      for (const CandidateSet& set : r.destinations) note(set);
    }
  }
  std::vector<AffinityChange> out;
  auto compare = [&](const CandidateSet& set) {
    if (!set.affinity) return;
    auto it = widened_before.find(set.key);
    const bool was = it != widened_before.end() ? it->second : false;
    if (set.widened != was) out.push_back(AffinityChange{&set, set.widened});
  };
  compare(after_all);
  for (const RouteTargets& r : after_routes) {
    for (const CandidateSet& set : r.destinations) compare(set);
  }
  return out;
}

}  // namespace ufc::internal
