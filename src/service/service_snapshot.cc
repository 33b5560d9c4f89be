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

std::unique_ptr<ServiceSnapshot> compile_snapshot(std::shared_ptr<const ServicePolicy> policy,
                                                  std::shared_ptr<const EndpointSet> endpoints,
                                                  std::shared_ptr<const RoutingEnv> env,
                                                  const std::vector<bool>& out,
                                                  std::shared_ptr<RouteCounters> counters,
                                                  absl::Time applied_at) {
  auto snap = std::make_unique<ServiceSnapshot>();
  snap->attempt = policy->attempt;
  std::vector<uint32_t> everyone(endpoints->size());
  for (uint32_t i = 0; i < everyone.size(); ++i) {
    everyone[i] = i;
    snap->banned += out[i] ? 1 : 0;
  }
  const CandidateInputs inputs{endpoints.get(), &out, &policy->balancing, &policy->routing.affinity,
                               env.get()};
  snap->all = build_candidate_set("*", std::move(everyone), inputs);
  snap->routes = compile_targets(policy->routing.rules, inputs);
  snap->route_counters = counters != nullptr
                             ? std::move(counters)
                             : std::make_shared<RouteCounters>(policy->routing.rules.size());
  snap->policy = std::move(policy);
  snap->endpoints = std::move(endpoints);
  snap->env = std::move(env);
  snap->applied_at = applied_at;
  return snap;
}

std::unique_ptr<ServiceSnapshot> recompile(const ServiceSnapshot& current,
                                           const std::vector<bool>& out,
                                           std::shared_ptr<const RoutingEnv> env) {
  return compile_snapshot(current.policy, current.endpoints,
                          env != nullptr ? std::move(env) : current.env, out,
                          current.route_counters, current.applied_at);
}

EndpointUpdate build_endpoints(const std::vector<EndpointSpec>& specs, const EndpointSet* previous,
                               SuspectQueue* suspects) {
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
        *it->second->identity().tags == *identity.tags) {
      ref = EndpointRef::share(it->second);
      kept.insert(ref.get());
    } else {
      ref = EndpointRef::adopt(new Endpoint(std::move(identity), suspects));
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
