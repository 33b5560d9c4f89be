// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Client::metrics_text: the client's live state in Prometheus' text format. Names and
// labels: docs/metrics.md. Runs under the config mutex (as query does), so no snapshot is
// swapped out meanwhile; the request path is never blocked by it.

#include <algorithm>
#include <array>

#include "src/core/client_core.h"
#include "src/endpoint/latency_histogram.h"
#include "src/service/service_stats.h"
#include "src/stats/prometheus_text.h"

namespace ufc::internal {
namespace {

std::array<int64_t, kLatencyBuckets - 1> bucket_bounds() {
  std::array<int64_t, kLatencyBuckets - 1> b{};
  for (int i = 0; i < kLatencyBuckets - 1; ++i) b[i] = latency_bucket_bound_us(i);
  return b;
}

struct Families {
  MetricFamily requests{"ufc_requests_total", "counter",
                        "Reports of attempts to the endpoint, by outcome."};
  MetricFamily duration{"ufc_request_duration_seconds", "histogram",
                        "The latency callers reported for attempts to the endpoint."};
  MetricFamily in_flight{"ufc_endpoint_in_flight", "gauge",
                         "Picks of the endpoint not yet reported."};
  MetricFamily banned{"ufc_endpoint_banned", "gauge",
                      "1 while the endpoint is out of rotation (banned, probing, on probation)."};
  MetricFamily info{"ufc_service_info", "gauge", "A configured service, with its tier."};
  MetricFamily version{"ufc_service_config_version", "gauge",
                       "The service's config version in force."};
  MetricFamily age{"ufc_service_config_age_seconds", "gauge",
                   "Seconds since the service's config in force was applied."};
  MetricFamily endpoints{"ufc_service_endpoints", "gauge", "Endpoints in the service's config."};
  MetricFamily banned_now{"ufc_service_banned_endpoints", "gauge",
                          "The service's endpoints out of rotation now."};
  MetricFamily bans{"ufc_service_bans_total", "counter", "Bans issued to the service's endpoints."};
  MetricFamily fusing{"ufc_service_fusing", "gauge", "1 while the service is fusing."};
  MetricFamily drop{"ufc_service_fuse_drop_ratio", "gauge",
                    "The share of the service's requests fusing drops."};
  MetricFamily fuse_starts{"ufc_service_fuse_starts_total", "counter", "Times fusing started."};
  MetricFamily fused{"ufc_service_fused_total", "counter", "Picks refused by fusing."};
  MetricFamily deadline{"ufc_service_deadline_skipped_total", "counter",
                        "Picks refused because the request's deadline was spent."};
  MetricFamily panic{"ufc_service_panic_picks_total", "counter",
                     "Picks made while every endpoint was out of rotation."};
  MetricFamily retries{"ufc_service_retries_total", "counter",
                       "Retries admitted by the retry budget (counted every 100 ms)."};
  MetricFamily retries_refused{"ufc_service_retries_refused_total", "counter",
                               "Retries refused (while fusing, or beyond the retry budget)."};
  MetricFamily aborts{"ufc_service_fault_aborts_total", "counter", "Injected aborts."};
  MetricFamily delays{"ufc_service_fault_delays_total", "counter", "Injected delays."};
  MetricFamily sync_connected{"ufc_sync_connected", "gauge",
                              "1 while the client's control-server stream is up."};
  MetricFamily sync_version{"ufc_sync_global_version", "gauge",
                            "The control plane's global version this client holds."};
  MetricFamily sync_connects{"ufc_sync_connects_total", "counter", "Control-server connects."};
  MetricFamily sync_nacks{"ufc_sync_nacks_total", "counter", "Config NACKs the client sent."};
  MetricFamily dns_endpoints{"ufc_dns_endpoints", "gauge",
                             "Endpoints a DNS destination's last good answer gives."};
  MetricFamily dns_lookups{"ufc_dns_lookups_total", "counter",
                           "DNS lookups answered, by result (ok or failed)."};
  MetricFamily dns_failing{"ufc_dns_failing", "gauge",
                           "1 while a DNS destination's lookups fail (its last good set stays)."};
  MetricFamily dns_holds{"ufc_dns_held_answers_total", "counter",
                         "DNS answers held for removing too many endpoints at once."};
  MetricFamily dns_age{"ufc_dns_last_success_age_seconds", "gauge",
                       "Since a DNS destination's last good answer (absent: never)."};
};

}  // namespace

std::string ClientCore::metrics_text(const MetricsOptions& options) {
  static const std::array<int64_t, kLatencyBuckets - 1> kBounds = bucket_bounds();
  Families f;
  f.duration.set_bucket_bounds(kBounds.data(), kLatencyBuckets - 1);
  const std::string caller = settings_.self_service.empty() ? "unknown" : settings_.self_service;
  std::string caller_label;
  append_label(caller_label, "caller", caller);
  const absl::Time wall = clock_->wall_now();
  {
    absl::MutexLock lock(&mu_);
    std::vector<ServiceState*> order;
    order.reserve(services_.size());
    for (const auto& [name, state] : services_) order.push_back(state.get());
    std::sort(order.begin(), order.end(),
              [](const ServiceState* a, const ServiceState* b) { return a->name < b->name; });
    std::string service_labels, labels;
    LatencyCounts hist, service_hist;
    for (ServiceState* service : order) {
      ServiceState& state = *service;
      const ServiceSnapshot& snap = *state.snapshot.load(std::memory_order_acquire);
      const ServiceStats s = stats_locked(state, false);
      const std::vector<BanStats> bans = bans_->stats(state.ban_id, true).endpoints;
      service_labels = caller_label;
      append_label(service_labels, "service", state.name);
      const EndpointSet& set = *snap.endpoints;
      service_hist.fill(0);
      uint64_t service_sum_us = 0;
      bool service_has_hist = false;
      for (size_t i = 0; i < set.endpoints.size(); ++i) {
        const Endpoint& e = *set.endpoints[i];
        const OutcomeCounts counts = counts_of(e);
        const bool banned = i < bans.size() && bans[i].out();
        if (!options.unused_endpoints && counts.total() == 0 && e.inflight() == 0 && !banned) {
          continue;  // never used: its series appear at its first pick
        }
        labels = service_labels;
        append_label(labels, "endpoint", e.address());
        for (int c = 0; c < kOutcomeClassCount; ++c) {
          // Outcomes never seen are left out (as Prometheus clients create a child on its
          // first use): 9 lines per endpoint would mostly be zeros.
          if (counts.by_class[c] != 0 || c == 0) {
            f.requests.add(labels, "outcome", outcome_class_name(static_cast<OutcomeClass>(c)),
                           counts.by_class[c]);
          }
        }
        if (e.latency_histogram(hist)) {
          if (options.endpoint_histograms) {
            f.duration.add_histogram(labels, hist.data(), e.latency_sum_us());
          } else {
            for (int b = 0; b < kLatencyBuckets; ++b) service_hist[b] += hist[b];
            service_sum_us += e.latency_sum_us();
            service_has_hist = true;
          }
        }
        f.in_flight.add(labels, static_cast<uint64_t>(e.inflight()));
        f.banned.add(labels, uint64_t{banned ? 1u : 0u});
      }
      if (service_has_hist)
        f.duration.add_histogram(service_labels, service_hist.data(), service_sum_us);
      labels = service_labels;
      append_label(labels, "tier", snap.policy->tier.empty() ? "unset" : snap.policy->tier);
      f.info.add(labels, uint64_t{1});
      f.version.add(service_labels, s.version);
      f.age.add(service_labels, std::max(0.0, absl::ToDoubleSeconds(wall - snap.applied_at)));
      f.endpoints.add(service_labels, s.endpoints);
      f.banned_now.add(service_labels, s.banned_now);
      f.bans.add(service_labels, s.bans_issued);
      f.fusing.add(service_labels, uint64_t{s.fuse.fusing ? 1u : 0u});
      f.drop.add(service_labels, s.fuse.drop);
      f.fuse_starts.add(service_labels, s.fuse.fuse_starts);
      f.fused.add(service_labels, s.fuse.fused);
      f.deadline.add(service_labels, s.deadline_skipped);
      f.panic.add(service_labels, s.panic_picks);
      f.retries.add(service_labels, s.fuse.retries);
      f.retries_refused.add(service_labels, s.fuse.retries_refused);
      if (s.faults.shown) {
        f.aborts.add(service_labels, s.faults.aborts);
        f.delays.add(service_labels, s.faults.delays);
      }
      for (const DnsNameStats& d : s.dns) {
        labels = service_labels;
        append_label(labels, "name", d.name);
        f.dns_endpoints.add(labels, d.endpoints);
        f.dns_lookups.add(labels, "result", "ok", d.lookups - d.failures);
        f.dns_lookups.add(labels, "result", "failed", d.failures);
        f.dns_failing.add(labels, uint64_t{d.failures_in_row > 0 ? 1u : 0u});
        f.dns_holds.add(labels, d.holds);
        if (d.last_ok_unix_ms != 0) {
          f.dns_age.add(
              labels,
              std::max(0.0, absl::ToDoubleSeconds(wall - absl::FromUnixMillis(d.last_ok_unix_ms))));
        }
      }
    }
  }
  if (sync_ != nullptr) {
    const SyncStats sync = sync_->stats();
    f.sync_connected.add(caller_label, uint64_t{sync.connected ? 1u : 0u});
    f.sync_version.add(caller_label, sync.global_version);
    f.sync_connects.add(caller_label, sync.connects);
    f.sync_nacks.add(caller_label, sync.nacks_sent);
  }
  const MetricFamily* const all[] = {
      &f.requests,       &f.duration,     &f.in_flight,       &f.banned,     &f.info,
      &f.version,        &f.age,          &f.endpoints,       &f.banned_now, &f.bans,
      &f.fusing,         &f.drop,         &f.fuse_starts,     &f.fused,      &f.deadline,
      &f.panic,          &f.retries,      &f.retries_refused, &f.aborts,     &f.delays,
      &f.sync_connected, &f.sync_version, &f.sync_connects,   &f.sync_nacks, &f.dns_endpoints,
      &f.dns_lookups,    &f.dns_failing,  &f.dns_holds,       &f.dns_age};
  size_t bytes = 0;
  for (const MetricFamily* m : all) bytes += m->bytes();
  std::string out;
  out.reserve(bytes);
  for (const MetricFamily* m : all) {
    if (!m->empty()) m->append_to(out);
  }
  return out;
}

}  // namespace ufc::internal
