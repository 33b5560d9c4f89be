// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/routing/candidate_set.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/config/limits.h"

namespace ufc::internal {
namespace {

std::string_view tag_of(const Endpoint& e, std::string_view key) {
  for (const Tag& t : *e.identity().tags) {
    if (t.first == key) return t.second;
  }
  return {};
}

std::string describe(const std::vector<Tag>& selector) {
  return absl::StrCat("{", absl::StrJoin(selector, ", ", absl::PairFormatter(": ")), "}");
}

using TagView = std::pair<std::string_view, std::string_view>;

// The members of every distinct selector, each chosen among the endpoints carrying its
// rarest tag. Returns false (with the error added) once the work would pass the budget.
class Selector {
 public:
  explicit Selector(const std::vector<const std::vector<Tag>*>& tags) : tags_(tags) {}

  // Registers `selector` before index() runs; returns its id.
  size_t add(const std::vector<Tag>* selector) {
    auto [it, inserted] = ids_.try_emplace(*selector, selectors_.size());
    if (inserted) {
      selectors_.push_back(selector);
      for (const Tag& t : *selector) postings_.try_emplace(TagView(t.first, t.second));
    }
    return it->second;
  }

  // One walk over every endpoint's tags, filling the postings of the selectors' tags.
  void index() {
    if (postings_.empty()) return;
    for (uint32_t i = 0; i < tags_.size(); ++i) {
      for (const Tag& t : *tags_[i]) {
        auto it = postings_.find(TagView(t.first, t.second));
        if (it != postings_.end()) it->second.push_back(i);
      }
    }
  }

  // The members of selector `id`; charges the endpoints examined to `work`.
  std::vector<uint32_t> members(size_t id, int64_t& work) const {
    const std::vector<Tag>& selector = *selectors_[id];
    std::vector<uint32_t> out;
    if (selector.empty()) {
      work += static_cast<int64_t>(tags_.size());
      out.resize(tags_.size());
      for (uint32_t i = 0; i < out.size(); ++i) out[i] = i;
      return out;
    }
    const std::vector<uint32_t>* rarest = nullptr;
    for (const Tag& t : selector) {
      const std::vector<uint32_t>& p = postings_.at(TagView(t.first, t.second));
      if (rarest == nullptr || p.size() < rarest->size()) rarest = &p;
    }
    work += static_cast<int64_t>(rarest->size());
    if (work > kMaxSelectionWork) return out;  // the caller reports the budget
    for (uint32_t i : *rarest) {
      if (selector.size() == 1 || tags_match(*tags_[i], selector)) out.push_back(i);
    }
    return out;
  }

