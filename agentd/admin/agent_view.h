// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/admin/agent_view.h: what ufc-agentd shows over HTTP (`--admin_listen`): the
// status page, its JSON, and /metrics.
//
//   GET /             the status page (HTML and script built into the binary; no CDN);
//                     it polls /api/status every 2 s
//   GET /api/status   {"services":..., "details":{<service>:{"info":...,"endpoints":...}},
//                     "history":{<service>:[[unix_ms, drop, success_rate|null, rps], ...]},
//                     "events":[...], "sync":..., "agent":...}
//   GET /metrics      Prometheus text: the client's (Client::metrics_text) and the
//                     agent's own (`extra_metrics`)
//   GET /healthz      "ok"
//
// History: a sampler thread reads each service's counters every `sample_period` and keeps
// `history` of samples (the drop share fusing applies, the success rate of the reports of
// that period, requests per second), for at most `max_services` services (by name).
// Events: the EventRing's.
//
// Thread-safety: every method may be called from any thread.

#ifndef UFC_AGENTD_ADMIN_AGENT_VIEW_H_
#define UFC_AGENTD_ADMIN_AGENT_VIEW_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agentd/proxy/proxy.h"
#include "ufc/client.h"
#include "ufc/event.h"

namespace ufc_agent::admin {

// EventRing: the newest events, as JSON lines (ufc::event_json), for the page. Made before
// the client, so that the events of its creation (the first config applied) are kept.
class EventRing {
 public:
  explicit EventRing(size_t capacity = 200) : capacity_(capacity) {}
  void add(const ufc::Event& e);
  // A JSON array of the events, oldest first.
  std::string json() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

class AgentView {
 public:
  struct Options {
    absl::Duration sample_period = absl::Seconds(1);
    size_t history = 300;                        // samples per service (5 minutes at 1 s)
    size_t max_services = 200;                   // with history and details
    std::string agent_json = "{}";               // {"mode":..., ...}: shown as is
    std::function<std::string()> extra_metrics;  // appended to /metrics
    ufc::MetricsOptions metrics;                 // the client's part of /metrics
  };

  // `events` (optional) must outlive the view.
  AgentView(ufc::Client* client, const EventRing* events, Options options);
  ~AgentView();  // stops the sampler
  AgentView(const AgentView&) = delete;
  AgentView& operator=(const AgentView&) = delete;

  // Starts the sampler thread.
  void start();
  void stop();

  // The site handler for a ProxyServer in site mode.
  proxy::SiteResponse handle(const proxy::SiteRequest& request);

  std::string status_json();
  // Takes one sample now (tests; the sampler calls it every period).
  void sample();

 private:
  struct Sample {
    int64_t unix_ms = 0;
    double drop = 0;
    double success_rate = -1;  // -1: no report in the period
    double rps = 0;
  };
  struct Series {
    uint64_t last_requests = 0;
    uint64_t last_success = 0;
    int64_t last_ms = 0;
    std::deque<Sample> samples;
  };

  ufc::Client* const client_;
  const EventRing* const events_;
  const Options options_;
  const absl::Time started_;
  absl::Mutex mu_;
  std::map<std::string, Series> history_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread sampler_;
};

}  // namespace ufc_agent::admin

#endif  // UFC_AGENTD_ADMIN_AGENT_VIEW_H_
