// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/service/service_snapshot.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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
  absl::flat_hash_map<std::string, Endpoint*> before;  // canonical address -> endpoint
  if (previous != nullptr) {
    for (const EndpointRef& e : previous->endpoints) {
      absl::StatusOr<HostPort> hp = parse_address(e->address());
      if (hp.ok()) before.emplace(hp->canonical, e.get());
    }
  }
  EndpointUpdate update;
  auto set = std::make_shared<EndpointSet>();
  set->endpoints.reserve(specs.size());
  set->weights.reserve(specs.size());
  TagInterner tags;
  absl::flat_hash_set<const Endpoint*> kept;
  for (const EndpointSpec& spec : specs) {
    EndpointIdentity identity;
    identity.address = spec.address;
    identity.host_begin = spec.address.front() == '[' ? 1 : 0;
    identity.host_size = static_cast<uint16_t>(spec.host_port.host.size());
    identity.port = spec.host_port.port;
    identity.tags = tags.intern(spec.tags);
    EndpointRef ref;
    auto it = before.find(spec.host_port.canonical);
    if (it != before.end() && it->second->address() == identity.address &&
        *it->second->identity().tags == *identity.tags &&
        it->second->has_latency_histogram() == histograms) {
      ref = EndpointRef::share(it->second);
      kept.insert(ref.get());
    } else {
      // Without per-CPU records: the client gives them at the service's first pick.
      ref = EndpointRef::adopt(
          new Endpoint(std::move(identity), suspects, histograms, /*live=*/false));
      if (it != before.end()) {
        ref->inherit_latency_from(*it->second);
        update.replaced.emplace_back(ref.get(), it->second);
      }
    }
    set->weights.push_back(spec.weight);
    set->endpoints.push_back(std::move(ref));
  }
  if (previous != nullptr) {
    for (const EndpointRef& e : previous->endpoints) {
      if (!kept.contains(e.get())) update.departed.push_back(EndpointRef::share(e.get()));
    }
  }
  update.set = std::move(set);
  return update;
}

}  // namespace ufc::internal
