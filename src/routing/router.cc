// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/routing/router.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "src/config/policy.h"

namespace ufc::internal {
namespace {

// The value of attribute `key`, or nullptr. Requests carry a handful of attributes: a
// linear scan, comparing sizes before bytes, beats any index built per request.
const std::string_view* find_attribute(absl::Span<const Attribute> attributes,
                                       std::string_view key) {
  for (const Attribute& a : attributes) {
    if (a.first.size() == key.size() && a.first == key) return &a.second;
  }
  return nullptr;
}

std::string_view tag_of(const Endpoint& e, std::string_view key) {
  for (const Tag& t : *e.identity().tags) {
    if (t.first == key) return t.second;
  }
  return {};
}

bool endpoint_has_tags(const Endpoint& e,
                       const google::protobuf::Map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    bool found = false;
    for (const Tag& t : *e.identity().tags) {
      if (t.first == key) {
        found = t.second == value;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

std::string logical_idc(const google::protobuf::Map<std::string, std::string>& idc_map,
                        const std::string& physical) {
  auto it = idc_map.find(physical);
  return it == idc_map.end() ? physical : it->second;
}

bool CompiledRoute::matches(const PickRequest& request, std::string_view caller,
                            const Random& random) const {
  if (!idc_ok) return false;
  for (const AttributeCondition& c : attributes) {
    const std::string_view* v = find_attribute(request.attributes, c.key);
    switch (c.op) {
      case AttributeCondition::Op::kExact:
        if (v == nullptr || *v != c.value) return false;
        break;
      case AttributeCondition::Op::kPrefix:
        if (v == nullptr || v->substr(0, c.value.size()) != c.value) return false;
        break;
      case AttributeCondition::Op::kPresent:
        if (v == nullptr) return false;
        break;
      case AttributeCondition::Op::kAbsent:
        if (v != nullptr) return false;
        break;
    }
  }
  if (!caller_services.empty()) {
    bool any = false;
    for (const std::string& s : caller_services) any = any || s == caller;
    if (!any) return false;
  }
  // The draw comes last: only requests that meet every other condition spend one.
  return always || random.next() < percent_threshold;
}

const CandidateSet& CompiledRoute::choose(const Random& random) const {
  if (destinations.size() == 1) return destinations[0];
  const uint64_t draw = random.next();
  for (size_t i = 0; i + 1 < destinations.size(); ++i) {
    if (draw < cumulative[i]) return destinations[i];
  }
  return destinations.back();
}

CandidateSet build_candidate_set(std::string key, std::vector<uint32_t> members,
                                 const CandidateInputs& in) {
  CandidateSet set;
  set.key = std::move(key);
  set.members = std::move(members);
  const std::vector<EndpointRef>& endpoints = *in.endpoints;
  const std::vector<double>& weights = *in.weights;
  std::vector<WeightedEndpoint> usable, live;  // live: weight > 0, banned or not
  std::vector<WeightedEndpoint> local_usable;
  const bool affinity = in.affinity != nullptr && in.affinity->enabled();
  const std::string tag = affinity && !in.affinity->tag().empty() ? in.affinity->tag() : "idc";
  for (uint32_t i : set.members) {
    Endpoint* e = endpoints[i].get();
    const bool local = affinity && logical_idc(*in.idc_map, std::string(tag_of(*e, tag))) ==
                                       in.caller->logical_idc;
    set.local_size += local ? 1 : 0;
    if (weights[i] <= 0) continue;
    const WeightedEndpoint we{e, weights[i]};
    live.push_back(we);
    if (e->meta().ban.state != BanState::kHealthy) continue;
    usable.push_back(we);
    if (local) local_usable.push_back(we);
  }
  set.affinity = affinity;
  set.local_usable = local_usable.size();
  std::vector<WeightedEndpoint>* chosen = &usable;
  if (affinity) {
    const uint32_t min_healthy = in.affinity->has_min_healthy() ? in.affinity->min_healthy() : 1;
    const double min_share = in.affinity->min_healthy_share();
    const bool enough = !local_usable.empty() && local_usable.size() >= min_healthy &&
                        static_cast<double>(local_usable.size()) >=
                            min_share * static_cast<double>(set.local_size) - 1e-9;
    set.widened = !enough;
    if (enough) chosen = &local_usable;
  }
  // Panic: every usable member is banned (or drained and banned): fail open, not closed.
  set.panic = chosen->empty();
  if (set.panic) chosen = &live;
  if (chosen->empty()) {  // every member drained: validation leaves this only to subsets
    for (uint32_t i : set.members) chosen->push_back(WeightedEndpoint{endpoints[i].get(), 1.0});
  }
  set.balancer = make_balancer(in.policy, *in.balancing, *chosen);
  return set;
}

std::vector<CompiledRoute> compile_routes(
    const google::protobuf::RepeatedPtrField<v1::Route>& routes, const CandidateInputs& inputs) {
  std::vector<CompiledRoute> out;
  out.reserve(routes.size());
  for (int r = 0; r < routes.size(); ++r) {
    const v1::Route& route = routes.Get(r);
    CompiledRoute c;
    c.name = route.name().empty() ? absl::StrCat("route", r) : route.name();
    for (const v1::AttributeMatch& a : route.match().attributes()) {
      AttributeCondition cond;
      cond.key = a.key();
      cond.value = a.value();
      cond.op = a.op() == "prefix"    ? AttributeCondition::Op::kPrefix
                : a.op() == "present" ? AttributeCondition::Op::kPresent
                : a.op() == "absent"  ? AttributeCondition::Op::kAbsent
                                      : AttributeCondition::Op::kExact;
      c.attributes.push_back(std::move(cond));
    }
    c.caller_services.assign(route.match().caller_services().begin(),
                             route.match().caller_services().end());
    if (!route.match().caller_idcs().empty()) {
      c.idc_ok = false;
      for (const std::string& idc : route.match().caller_idcs()) {
        c.idc_ok = c.idc_ok || idc == inputs.caller->idc || idc == inputs.caller->logical_idc;
      }
    }
    if (route.match().has_percent() && route.match().percent() < 100) {
      c.always = false;
      c.percent_threshold = static_cast<uint64_t>(std::ldexp(route.match().percent() / 100.0, 64));
    }
    double total = 0;
    for (const v1::Subset& s : route.destinations()) total += s.has_weight() ? s.weight() : 1.0;
    double running = 0;
    for (int d = 0; d < route.destinations_size(); ++d) {
      const v1::Subset& subset = route.destinations(d);
      std::vector<uint32_t> members;
      for (uint32_t i = 0; i < inputs.endpoints->size(); ++i) {
        if (endpoint_has_tags(*(*inputs.endpoints)[i], subset.tags())) members.push_back(i);
      }
      CandidateInputs sub = inputs;
      if (subset.has_balancing()) {
        sub.policy =
            policy_from_name(subset.balancing().policy()).value_or(PolicyKind::kRoundRobin);
        sub.balancing = &subset.balancing();
      }
      const std::string subset_name =
          subset.name().empty() ? absl::StrCat("subset", d) : subset.name();
      c.destinations.push_back(
          build_candidate_set(absl::StrCat(c.name, "/", subset_name), std::move(members), sub));
      running += subset.has_weight() ? subset.weight() : 1.0;
      const double share = running / total;
      c.cumulative.push_back(share >= 1.0 ? UINT64_MAX
                                          : static_cast<uint64_t>(std::ldexp(share, 64)));
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ufc::internal
