// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/routing/candidate_set.h: the endpoints a request may go to, compiled per snapshot.
//
// Everything is decided when a snapshot is built: which endpoints each subset selects,
// which of them are usable (not out of rotation, weight > 0), whether IDC affinity keeps
// the caller local or widens, and the balancer of each candidate set. A pick only tests the
// rules' conditions against the request (route_rule.h) and draws at random for
// percentages and weighted destinations: no allocation, no lookup by name.

#ifndef UFC_ROUTING_CANDIDATE_SET_H_
#define UFC_ROUTING_CANDIDATE_SET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/balancing/balancer.h"
#include "src/balancing/policy_registry.h"
#include "src/common/sharded_counter.h"
#include "src/endpoint/endpoint_set.h"
#include "src/routing/route_rule.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// Who the client is, for caller rules and IDC affinity. Fixed per client (the caller
// service can be overridden per request).
struct CallerInfo {
  std::string service;
  std::string idc;          // physical, ClientOptions::self_idc
  std::string logical_idc;  // through ClientConfig.idc_map
};

// What routing needs from the client: who the caller is and the IDC map. Shared by every
// snapshot built while it holds; replaced when the client's idc_map changes.
struct RoutingEnv {
  CallerInfo caller;
  google::protobuf::Map<std::string, std::string> idc_map;
};

// The logical IDC of a physical one.
std::string logical_idc(const google::protobuf::Map<std::string, std::string>& idc_map,
                        const std::string& physical);

// CandidateLayout: which endpoints each destination selects, decided once per (routing
// policy, endpoint set): by config validation, which refuses what selects nothing or costs
// too much, and kept for every snapshot of that pair. Destinations that select the same
// endpoints with the same balancing share one group, so they share one balancer.
// Immutable and shared.
struct CandidateLayout {
  struct Group {
    std::vector<uint32_t> members;     // ascending positions in the EndpointSet
    const BalancingConfig* balancing;  // owned by the ServicePolicy the layout was built for
  };
  std::vector<Group> groups;                        // [0]: every endpoint, the service's policy
  std::vector<std::vector<uint32_t>> destinations;  // [rule][destination]: its group
  int64_t selection_work = 0;                       // what choosing the members cost (see limits.h)
  int64_t table_slots = 0;  // lookup-table slots the groups' balancers may build, at most
};

// build_layout() chooses every destination's members among endpoints with `tags` (per
// position, sorted), grouping equal ones, and adds to `errors`: a subset that selects no
// endpoint ("routes[r].destinations[d].tags"), and a layout over the selection or table
// budgets of limits.h. Cost: the tags of every endpoint once, plus for every distinct
// selector the endpoints carrying its rarest tag: bounded by kMaxSelectionWork (past it,
// the build stops with the error). Meaningful only when nothing was added. With
// `allow_empty` a subset may select nothing (a service whose DNS names have not resolved:
// its candidate set is empty, and pick refuses with kNoEndpoints).
std::shared_ptr<const CandidateLayout> build_layout(
    const RoutingPolicy& routing, const BalancingConfig& balancing,
    const std::vector<const std::vector<Tag>*>& tags, ValidationErrors& errors,
    bool allow_empty = false);

// CandidateSet: one group of the layout, compiled over the endpoints' ban states.
struct CandidateSet {
  uint32_t group = 0;  // in the layout
  size_t size = 0;     // members, usable or not
  std::unique_ptr<Balancer> balancer;
  bool panic = false;  // every usable member is out of rotation: picking among those
  // IDC affinity, when enabled for the service.
  bool affinity = false;
  bool widened = false;  // local IDC short of usable endpoints: all IDCs in use
  size_t local_size = 0;
  size_t local_usable = 0;
  size_t usable = 0;  // members with weight > 0 in rotation
};

// One rule in a snapshot: the rule (kept beside its sets, so a pick tests it without going
// through the policy) and its destinations' sets, parallel to RouteRule::destinations
// (owned by the snapshot; destinations with the same group share one).
struct RouteTargets {
  const RouteRule* rule = nullptr;  // owned by the snapshot's ServicePolicy
  bool idc_ok = true;               // the rule's caller_idcs admit this client (always, when empty)
  std::vector<const CandidateSet*> destinations;
};

// Per-rule match counts, kept across the snapshot rebuilds bans cause; the last one
// counts picks that matched no rule. None for a service without rules (1 KiB saved a
// service; pick does not count when there are no rules).
class RouteCounters {
 public:
  explicit RouteCounters(size_t routes) : counters_(routes == 0 ? 0 : routes + 1) {}
  ShardedCounter& at(size_t i) { return counters_[i]; }
  const ShardedCounter& at(size_t i) const { return counters_[i]; }
  size_t size() const { return counters_.size(); }

 private:
  std::vector<ShardedCounter> counters_;
};

// What candidate sets are compiled from.
struct CandidateInputs {
  const EndpointSet* endpoints;
  const std::vector<bool>* out;    // per endpoint: out of rotation (banned or probing)
  const std::vector<bool>* local;  // per endpoint: in the caller's logical IDC (affinity on)
  const AffinityPolicy* affinity;
  // A set whose every member is drained (weight 0) is empty rather than all of them at
  // weight 1: for a service with DNS destinations, whose drained static endpoints must not
  // take traffic while its names have not resolved.
  bool drained_is_empty = false;
};

// local_endpoints() is CandidateInputs::local: per endpoint, whether its affinity tag maps
// to the caller's logical IDC. Empty when affinity is off.
std::vector<bool> local_endpoints(const EndpointSet& endpoints, const AffinityPolicy& affinity,
                                  const RoutingEnv& env);

// build_candidate_set() compiles group `g` of `layout` into a set: the usable members
// (weight > 0, in rotation; all weight > 0 ones in panic), narrowed to the caller's
// logical IDC when affinity is on and that IDC has at least min_healthy usable endpoints
// and at least min_healthy_share of its size. Cost: the members, plus the balancer's build.
std::unique_ptr<CandidateSet> build_candidate_set(const CandidateLayout& layout, uint32_t g,
                                                  const CandidateInputs& inputs);

// Whether group `g` has a member among `positions` (ascending).
bool group_contains_any(const CandidateLayout& layout, uint32_t g,
                        const std::vector<uint32_t>& positions);

// compile_targets() lays each rule's destinations over `sets` (parallel to the layout's
// groups), and decides idc_ok for `caller`.
std::vector<RouteTargets> compile_targets(
    const std::vector<RouteRule>& rules, const CandidateLayout& layout,
    const std::vector<std::shared_ptr<const CandidateSet>>& sets, const CallerInfo& caller);

// A set as one destination (or the whole service: key "*") shows it.
struct NamedSet {
  std::string_view key;
  const CandidateSet* set;
};
// Every set of a snapshot by name: "*", then every rule's destinations.
std::vector<NamedSet> named_sets(const CandidateSet& all, const std::vector<RouteTargets>& routes);

// One candidate set whose IDC affinity widened or narrowed between two compilations.
struct AffinityChange {
  std::string_view key;
  const CandidateSet* set;  // in the newer compilation
  bool widened;
};
// The affinity changes from `before` (empty: a new service) to `after`.
std::vector<AffinityChange> affinity_changes(const std::vector<NamedSet>& before,
                                             const std::vector<NamedSet>& after);

}  // namespace ufc::internal

#endif  // UFC_ROUTING_CANDIDATE_SET_H_