 private:
  const std::vector<const std::vector<Tag>*>& tags_;
  std::map<std::vector<Tag>, size_t> ids_;
  std::vector<const std::vector<Tag>*> selectors_;
  absl::flat_hash_map<TagView, std::vector<uint32_t>> postings_;
};

}  // namespace

std::string logical_idc(const google::protobuf::Map<std::string, std::string>& idc_map,
                        const std::string& physical) {
  auto it = idc_map.find(physical);
  return it == idc_map.end() ? physical : it->second;
}

std::shared_ptr<const CandidateLayout> build_layout(
    const RoutingPolicy& routing, const BalancingConfig& balancing,
    const std::vector<const std::vector<Tag>*>& tags, ValidationErrors& errors, bool allow_empty) {
  auto layout = std::make_shared<CandidateLayout>();
  Selector selector(tags);
  std::vector<std::vector<size_t>> selector_of(routing.rules.size());
  for (size_t r = 0; r < routing.rules.size(); ++r) {
    for (const SubsetSpec& subset : routing.rules[r].destinations) {
      selector_of[r].push_back(selector.add(&subset.selector));
    }
  }
  selector.index();

  // Groups: equal members under an equal balancing are one group. Keyed by the balancing's
  // identity and the members' bytes (bounded by the selection budget).
  absl::flat_hash_map<std::string, uint32_t> group_of;
  std::map<size_t, std::vector<uint32_t>> selected;  // selector id -> members
  int64_t& work = layout->selection_work;
  auto add_group = [&](std::vector<uint32_t> members, const BalancingConfig* b) -> uint32_t {
    std::string key = b->identity();
    key.append(reinterpret_cast<const char*>(members.data()), members.size() * sizeof(uint32_t));
    auto [it, inserted] = group_of.try_emplace(std::move(key), layout->groups.size());
    if (inserted) {
      layout->table_slots += static_cast<int64_t>(b->table_slots(members.size()));
      layout->groups.push_back(CandidateLayout::Group{std::move(members), b});
    }
    return it->second;
  };
  std::vector<uint32_t> everyone(tags.size());
  for (uint32_t i = 0; i < everyone.size(); ++i) everyone[i] = i;
  work += static_cast<int64_t>(tags.size());
  add_group(std::move(everyone), &balancing);
  layout->destinations.resize(routing.rules.size());
  for (size_t r = 0; r < routing.rules.size() && work <= kMaxSelectionWork; ++r) {
    const RouteRule& rule = routing.rules[r];
    for (size_t d = 0; d < rule.destinations.size() && work <= kMaxSelectionWork; ++d) {
      const size_t id = selector_of[r][d];
      auto it = selected.find(id);
      if (it == selected.end()) it = selected.emplace(id, selector.members(id, work)).first;
      if (work > kMaxSelectionWork) break;
      const SubsetSpec& subset = rule.destinations[d];
      if (it->second.empty() && !allow_empty) {
        ValidationErrors::Scope field(errors,
                                      absl::StrCat("routes[", r, "].destinations[", d, "].tags"));
        errors.add(absl::StrCat(describe(subset.selector), " selects no endpoint"));
      }
      const BalancingConfig* b = subset.balancing.has_value() ? &*subset.balancing : &balancing;
      layout->destinations[r].push_back(add_group(it->second, b));
    }
  }
  // A build stopped by its budget leaves later destinations unset; they get the whole
  // set so that no layout, even one refused, has a rule shorter than its destinations.
  for (size_t r = 0; r < routing.rules.size(); ++r) {
    layout->destinations[r].resize(routing.rules[r].destinations.size(), 0);
  }
  if (work > kMaxSelectionWork) {
    ValidationErrors::Scope field(errors, "routes");
    errors.add(absl::StrCat("choosing the subsets' endpoints examines more than ",
                            kMaxSelectionWork,
                            " endpoints (each distinct subset counts the endpoints carrying its "
                            "rarest tag); use fewer distinct subsets or rarer tags"));
  } else if (layout->table_slots > kMaxMaglevEntriesPerService) {
    ValidationErrors::Scope field(errors, routing.rules.empty() ? "balancing" : "routes");
    errors.add(absl::StrCat("the service's ", layout->groups.size(),
                            " distinct candidate sets would build ", layout->table_slots,
                            " consistent-hash table slots, at most ", kMaxMaglevEntriesPerService,
                            " are allowed; lower min_table_size or use fewer distinct subsets"));
  }
  return layout;
}

std::vector<bool> local_endpoints(const EndpointSet& endpoints, const AffinityPolicy& affinity,
                                  const RoutingEnv& env) {
  std::vector<bool> local;
  if (!affinity.enabled) return local;
  local.resize(endpoints.size());
  const std::string& caller_idc = env.caller.logical_idc;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    local[i] =
        logical_idc(env.idc_map, std::string(tag_of(*endpoints.endpoints[i], affinity.tag))) ==
        caller_idc;
  }
  return local;
}

