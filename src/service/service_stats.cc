// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/service/service_stats.h"

#include <algorithm>
#include <string>

namespace ufc::internal {
namespace {

CandidateSetStats set_stats(std::string_view key, const CandidateSet& set) {
  return CandidateSetStats{std::string(key), set.size,     set.usable,       set.panic,
                           set.affinity,     !set.widened, set.local_usable, set.local_size};
}

}  // namespace

OutcomeCounts counts_of(const Endpoint& e) {
  OutcomeCounts c;
  for (int i = 0; i < kOutcomeClassCount; ++i)
    c.by_class[i] = e.count(static_cast<OutcomeClass>(i));
  return c;
}

void add_snapshot_stats(const ServiceSnapshot& snap, int64_t now_ns, ServiceStats& s,
                        int64_t& last_report_ns) {
  s.name = snap.policy->name;
  s.version = snap.policy->version;
  s.policy = snap.policy->balancing.policy->name;
  s.endpoints = snap.endpoints->size();
  s.banned_in_snapshot = snap.banned;
  s.applied_at_unix = absl::ToUnixSeconds(snap.applied_at);
  for (size_t i = 0; i < snap.endpoints->size(); ++i) {
    const Endpoint& e = *snap.endpoints->endpoints[i];
    s.counts += counts_of(e);
    s.inflight += e.inflight();
    s.active_endpoints += snap.endpoints->weights[i] > 0 ? 1 : 0;
    last_report_ns = std::max(last_report_ns, e.last_report_ns(now_ns));
  }
}

std::vector<EndpointStats> endpoint_stats(const ServiceSnapshot& snap,
                                          const std::vector<BanStats>& bans) {
  std::vector<EndpointStats> list;
  list.reserve(snap.endpoints->size());
  for (size_t i = 0; i < snap.endpoints->size(); ++i) {
    const Endpoint& e = *snap.endpoints->endpoints[i];
    list.push_back(EndpointStats{std::string(e.address()), snap.endpoints->weights[i],
                                 *e.identity().tags, e.inflight(),
                                 static_cast<double>(e.ewma_latency_us()) / 1000.0, counts_of(e),
                                 i < bans.size() ? bans[i] : BanStats{}});
  }
  return list;
}

RoutingStats routing_stats(const ServiceSnapshot& snap) {
  RoutingStats routes;
  routes.caller_idc = snap.env->caller.logical_idc;
  const std::vector<RouteRule>& rules = snap.policy->routing.rules;
  for (size_t r = 0; r < rules.size(); ++r) {
    RouteStats& rs = routes.rules.emplace_back();
    rs.name = rules[r].name;
    rs.matched = snap.route_counters->at(r).value();
    for (size_t d = 0; d < rules[r].destinations.size(); ++d) {
      rs.destinations.push_back(
          set_stats(rules[r].destinations[d].key, *snap.routes[r].destinations[d]));
    }
  }
  routes.unmatched = rules.empty() ? 0 : snap.route_counters->at(rules.size()).value();
  routes.all = set_stats("*", *snap.all);
  return routes;
}

}  // namespace ufc::internal
