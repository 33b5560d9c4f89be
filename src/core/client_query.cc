// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Client::query: renders live state as JSON. Runs under the config mutex, so the snapshot
// it reads cannot be swapped out meanwhile; the request path is never blocked by it.

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "src/core/client_core.h"
#include "src/stats/json_writer.h"

namespace ufc::internal {
namespace {

using Counts = std::array<uint64_t, kOutcomeClassCount>;

constexpr std::string_view kClassKeys[kOutcomeClassCount] = {
    "success_cnt",         "4xx_cnt",   "5xx_cnt",          "connect_refused_cnt",
    "connect_timeout_cnt", "reset_cnt", "write_failed_cnt", "read_timeout_cnt",
    "read_failed_cnt",
};

Counts endpoint_counts(const Endpoint& e) {
  Counts c{};
  for (int i = 0; i < kOutcomeClassCount; ++i) c[i] = e.count(static_cast<OutcomeClass>(i));
  return c;
}

uint64_t total(const Counts& c) {
  uint64_t t = 0;
  for (uint64_t v : c) t += v;
  return t;
}

uint64_t transport_failures(const Counts& c) {
  return total(c) - c[static_cast<int>(OutcomeClass::kSuccess)] -
         c[static_cast<int>(OutcomeClass::kClientError)] -
         c[static_cast<int>(OutcomeClass::kServerError)];
}

// Counts of endpoints no longer in the config: recently departed (live) plus folded.
Counts departed_totals(const ServiceState& state) {
  Counts c{};
  for (int i = 0; i < kOutcomeClassCount; ++i) c[i] = state.departed_counts[i];
  for (const ServiceState::Departed& d : state.departed) {
    const Counts dc = endpoint_counts(*d.endpoint);
    for (int i = 0; i < kOutcomeClassCount; ++i) c[i] += dc[i];
  }
  return c;
}

// The summary fields shared by "services" and "request_info".
void write_summary(JsonWriter& w, const Counts& c, uint64_t inflight) {
  w.key("request_cnt").value(total(c));
  w.key("success_cnt").value(c[static_cast<int>(OutcomeClass::kSuccess)]);
  w.key("4xx_cnt").value(c[static_cast<int>(OutcomeClass::kClientError)]);
  w.key("5xx_cnt").value(c[static_cast<int>(OutcomeClass::kServerError)]);
  w.key("transport_fail_cnt").value(transport_failures(c));
  w.key("inflight").value(inflight);
}

std::string error_json(std::string_view message) {
  JsonWriter w;
  w.begin_object().key("error").value(message).end_object();
  return w.str();
}

std::string not_configured_json(std::string_view service) {
  return error_json(absl::StrCat("service \"", absl::string_view(service.data(), service.size()),
                                 "\" is not configured"));
}

}  // namespace

std::string ClientCore::query(std::string_view what) {
  constexpr std::string_view kRequestInfo = "request_info^";
  constexpr std::string_view kEndpoints = "endpoints^";
  if (what == "services") return query_services();
  if (what.substr(0, kRequestInfo.size()) == kRequestInfo) {
    return query_request_info(what.substr(kRequestInfo.size()));
  }
  if (what.substr(0, kEndpoints.size()) == kEndpoints) {
    return query_endpoints(what.substr(kEndpoints.size()));
  }
  constexpr std::string_view kRoutes = "routes^";
  if (what.substr(0, kRoutes.size()) == kRoutes) return query_routes(what.substr(kRoutes.size()));
  return error_json(absl::StrCat("unknown query \"", absl::string_view(what.data(), what.size()),
                                 "\"; expected services, request_info^<service>, "
                                 "endpoints^<service> or routes^<service>"));
}

std::string ClientCore::query_services() {
  absl::MutexLock lock(&mu_);
  std::vector<const ServiceState*> states;
  for (const auto& [name, state] : services_) {
    expire_departed_locked(*state);
    states.push_back(state.get());
  }
  std::sort(states.begin(), states.end(), [](auto* a, auto* b) { return a->name < b->name; });
  JsonWriter w;
  w.begin_object().key("services").begin_array();
  for (const ServiceState* state : states) {
    const ServiceSnapshot& snap = *state->snapshot.load(std::memory_order_acquire);
    Counts c = departed_totals(*state);
    uint64_t inflight = 0;
    size_t active = 0;
    for (size_t i = 0; i < snap.endpoints.size(); ++i) {
      const Counts ec = endpoint_counts(*snap.endpoints[i]);
      for (int k = 0; k < kOutcomeClassCount; ++k) c[k] += ec[k];
      inflight += snap.endpoints[i]->inflight();
      active += snap.weights[i] > 0 ? 1 : 0;
    }
    w.begin_object();
    w.key("name").value(state->name);
    w.key("version").value(snap.version);
    w.key("policy").value(policy_name(snap.policy));
    w.key("endpoints").value(static_cast<uint64_t>(snap.endpoints.size()));
    w.key("active_endpoints").value(static_cast<uint64_t>(active));
    w.key("banned").value(static_cast<uint64_t>(snap.banned));
    write_summary(w, c, inflight);
    w.key("applied_at").value(absl::ToUnixSeconds(snap.applied_at));
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

std::string ClientCore::query_request_info(std::string_view service) {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(absl::string_view(service.data(), service.size()));
  if (it == services_.end()) return not_configured_json(service);
  expire_departed_locked(*it->second);
  const ServiceState& state = *it->second;
  const ServiceSnapshot& snap = *state.snapshot.load(std::memory_order_acquire);
  Counts c = departed_totals(state);
  uint64_t inflight = 0;
  int64_t last_ns = 0;
  const int64_t now_ns = coarse_.now_ns();
  for (const EndpointRef& e : snap.endpoints) {
    const Counts ec = endpoint_counts(*e);
    for (int k = 0; k < kOutcomeClassCount; ++k) c[k] += ec[k];
    inflight += e->inflight();
    last_ns = std::max(last_ns, e->last_report_ns(now_ns));
  }
  for (const ServiceState::Departed& d : state.departed) {
    inflight += d.endpoint->inflight();
    last_ns = std::max(last_ns, d.endpoint->last_report_ns(now_ns));
  }
  // mtime: wall time of the latest report (the request path only records monotonic time),
  // or of the config when nothing was reported yet.
  absl::Time mtime = snap.applied_at;
  if (last_ns != 0) {
    mtime = clock_->wall_now() - (coarse_.now() - (absl::UnixEpoch() + absl::Nanoseconds(last_ns)));
  }
  size_t banned = 0;
  for (const EndpointRef& e : snap.endpoints) banned += e->meta().ban.state != BanState::kHealthy;
  JsonWriter w;
  w.begin_object().key("request_info").begin_object();
  write_summary(w, c, inflight);
  w.key("ban_cnt").value(state.bans);
  w.key("banned_cnt").value(static_cast<uint64_t>(banned));
  w.key("panic_cnt").value(state.panic_picks.load(std::memory_order_relaxed));
  w.key("deadline_skipped").value(state.deadline_skipped.load(std::memory_order_relaxed));
  const bool fusing = state.fuse_gate.fusing.load(std::memory_order_relaxed);
  w.key("fusing").value(fusing);
  w.key("drop").value(fusing && state.fuse_controller ? state.fuse_controller->drop() : 0.0);
  w.key("fused_cnt").value(state.fused.value());
  w.key("timeouts_in_force").value(fusing ? "T2" : "T1");
  w.key("retry_budget_left")
      .value(static_cast<int64_t>(state.retry_tokens.load(std::memory_order_relaxed)));
  w.key("retries_refused_cnt").value(state.retries_refused.value());
  w.key("mtime").value(absl::ToUnixSeconds(mtime));
  w.end_object().end_object();
  return w.str();
}

std::string ClientCore::query_endpoints(std::string_view service) {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(absl::string_view(service.data(), service.size()));
  if (it == services_.end()) return not_configured_json(service);
  const ServiceSnapshot& snap = *it->second->snapshot.load(std::memory_order_acquire);
  const absl::Time now = coarse_.now();
  JsonWriter w;
  w.begin_object().key("endpoints").begin_object();
  w.key("service").value(it->second->name);
  w.key("version").value(snap.version);
  w.key("policy").value(policy_name(snap.policy));
  w.key("list").begin_array();
  for (size_t i = 0; i < snap.endpoints.size(); ++i) {
    const Endpoint& e = *snap.endpoints[i];
    const Counts c = endpoint_counts(e);
    w.begin_object();
    w.key("address").value(e.address());
    w.key("weight").value(snap.weights[i]);
    w.key("tags").begin_object();
    for (const Tag& t : *e.identity().tags) w.key(t.first).value(t.second);
    w.end_object();
    w.key("inflight").value(e.inflight());
    w.key("ewma_latency_ms").value(static_cast<double>(e.ewma_latency_us()) / 1000.0);
    w.key("request_cnt").value(total(c));
    for (int k = 0; k < kOutcomeClassCount; ++k) w.key(kClassKeys[k]).value(c[k]);
    const BanRecord& b = e.meta().ban;
    const BanHistory* h = b.peek();
    w.key("ban").begin_object();
    w.key("state").value(ban_state_name(b.state));
    w.key("streak").value(h != nullptr ? h->streak : 0u);
    if (b.state != BanState::kHealthy && h != nullptr) {
      w.key("reason").value(h->reason);
      const absl::Duration left =
          b.state == BanState::kBanned ? h->until - now : absl::ZeroDuration();
      w.key("left_ms").value(absl::ToInt64Milliseconds(std::max(left, absl::ZeroDuration())));
    }
    w.end_object();
    w.end_object();
  }
  w.end_array().end_object().end_object();
  return w.str();
}

std::string ClientCore::query_routes(std::string_view service) {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(absl::string_view(service.data(), service.size()));
  if (it == services_.end()) return not_configured_json(service);
  const ServiceSnapshot& snap = *it->second->snapshot.load(std::memory_order_acquire);
  auto write_set = [&](JsonWriter& w, const CandidateSet& set) {
    size_t usable = 0;
    for (uint32_t i : set.members) {
      usable += snap.weights[i] > 0 && snap.endpoints[i]->meta().ban.state == BanState::kHealthy;
    }
    w.begin_object();
    w.key("name").value(set.key);
    w.key("endpoints").value(static_cast<uint64_t>(set.members.size()));
    w.key("usable").value(static_cast<uint64_t>(usable));
    w.key("panic").value(set.panic);
    if (set.affinity) {
      w.key("idc_local").value(!set.widened);
      w.key("local_usable").value(static_cast<uint64_t>(set.local_usable));
      w.key("local_endpoints").value(static_cast<uint64_t>(set.local_size));
    }
    w.end_object();
  };
  JsonWriter w;
  w.begin_object().key("routes").begin_object();
  w.key("service").value(it->second->name);
  w.key("caller_idc").value(snap.env->caller.logical_idc);
  w.key("rules").begin_array();
  for (size_t r = 0; r < snap.routes.size(); ++r) {
    w.begin_object();
    w.key("name").value(snap.routes[r].name);
    w.key("matched").value(snap.route_counters->at(r).value());
    w.key("destinations").begin_array();
    for (const CandidateSet& set : snap.routes[r].destinations) write_set(w, set);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("unmatched").value(snap.route_counters->at(snap.routes.size()).value());
  w.key("default");
  write_set(w, snap.all);
  w.end_object().end_object();
  return w.str();
}

}  // namespace ufc::internal