std::unique_ptr<CandidateSet> build_candidate_set(const CandidateLayout& layout, uint32_t g,
                                                  const CandidateInputs& in) {
  const CandidateLayout::Group& group = layout.groups[g];
  auto set = std::make_unique<CandidateSet>();
  set->group = g;
  set->size = group.members.size();
  const std::vector<EndpointRef>& endpoints = in.endpoints->endpoints;
  const std::vector<double>& weights = in.endpoints->weights;
  const std::vector<bool>& out = *in.out;
  std::vector<WeightedEndpoint> usable, live;  // live: weight > 0, in rotation or not
  std::vector<WeightedEndpoint> local_usable;
  const bool affinity = in.affinity->enabled;
  for (uint32_t i : group.members) {
    const bool local = affinity && (*in.local)[i];
    set->local_size += local ? 1 : 0;
    if (weights[i] <= 0) continue;
    const WeightedEndpoint we{endpoints[i].get(), weights[i]};
    live.push_back(we);
    if (out[i]) continue;
    usable.push_back(we);
    if (local) local_usable.push_back(we);
  }
  set->affinity = affinity;
  set->usable = usable.size();
  // No member with weight > 0 (DNS names not resolved yet, static ones drained): an empty
  // set, which pick refuses (kNoEndpoints) — not in panic, not widened.
  if (live.empty() && (group.members.empty() || in.drained_is_empty)) {
    set->size = 0;
    return set;
  }
  set->local_usable = local_usable.size();
  std::vector<WeightedEndpoint>* chosen = &usable;
  if (affinity) {
    const bool enough =
        !local_usable.empty() && local_usable.size() >= in.affinity->min_healthy &&
        static_cast<double>(local_usable.size()) >=
            in.affinity->min_healthy_share * static_cast<double>(set->local_size) - 1e-9;
    set->widened = !enough;
    if (enough) chosen = &local_usable;
  }
  // Panic: every usable member is banned (or drained and banned): fail open, not closed.
  set->panic = chosen->empty();
  if (set->panic) chosen = &live;
  if (chosen->empty()) {  // every member drained: validation leaves this only to subsets
    for (uint32_t i : group.members) {
      chosen->push_back(WeightedEndpoint{endpoints[i].get(), 1.0});
    }
  }
  set->balancer = group.balancing->make(*chosen);
  return set;
}

bool group_contains_any(const CandidateLayout& layout, uint32_t g,
                        const std::vector<uint32_t>& positions) {
  const std::vector<uint32_t>& members = layout.groups[g].members;
  if (members.size() == layout.groups[0].members.size()) return !positions.empty();  // everyone
  for (uint32_t p : positions) {
    if (std::binary_search(members.begin(), members.end(), p)) return true;
  }
  return false;
}

std::vector<RouteTargets> compile_targets(
    const std::vector<RouteRule>& rules, const CandidateLayout& layout,
    const std::vector<std::shared_ptr<const CandidateSet>>& sets, const CallerInfo& caller) {
  std::vector<RouteTargets> out;
  out.reserve(rules.size());
  for (size_t r = 0; r < rules.size(); ++r) {
    const RouteRule& rule = rules[r];
    RouteTargets targets;
    targets.rule = &rule;
    if (!rule.caller_idcs.empty()) {
      targets.idc_ok = false;
      for (const std::string& idc : rule.caller_idcs) {
        targets.idc_ok = targets.idc_ok || idc == caller.idc || idc == caller.logical_idc;
      }
    }
    targets.destinations.reserve(layout.destinations[r].size());
    for (uint32_t g : layout.destinations[r]) targets.destinations.push_back(sets[g].get());
    out.push_back(std::move(targets));
  }
  return out;
}

std::vector<NamedSet> named_sets(const CandidateSet& all, const std::vector<RouteTargets>& routes) {
  std::vector<NamedSet> out{{"*", &all}};
  for (const RouteTargets& r : routes) {
    for (size_t d = 0; d < r.destinations.size(); ++d) {
      out.push_back(NamedSet{r.rule->destinations[d].key, r.destinations[d]});
    }
  }
  return out;
}

std::vector<AffinityChange> affinity_changes(const std::vector<NamedSet>& before,
                                             const std::vector<NamedSet>& after) {
  absl::flat_hash_map<std::string_view, bool> widened_before;
  for (const NamedSet& n : before) {
    if (n.set->affinity) widened_before[n.key] = n.set->widened;
  }
  std::vector<AffinityChange> out;
  for (const NamedSet& n : after) {
    if (!n.set->affinity) continue;
    auto it = widened_before.find(n.key);
    const bool was = it != widened_before.end() ? it->second : false;
    if (n.set->widened != was) out.push_back(AffinityChange{n.key, n.set, n.set->widened});
  }
  return out;
}

}  // namespace ufc::internal
