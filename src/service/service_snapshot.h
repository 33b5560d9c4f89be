// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/service/service_snapshot.h: everything `pick` reads about one service, frozen.

#ifndef UFC_SERVICE_SERVICE_SNAPSHOT_H_
#define UFC_SERVICE_SERVICE_SNAPSHOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "src/endpoint/endpoint_set.h"
#include "src/endpoint/suspect_queue.h"
#include "src/routing/candidate_set.h"
#include "src/service/service_policy.h"

namespace ufc::internal {

// ServiceSnapshot: one service as the request path sees it: its policy (shared by every
// snapshot of the config version), its endpoints (shared until an update changes them),
// and the candidate sets compiled from both and the endpoints' ban states, each with its
// balancer. Built only by compile_snapshot(), so every field is derived in one place: a
// ban, an unban or a new IDC map recompiles the sets over the same policy and endpoints.
//
// Immutable once published, apart from the balancers' cursors, the endpoints' own atomics
// and the kCold bit of `checks`. Published through the client's per-service slot and freed
// through EpochDomain.
struct ServiceSnapshot {
  // What pick must look at besides the balancer, one bit each; 0 for a service without
  // fault rules and routing rules whose endpoints are not all out and hold their per-CPU
  // records (nearly every service in use nearly always), which lets pick take its short
  // path (what the request asks for, and fusing, are checked there too).
  static constexpr uint32_t kFaults = 1;      // fault rules: `faults` is set
  static constexpr uint32_t kRouting = 2;     // routing rules: `routes` is not empty
  static constexpr uint32_t kUnusualSet = 4;  // `all` is empty (DNS unresolved) or in panic
  // The endpoints may lack their per-CPU records (the service is idle): pick activates the
  // service first. Set by the client when it publishes for an idle service or lets one go
  // idle, cleared by the activating pick; so atomic, on a published snapshot.
  static constexpr uint32_t kCold = 8;
  class Checks {
   public:
    Checks() = default;
    Checks(const Checks& other) : bits_(other.load()) {}
    Checks& operator=(const Checks& other) {
      bits_.store(other.load(), std::memory_order_relaxed);
      return *this;
    }
    // Acquire: a pick that sees kCold cleared sees the records the activation gave.
    uint32_t load() const { return bits_.load(std::memory_order_acquire); }
    void set(uint32_t bits) const { bits_.fetch_or(bits, std::memory_order_release); }
    void clear(uint32_t bits) const { bits_.fetch_and(~bits, std::memory_order_release); }

   private:
    mutable std::atomic<uint32_t> bits_{0};
  };
  Checks checks;
  AttemptPolicy attempt;  // policy->attempt, copied: pick reads it without another load
  // &policy->faults when the service has fault rules, else nullptr.
  const FaultPolicy* faults = nullptr;
  std::vector<RouteTargets> routes;   // parallel to policy->routing.rules
  const CandidateSet* all = nullptr;  // requests no rule matches: every endpoint (sets[0])
  // One per group of the layout; groups no ban change touched are shared with the
  // snapshot compiled before, balancer and all.
  std::vector<std::shared_ptr<const CandidateSet>> sets;
  std::shared_ptr<const ServicePolicy> policy;
  std::shared_ptr<const EndpointSet> endpoints;
  std::shared_ptr<const CandidateLayout> layout;  // of policy over endpoints
  std::shared_ptr<const RoutingEnv> env;
  std::shared_ptr<const std::vector<bool>> local;  // local_endpoints() under env
  std::vector<bool> out;                           // the ban states it was compiled with
  std::shared_ptr<RouteCounters> route_counters;   // kept across recompilations of a version
  size_t banned = 0;      // endpoints out of rotation when this was compiled
  absl::Time applied_at;  // wall time the config version was applied, for display

  // route() is the candidate set for `request`: the chosen destination of the first rule
  // that matches (the caller is request.caller_service, else `self_service`), or every
  // endpoint when none does; the match is counted. Inline: the request path. Cost: nothing
  // without rules; otherwise the conditions of the rules tried, and a draw or two.
  const CandidateSet& route(const PickRequest& request, const std::string& self_service,
                            const Random& random) const {
    if (routes.empty()) return *all;
    const std::string_view caller =
        request.caller_service.empty() ? std::string_view(self_service) : request.caller_service;
    size_t r = 0;
    while (r < routes.size() &&
           !(routes[r].idc_ok && routes[r].rule->matches(request, caller, random))) {
      ++r;
    }
    route_counters->at(r).add();  // the last counter counts requests no rule matched
    return r < routes.size() ? *routes[r].destinations[routes[r].rule->choose(random)] : *all;
  }
};

// compile_snapshot() builds the snapshot of `policy` over `endpoints` as `layout` (built
// for the two) selects them, with `out` (per endpoint: out of rotation) and `env`.
// `counters` carries the route counters of an earlier compilation of the same version;
// nullptr starts new ones. Cost: every group's members and balancer.
std::unique_ptr<ServiceSnapshot> compile_snapshot(
    std::shared_ptr<const ServicePolicy> policy, std::shared_ptr<const EndpointSet> endpoints,
    std::shared_ptr<const CandidateLayout> layout, std::shared_ptr<const RoutingEnv> env,
    std::vector<bool> out, std::shared_ptr<RouteCounters> counters, absl::Time applied_at);

// recompile() is compile_snapshot() with everything of `current` but the ban states:
// only the groups holding an endpoint whose state changed are rebuilt, the others are
// shared. Cost: those groups, plus a look-up per group and changed endpoint.
std::unique_ptr<ServiceSnapshot> recompile(const ServiceSnapshot& current, std::vector<bool> out);
// The same under a new environment: every group is rebuilt.
std::unique_ptr<ServiceSnapshot> recompile(const ServiceSnapshot& current, std::vector<bool> out,
                                           std::shared_ptr<const RoutingEnv> env);

// What an endpoint update produced.
struct EndpointUpdate {
  std::shared_ptr<const EndpointSet> set;
  // (new, old): an address whose tags changed got a new endpoint, which inherits the old
  // one's latency view here and its ban record from the ban manager.
  std::vector<std::pair<const Endpoint*, const Endpoint*>> replaced;
  // Endpoints of `previous` the new set does not list (replaced ones included).
  std::vector<EndpointRef> departed;
};

// build_endpoints() turns specs into a set. Endpoints of `previous` whose address and tags
// are unchanged are shared, so their live state carries over. New endpoints report a
// tripped failure window to `suspects`, fill a latency histogram if `histograms`, and hold
// no per-CPU records yet (Endpoint::activate).
EndpointUpdate build_endpoints(const std::vector<EndpointSpec>& specs, const EndpointSet* previous,
                               SuspectQueue* suspects, bool histograms = false);

}  // namespace ufc::internal

#endif  // UFC_SERVICE_SERVICE_SNAPSHOT_H_
