// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Client::query: collects live state into stats structs (src/stats/client_stats.h) and
// renders them as JSON. Runs under the config mutex, so the snapshot it reads cannot be
// swapped out meanwhile; the request path is never blocked by it.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/common/strings.h"
#include "src/core/client_core.h"
#include "src/stats/stats_json.h"

namespace ufc::internal {
namespace {

OutcomeCounts counts_of(const Endpoint& e) {
  OutcomeCounts c;
  for (int i = 0; i < kOutcomeClassCount; ++i)
    c.by_class[i] = e.count(static_cast<OutcomeClass>(i));
  return c;
}

CandidateSetStats set_stats(const CandidateSet& set) {
  return CandidateSetStats{set.key,      set.members.size(), set.usable,       set.panic,
                           set.affinity, !set.widened,       set.local_usable, set.local_size};
}

std::string not_configured(std::string_view service) {
  return error_json(absl::StrCat("service \"", av(service), "\" is not configured"));
}

}  // namespace

ServiceStats ClientCore::stats_locked(const ServiceState& state) {
  const ServiceSnapshot& snap = *state.snapshot.load(std::memory_order_acquire);
  ServiceStats s;
  s.name = state.name;
  s.version = snap.policy->version;
  s.policy = snap.policy->balancing.policy->name;
  s.endpoints = snap.endpoints->size();
  s.banned_in_snapshot = snap.banned;
  s.counts = state.departed_counts;
  const int64_t now_ns = coarse_.now_ns();
  int64_t last_ns = 0;
  for (size_t i = 0; i < snap.endpoints->size(); ++i) {
    const Endpoint& e = *snap.endpoints->endpoints[i];
    s.counts += counts_of(e);
    s.inflight += e.inflight();
    s.active_endpoints += snap.endpoints->weights[i] > 0 ? 1 : 0;
    last_ns = std::max(last_ns, e.last_report_ns(now_ns));
  }
  for (const ServiceState::Departed& d : state.departed) {
    s.counts += counts_of(*d.endpoint);
    s.inflight += d.endpoint->inflight();
    last_ns = std::max(last_ns, d.endpoint->last_report_ns(now_ns));
  }
  s.applied_at_unix = absl::ToUnixSeconds(snap.applied_at);
  // mtime: wall time of the latest report (the request path only records monotonic time),
  // or of the config when nothing was reported yet.
  absl::Time mtime = snap.applied_at;
  if (last_ns != 0) {
    mtime = clock_->wall_now() - (coarse_.now() - (absl::UnixEpoch() + absl::Nanoseconds(last_ns)));
  }
  s.mtime_unix = absl::ToUnixSeconds(mtime);
  const BanManager::ServiceBans bans = bans_->stats(state.ban_id, /*per_endpoint=*/false);
  s.bans_issued = bans.bans_issued;
  s.banned_now = bans.out_now;
  s.panic_picks = state.panic_picks.load(std::memory_order_relaxed);
  s.deadline_skipped = state.deadline_skipped.load(std::memory_order_relaxed);
  s.fuse = fuses_->stats(state.fuse_id);
  return s;
}

std::vector<ServiceStats> ClientCore::stats() {
  absl::MutexLock lock(&mu_);
  std::vector<ServiceStats> out;
  for (const auto& [name, state] : services_) {
    expire_departed_locked(*state);
    out.push_back(stats_locked(*state));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string ClientCore::query(std::string_view what) {
  if (what == "services") return services_json(stats());
  const size_t caret = what.find('^');
  const std::string_view kind = what.substr(0, caret == std::string_view::npos ? 0 : caret + 1);
  if (kind != "request_info^" && kind != "endpoints^" && kind != "routes^") {
    return error_json(absl::StrCat("unknown query \"", av(what),
                                   "\"; expected services, request_info^<service>, "
                                   "endpoints^<service> or routes^<service>"));
  }
  const std::string_view service = what.substr(caret + 1);
  absl::MutexLock lock(&mu_);
  auto it = services_.find(av(service));
  if (it == services_.end()) return not_configured(service);
  ServiceState& state = *it->second;
  const ServiceSnapshot& snap = *state.snapshot.load(std::memory_order_acquire);
  if (kind == "request_info^") {
    expire_departed_locked(state);
    return request_info_json(stats_locked(state));
  }
  if (kind == "endpoints^") {
    ServiceStats s;
    s.name = state.name;
    s.version = snap.policy->version;
    s.policy = snap.policy->balancing.policy->name;
    const BanManager::ServiceBans bans = bans_->stats(state.ban_id, /*per_endpoint=*/true);
    std::vector<EndpointStats> list;
    for (size_t i = 0; i < snap.endpoints->size(); ++i) {
      const Endpoint& e = *snap.endpoints->endpoints[i];
      list.push_back(EndpointStats{std::string(e.address()), snap.endpoints->weights[i],
                                   *e.identity().tags, e.inflight(),
                                   static_cast<double>(e.ewma_latency_us()) / 1000.0, counts_of(e),
                                   i < bans.endpoints.size() ? bans.endpoints[i] : BanStats{}});
    }
    return endpoints_json(s, list);
  }
  RoutingStats routes;
  routes.caller_idc = snap.env->caller.logical_idc;
  const std::vector<RouteRule>& rules = snap.policy->routing.rules;
  for (size_t r = 0; r < rules.size(); ++r) {
    RouteStats& rs = routes.rules.emplace_back();
    rs.name = rules[r].name;
    rs.matched = snap.route_counters->at(r).value();
    for (const CandidateSet& set : snap.routes[r].destinations)
      rs.destinations.push_back(set_stats(set));
  }
  routes.unmatched = snap.route_counters->at(rules.size()).value();
  routes.all = set_stats(snap.all);
  return routes_json(state.name, routes);
}

}  // namespace ufc::internal
