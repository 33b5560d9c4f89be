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

// CandidateSet: endpoints a request may be sent to, compiled.
struct CandidateSet {
  std::string key;                // "*" for the whole service, "<rule>/<subset>" otherwise
  std::vector<uint32_t> members;  // positions in the snapshot's EndpointSet
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
// through the policy) and its destinations, parallel to RouteRule::destinations.
struct RouteTargets {
  const RouteRule* rule = nullptr;  // owned by the snapshot's ServicePolicy
  bool idc_ok = true;               // the rule's caller_idcs admit this client (always, when empty)
  std::vector<CandidateSet> destinations;
};

// Per-rule match counts, kept across the snapshot rebuilds bans cause; the last one
// counts picks that matched no rule.
class RouteCounters {
 public:
  explicit RouteCounters(size_t routes) : counters_(routes + 1) {}
  ShardedCounter& at(size_t i) { return counters_[i]; }
  const ShardedCounter& at(size_t i) const { return counters_[i]; }
  size_t size() const { return counters_.size(); }

 private:
  std::vector<ShardedCounter> counters_;
};

// What candidate sets are compiled from.
struct CandidateInputs {
  const EndpointSet* endpoints;
  const std::vector<bool>* out;  // per endpoint: out of rotation (banned or probing)
  const BalancingConfig* balancing;
  const AffinityPolicy* affinity;
  const RoutingEnv* env;
};

// build_candidate_set() compiles `members` into a set: the usable ones (weight > 0, in
// rotation; all weight > 0 ones in panic), narrowed to the caller's logical IDC when
// affinity is on and that IDC has at least min_healthy usable endpoints and at least
// min_healthy_share of its size.
CandidateSet build_candidate_set(std::string key, std::vector<uint32_t> members,
                                 const CandidateInputs& inputs);

// compile_targets() compiles each rule's destinations over `inputs` (a subset's own
// balancing replaces the service's).
std::vector<RouteTargets> compile_targets(const std::vector<RouteRule>& rules,
                                          const CandidateInputs& inputs);

// One candidate set whose IDC affinity widened or narrowed between two compilations.
struct AffinityChange {
  const CandidateSet* set;  // in the newer compilation
  bool widened;
};
// The affinity changes from `before` (null: a new service) to `after`, each given as the
// whole-service set followed by every rule's destinations.
std::vector<AffinityChange> affinity_changes(const CandidateSet* before_all,
                                             const std::vector<RouteTargets>* before_routes,
                                             const CandidateSet& after_all,
                                             const std::vector<RouteTargets>& after_routes);

}  // namespace ufc::internal

#endif  // UFC_ROUTING_CANDIDATE_SET_H_
