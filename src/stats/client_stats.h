// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/stats/client_stats.h: a client's live state as plain structs.
//
// Each room fills the part it owns (the ban manager its BanStats, the fuse manager its
// FuseStats, the client the counts and routes); renderers turn them into what a reader
// wants: `Client::query` into JSON (stats_json.h), and later Prometheus text and the
// agent's Query replies, all from the same structs instead of re-parsing JSON.

#ifndef UFC_STATS_CLIENT_STATS_H_
#define UFC_STATS_CLIENT_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ufc/outcome.h"
#include "ufc/pick.h"

namespace ufc::internal {

// Reports by OutcomeClass.
struct OutcomeCounts {
  std::array<uint64_t, kOutcomeClassCount> by_class = {};

  uint64_t operator[](OutcomeClass c) const { return by_class[static_cast<int>(c)]; }
  uint64_t total() const;
  uint64_t transport_failures() const;  // the classes from kConnectRefused on
  OutcomeCounts& operator+=(const OutcomeCounts& other);
};

// One endpoint's ban state (the query's "ban" object; include/ufc/client.h documents it).
struct BanStats {
  // "ok" (in rotation), "banned" (out until its time is up), "probing" (out until the TCP
  // probe answers), "probation" (back on a small share, being judged)
  std::string_view state = "ok";
  uint32_t streak = 0;              // consecutive bans, the current one included
  std::string reason;               // why it was banned ("" when ok)
  std::string last;                 // the latest verdict since ("probe failed", ...) or ""
  std::string_view detector;        // "by_request" or "by_business" ("" when ok)
  double severity = 0;              // of the ban, in [0, 1] (outlier_detector.h)
  int64_t left_ms = 0;              // of a ban's time ("banned" only)
  uint64_t probation_requests = 0;  // "probation": requests judged so far
  uint64_t probation_of = 0;        // "probation": requests it is judged on
  bool out() const { return state != "ok"; }
};

struct EndpointStats {
  std::string address;
  double weight = 0;
  std::vector<Tag> tags;  // sorted by key
  uint64_t inflight = 0;
  double ewma_latency_ms = 0;
  OutcomeCounts counts;
  BanStats ban;
};

// A service's fusing and retry budget.
struct FuseStats {
  bool fusing = false;
  double drop = 0;     // the share of requests dropped while fusing
  uint64_t fused = 0;  // picks dropped
  int64_t retry_budget_left = 0;
  uint64_t retries_refused = 0;
  uint64_t retries = 0;  // retries admitted (tokens used), counted at each fuse tick
  uint64_t fuse_starts = 0;
};

// One candidate set (routing.cc's CandidateSet).
struct CandidateSetStats {
  std::string name;
  uint64_t endpoints = 0;
  uint64_t usable = 0;
  bool panic = false;
  bool affinity = false;  // the fields below mean something only with affinity
  bool idc_local = false;
  uint64_t local_usable = 0;
  uint64_t local_endpoints = 0;
};

struct RouteStats {
  std::string name;
  uint64_t matched = 0;
  std::vector<CandidateSetStats> destinations;
};

struct RoutingStats {
  std::string caller_idc;  // logical
  std::vector<RouteStats> rules;
  uint64_t unmatched = 0;
  CandidateSetStats all;
};

// Faults injected into a service's picks (fault injection; never in the other counts).
struct FaultStats {
  bool shown = false;  // the service has had fault rules
  uint64_t aborts = 0;
  uint64_t delays = 0;
};

// One DNS destination of a service (ServiceConfig.destinations), as the client resolves it.
struct DnsNameStats {
  std::string name;
  std::string_view type;   // "address" or "srv"
  std::string_view state;  // "resolving" (never answered yet), "ok", "failing", "held"
  uint64_t endpoints = 0;  // the last good answer's, in the service's set now
  uint64_t lookups = 0;    // answers received (good or bad)
  uint64_t failures = 0;   // bad answers; the last good set stayed
  uint64_t failures_in_row = 0;
  uint64_t changes = 0;           // answers that changed the endpoints
  uint64_t holds = 0;             // answers held for removing too many at once
  std::string last_error;         // the latest bad answer's status ("" when none yet)
  int64_t last_ok_unix_ms = 0;    // wall time of the latest good answer (0: never)
  int64_t next_lookup_in_ms = 0;  // until the next lookup (0: one is in flight or due)
};

struct ServiceStats {
  std::string name;
  uint64_t version = 0;
  std::string_view policy;
  uint64_t endpoints = 0;
  uint64_t active_endpoints = 0;    // weight > 0
  uint64_t banned_in_snapshot = 0;  // out of rotation when the snapshot in force was built
  OutcomeCounts counts;             // every report, departed endpoints included
  uint64_t inflight = 0;
  int64_t applied_at_unix = 0;
  // The details `request_info` shows.
  uint64_t bans_issued = 0;
  uint64_t banned_now = 0;
  uint64_t panic_picks = 0;
  uint64_t deadline_skipped = 0;
  FuseStats fuse;
  FaultStats faults;
  int64_t mtime_unix = 0;         // the latest report, or the config when there is none
  std::vector<DnsNameStats> dns;  // its DNS destinations, in config order
};

// The control-server sync, for metrics.
struct SyncStats {
  bool connected = false;
  uint64_t global_version = 0;
  uint64_t connects = 0;
  uint64_t nacks_sent = 0;
  uint64_t services = 0;
};

}  // namespace ufc::internal

#endif  // UFC_STATS_CLIENT_STATS_H_
