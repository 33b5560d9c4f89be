// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/stats/stats_json.h"

#include "src/stats/json_writer.h"

namespace ufc::internal {
namespace {

constexpr std::string_view kClassKeys[kOutcomeClassCount] = {
    "success_cnt",         "4xx_cnt",   "5xx_cnt",          "connect_refused_cnt",
    "connect_timeout_cnt", "reset_cnt", "write_failed_cnt", "read_timeout_cnt",
    "read_failed_cnt",
};

// The summary fields shared by "services" and "request_info".
void write_summary(JsonWriter& w, const ServiceStats& s) {
  w.key("request_cnt").value(s.counts.total());
  w.key("success_cnt").value(s.counts[OutcomeClass::kSuccess]);
  w.key("4xx_cnt").value(s.counts[OutcomeClass::kClientError]);
  w.key("5xx_cnt").value(s.counts[OutcomeClass::kServerError]);
  w.key("transport_fail_cnt").value(s.counts.transport_failures());
  w.key("inflight").value(s.inflight);
}

void write_set(JsonWriter& w, const CandidateSetStats& set) {
  w.begin_object();
  w.key("name").value(set.name);
  w.key("endpoints").value(set.endpoints);
  w.key("usable").value(set.usable);
  w.key("panic").value(set.panic);
  if (set.affinity) {
    w.key("idc_local").value(set.idc_local);
    w.key("local_usable").value(set.local_usable);
    w.key("local_endpoints").value(set.local_endpoints);
  }
  w.end_object();
}

}  // namespace

uint64_t OutcomeCounts::total() const {
  uint64_t t = 0;
  for (uint64_t v : by_class) t += v;
  return t;
}

uint64_t OutcomeCounts::transport_failures() const {
  uint64_t t = 0;
  for (int c = static_cast<int>(OutcomeClass::kConnectRefused); c < kOutcomeClassCount; ++c) {
    t += by_class[c];
  }
  return t;
}

OutcomeCounts& OutcomeCounts::operator+=(const OutcomeCounts& other) {
  for (int c = 0; c < kOutcomeClassCount; ++c) by_class[c] += other.by_class[c];
  return *this;
}

std::string services_json(const std::vector<ServiceStats>& services, const std::string& next) {
  JsonWriter w;
  w.begin_object();
  if (!next.empty()) w.key("next").value(next);
  w.key("services").begin_array();
  for (const ServiceStats& s : services) {
    w.begin_object();
    w.key("name").value(s.name);
    w.key("version").value(s.version);
    w.key("policy").value(s.policy);
    w.key("endpoints").value(s.endpoints);
    w.key("active_endpoints").value(s.active_endpoints);
    w.key("banned").value(s.banned_in_snapshot);
    write_summary(w, s);
    w.key("applied_at").value(s.applied_at_unix);
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

std::string request_info_json(const ServiceStats& s) {
  JsonWriter w;
  w.begin_object().key("request_info").begin_object();
  write_summary(w, s);
  w.key("ban_cnt").value(s.bans_issued);
  w.key("banned_cnt").value(s.banned_now);
  w.key("panic_cnt").value(s.panic_picks);
  w.key("deadline_skipped").value(s.deadline_skipped);
  w.key("fusing").value(s.fuse.fusing);
  w.key("drop").value(s.fuse.drop);
  w.key("fused_cnt").value(s.fuse.fused);
  w.key("timeouts_in_force").value(s.fuse.fusing ? "T2" : "T1");
  w.key("retry_budget_left").value(s.fuse.retry_budget_left);
  w.key("retries_refused_cnt").value(s.fuse.retries_refused);
  if (!s.dns.empty()) {
    w.key("dns").begin_array();
    for (const DnsNameStats& d : s.dns) {
      w.begin_object();
      w.key("name").value(d.name);
      w.key("type").value(d.type);
      w.key("state").value(d.state);
      w.key("endpoints").value(d.endpoints);
      w.key("lookups").value(d.lookups);
      w.key("failures").value(d.failures);
      w.key("failures_in_row").value(d.failures_in_row);
      w.key("changes").value(d.changes);
      w.key("holds").value(d.holds);
      w.key("last_error").value(d.last_error);
      w.key("last_ok_unix_ms").value(d.last_ok_unix_ms);
      w.key("next_lookup_in_ms").value(d.next_lookup_in_ms);
      w.end_object();
    }
    w.end_array();
  }
  if (s.faults.shown) {
    w.key("faults").begin_object();
    w.key("aborts").value(s.faults.aborts);
    w.key("delays").value(s.faults.delays);
    w.end_object();
  }
  w.key("mtime").value(s.mtime_unix);
  w.end_object().end_object();
  return w.str();
}

std::string endpoints_json(const ServiceStats& s, const std::vector<EndpointStats>& list) {
  JsonWriter w;
  w.begin_object().key("endpoints").begin_object();
  w.key("service").value(s.name);
  w.key("version").value(s.version);
  w.key("policy").value(s.policy);
  w.key("list").begin_array();
  for (const EndpointStats& e : list) {
    w.begin_object();
    w.key("address").value(e.address);
    w.key("weight").value(e.weight);
    w.key("tags").begin_object();
    for (const Tag& t : e.tags) w.key(t.first).value(t.second);
    w.end_object();
    w.key("inflight").value(e.inflight);
    w.key("ewma_latency_ms").value(e.ewma_latency_ms);
    w.key("request_cnt").value(e.counts.total());
    for (int k = 0; k < kOutcomeClassCount; ++k) w.key(kClassKeys[k]).value(e.counts.by_class[k]);
    w.key("ban").begin_object();
    w.key("state").value(e.ban.state);
    w.key("streak").value(e.ban.streak);
    if (e.ban.out()) {
      w.key("reason").value(e.ban.reason);
      w.key("left_ms").value(e.ban.left_ms);
      w.key("detector").value(e.ban.detector);
      w.key("severity").value(e.ban.severity);
      if (!e.ban.last.empty()) w.key("last").value(e.ban.last);
      if (e.ban.state == "probation") {
        w.key("probation").begin_object();
        w.key("requests").value(e.ban.probation_requests);
        w.key("of").value(e.ban.probation_of);
        w.end_object();
      }
    }
    w.end_object();
    w.end_object();
  }
  w.end_array().end_object().end_object();
  return w.str();
}

std::string routes_json(std::string_view service, const RoutingStats& routes) {
  JsonWriter w;
  w.begin_object().key("routes").begin_object();
  w.key("service").value(service);
  w.key("caller_idc").value(routes.caller_idc);
  w.key("rules").begin_array();
  for (const RouteStats& r : routes.rules) {
    w.begin_object();
    w.key("name").value(r.name);
    w.key("matched").value(r.matched);
    w.key("destinations").begin_array();
    for (const CandidateSetStats& set : r.destinations) write_set(w, set);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("unmatched").value(routes.unmatched);
  w.key("default");
  write_set(w, routes.all);
  w.end_object().end_object();
  return w.str();
}

std::string error_json(std::string_view message) {
  JsonWriter w;
  w.begin_object().key("error").value(message).end_object();
  return w.str();
}

}  // namespace ufc::internal
