// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/service_snapshot.h: everything `pick` reads about one service, frozen.

#ifndef UFC_CORE_SERVICE_SNAPSHOT_H_
#define UFC_CORE_SERVICE_SNAPSHOT_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "src/balancing/balancer.h"
#include "src/banning/ban_policy.h"
#include "src/common/duration.h"
#include "src/config/fingerprint.h"
#include "src/config/policy.h"
#include "src/core/endpoint.h"
#include "src/fusing/fuse_controller.h"
#include "src/fusing/fuse_policy.h"
#include "src/fusing/shedding.h"
#include "src/routing/router.h"
#include "src/stats/sharded_counter.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// What routing needs from the client: who the caller is and the IDC map. Shared by every
// snapshot built while it holds; replaced when the client's idc_map changes.
struct RoutingEnv {
  CallerInfo caller;
  google::protobuf::Map<std::string, std::string> idc_map;
};

// ServiceSnapshot: one applied version of a service's config, compiled for the request
// path: the endpoints (shared with other versions where unchanged), the routing rules and
// a balancer per candidate set over its usable endpoints. It keeps no copy of the config itself:
// endpoints carry their address and tags, the balancer its parameters, and a fingerprint stands for
// the rest.
//
// Immutable once published, apart from the balancer's cursors and the endpoints' own
// atomics. Published through ServiceState::snapshot and freed through EpochDomain.
struct ServiceSnapshot {
  uint64_t version = 0;
  Fingerprint content;  // of the ServiceConfig it was built from (repeat detection)
  PolicyKind policy = PolicyKind::kRoundRobin;
  v1::Balancing balancing;  // policy parameters, for rebuilds
  BanPolicy ban;
  FusePolicy fuse;
  RetryPolicy retry;
  // T2, the strict set in force while fusing (T1 where the config sets none).
  int64_t strict_connect_ns = kInfiniteNs;
  int64_t strict_read_ns = kInfiniteNs;
  int64_t strict_write_ns = kInfiniteNs;
  // T1 in nanoseconds (kInfiniteNs where the config sets none), and the deadline margin:
  // integers, because pick() caps them with a few compares.
  int64_t connect_ns = kInfiniteNs;
  int64_t read_ns = kInfiniteNs;
  int64_t write_ns = kInfiniteNs;
  int64_t deadline_margin_ns = 0;
  std::vector<EndpointRef> endpoints;  // config order
  std::vector<double> weights;         // config order; 0 = drained

  // Routing: the rules as configured (to recompile after bans) and compiled, the
  // candidate set of requests no rule matches (every endpoint), and who the caller is.
  google::protobuf::RepeatedPtrField<v1::Route> route_config;
  v1::IdcAffinity affinity;
  std::shared_ptr<const RoutingEnv> env;
  std::vector<CompiledRoute> routes;
  CandidateSet all;
  std::shared_ptr<RouteCounters> route_counters;  // kept across rebuilds of one version

  size_t banned = 0;      // endpoints banned or probing when this was built
  absl::Time applied_at;  // wall time, for display
};

// build_snapshot() compiles a *validated* config. Endpoints of `previous` whose address
// (canonically compared) and tags are unchanged are shared, so their live state carries
// over; an address whose tags changed gets a new endpoint that inherits the old one's
// latency view (the old one, with its counts, becomes departed).
// New endpoints report by-request suspects to `suspects`. Called under the client's config
// mutex (it reads the endpoints' ban records).
std::unique_ptr<ServiceSnapshot> build_snapshot(const v1::ServiceConfig& config,
                                                const ServiceSnapshot* previous,
                                                absl::Time wall_now, SuspectQueue* suspects,
                                                std::shared_ptr<const RoutingEnv> env);

// rebuild_snapshot() recompiles `current` after ban states (or the routing environment)
// changed: same config, same endpoints, new candidate sets. Called under the client's
// config mutex. `env` defaults to the current one.
std::unique_ptr<ServiceSnapshot> rebuild_snapshot(const ServiceSnapshot& current,
                                                  std::shared_ptr<const RoutingEnv> env = nullptr);

// Computes `banned` and the candidate sets (routes, IDC affinity, panic) from the
// endpoints' ban records.
void finish_snapshot(ServiceSnapshot& snapshot);

// A service's ban budget: banned endpoints and the most the max ratio allows, both among
// endpoints that take traffic (weight > 0). Drained endpoints count for neither: otherwise
// draining half a service would let every active endpoint be banned.
struct BanRoom {
  size_t active = 0;  // endpoints with weight > 0
  size_t banned = 0;  // of those, banned or probing
  size_t limit = 0;   // floor(max_ratio x active)
};
// Reads the endpoints' ban records: under the client's config mutex.
BanRoom ban_room(const ServiceSnapshot& snapshot);

// ServiceState: a service's slot in the client, stable across config versions.
//
// `snapshot` is the only thing the request path reads. The rest is control-path state
// guarded by the client's config mutex.
struct ServiceState {
  explicit ServiceState(std::string service_name) : name(std::move(service_name)) {}
  ~ServiceState() { delete snapshot.load(std::memory_order_relaxed); }

  const std::string name;
  // Read by every pick; the counters below are written under stress (panic, expired
  // deadlines), so each has a cache line of its own rather than one shared with this.
  alignas(64) std::atomic<ServiceSnapshot*> snapshot{nullptr};
  // Picks made in panic (every usable endpoint banned). Written only in panic.
  alignas(64) std::atomic<uint64_t> panic_picks{0};
  // Picks refused because the request's deadline had (nearly) passed.
  alignas(64) std::atomic<uint64_t> deadline_skipped{0};

  // --- Fusing: read by every pick, written by the control tick ---
  struct alignas(64) FuseGate {
    std::atomic<bool> fusing{false};
    std::atomic<uint64_t> drop[kTrafficClasses] = {};  // a 64-bit draw below it: drop
  } fuse_gate;
  // Retry budget: retries left until the next tick; taken by retry picks only.
  alignas(64) std::atomic<int64_t> retry_tokens{0};
  // Written on the fusing path only (per-class demand while fusing, drops) and by refused
  // retries.
  ShardedCounter fused;
  ShardedCounter retries_refused;
  std::array<ShardedCounter, kTrafficClasses> fusing_demand;

  // --- Fusing, control path (under the client's config mutex) ---
  FusePolicy fuse_policy;
  std::unique_ptr<FuseController> fuse_controller;
  uint64_t last_requests = 0, last_ok = 0, last_failed = 0, last_fused = 0;
  std::array<uint64_t, kTrafficClasses> last_demand = {};
  ClassShares mix = {};      // demand per class over the last tick spent fusing
  double reported_drop = 0;  // the drop share the last fuse event announced
  int64_t retry_granted = 0;
  std::deque<std::pair<uint64_t, uint64_t>> retry_window;  // per tick: (first attempts, retries)
  uint64_t fuse_starts = 0;

  // --- Control path, under the client's config mutex ---
  uint64_t bans = 0;                // bans issued over the service's life (not unbans)
  bool max_ratio_reported = false;  // until the banned count drops below the limit again
  absl::Time last_evaluation = absl::InfinitePast();  // business-signal interval

  // Endpoints that left the config recently. Picks made before they left may still report
  // to them, so their live counts stay in the service totals for a grace period...
  struct Departed {
    EndpointRef endpoint;
    int64_t since_ns;
  };
  std::vector<Departed> departed;
  // ...after which their counts are folded in here, by OutcomeClass.
  uint64_t departed_counts[kOutcomeClassCount] = {};
};

}  // namespace ufc::internal

#endif  // UFC_CORE_SERVICE_SNAPSHOT_H_
