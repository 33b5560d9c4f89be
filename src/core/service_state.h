// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/service_state.h: a service's slot in the client, stable across config versions.

#ifndef UFC_CORE_SERVICE_STATE_H_
#define UFC_CORE_SERVICE_STATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "src/banning/ban_manager.h"
#include "src/dns/dns_manager.h"
#include "src/endpoint/endpoint.h"
#include "src/fault/fault_counters.h"
#include "src/fusing/fuse_gate.h"
#include "src/fusing/fuse_manager.h"
#include "src/service/departed_endpoints.h"
#include "src/service/service_policy.h"
#include "src/service/service_snapshot.h"
#include "src/stats/client_stats.h"

namespace ufc::internal {

// ServiceState: what `pick` finds by name. `snapshot` and the atomics are the request
// path's; the rest is control-path state guarded by the client's config mutex.
// Published in the client's ServiceTable, freed through EpochDomain after removal.
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
  // Fusing and the retry budget, as the FuseManager publishes them.
  FuseGate fuse;
  // Injected faults, for a service that has had fault rules (nullptr before: 1 KiB saved
  // per service). Set once, under the config mutex, before the first snapshot with rules is
  // published; pick reads it only through such a snapshot (acquired), so the pointer is
  // never seen unset or changing. Kept when the rules go: a drill's counts stay visible.
  std::unique_ptr<FaultCounters> faults;

  // --- Per-CPU records: memory follows use ---
  // The service's endpoints get their per-CPU records at its first pick (a snapshot
  // published while it is not `hot` carries ServiceSnapshot::kCold, which sends picks to
  // ClientCore::activate) and give them back after ClientOptions::idle_release without a
  // pick or report. This mutex orders that: the activating pick, the publication of a
  // snapshot (which activates a hot service's new endpoints first) and the release.
  // After the config mutex when both are held.
  absl::Mutex activation_mu;
  bool hot ABSL_GUARDED_BY(activation_mu) = false;
  // Housekeeping's idle check (config mutex): the endpoints' activity when it last
  // changed, and when that was.
  uint64_t activity = 0;
  int64_t active_at_ns = 0;

  // --- Control path, under the client's config mutex ---
  BanServiceId ban_id = 0;  // this service in the client's ban and fuse managers
  FuseServiceId fuse_id = 0;
  DnsServiceId dns_id = 0;  // in the DNS manager, once the service has had destinations
  // With DNS destinations: the static endpoints, which every answer is merged with.
  std::vector<EndpointSpec> configured;
  DepartedEndpoints departed;  // still in the service totals
  uint64_t publications = 0;   // snapshots published: a rebuild made off the mutex checks it
};

}  // namespace ufc::internal

#endif  // UFC_CORE_SERVICE_STATE_H_
