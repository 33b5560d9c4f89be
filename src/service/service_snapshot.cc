// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/service/service_snapshot.h"

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "src/config/address.h"

namespace ufc::internal {
namespace {

// Endpoints of a service mostly share a handful of tag sets ({idc: bj, version: v1}):
// each distinct set is stored once per build.
class TagInterner {
 public:
  std::shared_ptr<const std::vector<Tag>> intern(const std::vector<Tag>& sorted) {
    auto [it, inserted] = sets_.try_emplace(sorted);
    if (inserted) it->second = std::make_shared<const std::vector<Tag>>(it->first);
    return it->second;
  }

 private:
  std::map<std::vector<Tag>, std::shared_ptr<const std::vector<Tag>>> sets_;
};

}  // namespace

namespace {

// Compiles the groups of `snap` that `rebuild` (nullptr: all) says, sharing the rest with
// `previous`, then lays out the rules over them.
void compile_sets(ServiceSnapshot& snap, const ServiceSnapshot* previous,
                  const std::vector<uint32_t>* changed) {
  const CandidateLayout& layout = *snap.layout;
  const CandidateInputs inputs{snap.endpoints.get(), &snap.out, snap.local.get(),
                               &snap.policy->routing.affinity,
                               /*drained_is_empty=*/!snap.policy->destinations.empty()};
  snap.sets.resize(layout.groups.size());
  for (uint32_t g = 0; g < layout.groups.size(); ++g) {
    if (previous != nullptr && !group_contains_any(layout, g, *changed)) {
      snap.sets[g] = previous->sets[g];
    } else {
      snap.sets[g] = build_candidate_set(layout, g, inputs);
    }
  }
  snap.all = snap.sets[0].get();
  snap.routes = compile_targets(snap.policy->routing.rules, layout, snap.sets, snap.env->caller);
  snap.banned = 0;
  for (bool o : snap.out) snap.banned += o ? 1 : 0;
  snap.checks.set((snap.faults != nullptr ? ServiceSnapshot::kFaults : 0) |
                  (!snap.routes.empty() ? ServiceSnapshot::kRouting : 0) |
                  (snap.all->size == 0 || snap.all->panic ? ServiceSnapshot::kUnusualSet : 0));
}

}  // namespace

std::unique_ptr<ServiceSnapshot> compile_snapshot(
    std::shared_ptr<const ServicePolicy> policy, std::shared_ptr<const EndpointSet> endpoints,
    std::shared_ptr<const CandidateLayout> layout, std::shared_ptr<const RoutingEnv> env,
    std::vector<bool> out, std::shared_ptr<RouteCounters> counters, absl::Time applied_at) {
  auto snap = std::make_unique<ServiceSnapshot>();
  snap->attempt = policy->attempt;
  snap->faults = policy->faults.empty() ? nullptr : &policy->faults;
  snap->local = std::make_shared<const std::vector<bool>>(
      local_endpoints(*endpoints, policy->routing.affinity, *env));
  snap->route_counters = counters != nullptr
                             ? std::move(counters)
                             : std::make_shared<RouteCounters>(policy->routing.rules.size());
  snap->policy = std::move(policy);
  snap->endpoints = std::move(endpoints);
  snap->layout = std::move(layout);
  snap->env = std::move(env);
  snap->out = std::move(out);
  snap->applied_at = applied_at;
  compile_sets(*snap, nullptr, nullptr);
  return snap;
}

std::unique_ptr<ServiceSnapshot> recompile(const ServiceSnapshot& current, std::vector<bool> out) {
  std::vector<uint32_t> changed;
  for (uint32_t i = 0; i < out.size(); ++i) {
    if (out[i] != current.out[i]) changed.push_back(i);
  }
  auto snap = std::make_unique<ServiceSnapshot>();
  snap->attempt = current.attempt;
  snap->faults = current.faults;
  snap->policy = current.policy;
  snap->endpoints = current.endpoints;
  snap->layout = current.layout;
  snap->env = current.env;
  snap->local = current.local;
  snap->out = std::move(out);
  snap->route_counters = current.route_counters;
  snap->applied_at = current.applied_at;
  compile_sets(*snap, &current, &changed);
  return snap;
}

std::unique_ptr<ServiceSnapshot> recompile(const ServiceSnapshot& current, std::vector<bool> out,
                                           std::shared_ptr<const RoutingEnv> env) {
  return compile_snapshot(current.policy, current.endpoints, current.layout, std::move(env),
                          std::move(out), current.route_counters, current.applied_at);
}

EndpointUpdate build_endpoints(const std::vector<EndpointSpec>& specs, const EndpointSet* previous,
                               SuspectQueue* suspects, bool histograms) {
  const std::vector<EndpointRef> none;
  const std::vector<EndpointRef>& old = previous != nullptr ? previous->endpoints : none;
  // The previous endpoint of the spec's canonical address, by index in `old`, or -1. An
  // update nearly always lists the endpoints it keeps where they were, so the one at the
  // same index is tried first: the same configured address is the same canonical one, and
  // old addresses are unique. The map of every old canonical address (a parse and a copy
  // of each) is built only when that fails.
  absl::flat_hash_map<std::string, uint32_t> by_canonical;
  bool mapped = false;
  auto previous_of = [&](size_t i, const EndpointSpec& spec) -> int64_t {
    if (i < old.size() && old[i]->address() == spec.address) return static_cast<int64_t>(i);
    if (!mapped) {
      mapped = true;
      by_canonical.reserve(old.size());
      for (uint32_t k = 0; k < old.size(); ++k) {
        absl::StatusOr<HostPort> hp = parse_address(old[k]->address());
        if (hp.ok()) by_canonical.emplace(std::move(hp->canonical), k);
      }
    }
    auto it = by_canonical.find(spec.host_port.canonical);
    return it == by_canonical.end() ? -1 : static_cast<int64_t>(it->second);
  };
  EndpointUpdate update;
  auto set = std::make_shared<EndpointSet>();
  set->endpoints.reserve(specs.size());
  set->weights.reserve(specs.size());
  TagInterner tags;
  std::vector<bool> kept(old.size(), false);
  for (size_t i = 0; i < specs.size(); ++i) {
    const EndpointSpec& spec = specs[i];
    const int64_t before = previous_of(i, spec);
    Endpoint* const was = before >= 0 ? old[before].get() : nullptr;
    EndpointRef ref;
    if (was != nullptr && was->address() == spec.address && *was->identity().tags == spec.tags &&
        was->has_latency_histogram() == histograms) {
      ref = EndpointRef::share(was);
      kept[before] = true;
    } else {
      EndpointIdentity identity;
      identity.address = spec.address;
      identity.host_begin = spec.address.front() == '[' ? 1 : 0;
      identity.host_size = static_cast<uint16_t>(spec.host_port.host.size());
      identity.port = spec.host_port.port;
      identity.tags = tags.intern(spec.tags);
      // Without per-CPU records: the client gives them at the service's first pick.
      ref = EndpointRef::adopt(
          new Endpoint(std::move(identity), suspects, histograms, /*live=*/false));
      if (was != nullptr) {
        ref->inherit_latency_from(*was);
        update.replaced.emplace_back(ref.get(), was);
      }
    }
    set->weights.push_back(spec.weight);
    set->endpoints.push_back(std::move(ref));
  }
  for (size_t k = 0; k < old.size(); ++k) {
    if (!kept[k]) update.departed.push_back(EndpointRef::share(old[k].get()));
  }
  update.set = std::move(set);
  return update;
}

}  // namespace ufc::internal
