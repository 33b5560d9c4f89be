// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/client_core.h: the machinery behind ufc::Client.
//
// Data plane: `pick` enters an epoch section, finds the service in the published registry,
// loads its snapshot and asks the snapshot's balancer; `report` touches only the endpoint
// the Pick carries. Control plane: `apply`/`remove` validate, build a new snapshot (or
// registry) under the config mutex, publish it with one atomic store and retire the old
// one to the epoch domain. Background: a tick refreshes the cached clock and reclaims
// retired snapshots.

#ifndef UFC_CORE_CLIENT_CORE_H_
#define UFC_CORE_CLIENT_CORE_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/banning/suspect_queue.h"
#include "src/common/coarse_clock.h"
#include "src/common/epoch.h"
#include "src/core/service_snapshot.h"
#include "src/core/service_table.h"
#include "ufc/client.h"

namespace ufc::internal {

class ClientCore {
 public:
  // create() validates `options`, loads and applies the initial config and starts the
  // background tasks.
  static absl::StatusOr<std::unique_ptr<ClientCore>> create(const ClientOptions& options);
  ~ClientCore();

  absl::StatusOr<Pick> pick(const PickRequest& request);
  absl::StatusOr<Outcome> call(const PickRequest& request,
                               absl::FunctionRef<Outcome(const Pick&)> attempt);
  void report(const Pick& pick, const Outcome& outcome);
  std::string query(std::string_view what);
  absl::Status apply(const v1::ServiceConfig& service);
  absl::Status apply(const v1::ClientConfig& config);
  absl::Status remove(std::string_view service);

 private:
  explicit ClientCore(const ClientOptions& options);

  // Applies a validated service config under mu_; appends the events to emit. A batch
  // passes publish=false and publishes the registry once at the end.
  absl::Status apply_locked(const v1::ServiceConfig& service, std::vector<Event>& events,
                            bool publish) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OK when `service` may replace `previous`; `repeat` when it is the same version and
  // content (a no-op). FAILED_PRECONDITION, naming the version field, otherwise.
  static absl::Status check_version(const v1::ServiceConfig& service,
                                    const ServiceSnapshot* previous, bool& repeat);
  // Takes a service out of services_; it is retired by the next publish_registry_locked().
  void remove_locked(const std::string& name, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const RoutingEnv> make_env(
      const google::protobuf::Map<std::string, std::string>& idc_map) const;
  // Adopts a new idc_map (if it differs) and recompiles every service's routing with it.
  void refresh_env_locked(const google::protobuf::Map<std::string, std::string>& idc_map,
                          std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes a table of services_, then retires the old table and removed services.
  void publish_registry_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Folds departed endpoints past their grace period into the service's totals.
  void expire_departed_locked(ServiceState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void emit(std::vector<Event>& events);
  Event make_event(EventType type, const std::string& service, uint64_t version,
                   std::string detail);

  // --- Banning (client_banning.cc) ---
  // Probe answers arrive on the prober's thread, possibly after the client is gone: they
  // go through the gate, which the destructor closes first.
  struct ProbeGate {
    absl::Mutex mu;
    ClientCore* core ABSL_GUARDED_BY(mu) = nullptr;
  };
  // Tick: hands the endpoints report() found suspect to the ban logic.
  void process_suspects();
  // Every kHousekeepingPeriod: ban expiry -> probes, lost probes, long bans, business-
  // signal intervals, departed endpoints, reclamation.
  void housekeeping();
  // A probe answered for `endpoint`'s ban number `generation`; returns the events to emit.
  std::vector<Event> on_probe_result(Endpoint& endpoint, uint64_t generation, bool reachable);
  // Bans `endpoint` unless that would exceed the max ban ratio `room` tracks (then reports
  // it, once per episode).
  bool try_ban_locked(ServiceState& state, const ServiceSnapshot& snapshot, Endpoint& endpoint,
                      std::string reason, absl::Time now, BanRoom& room, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A banned endpoint whose probe failed (or never answered) is banned again, doubled.
  void reban_locked(ServiceState& state, const ServiceSnapshot& snapshot, Endpoint& endpoint,
                    std::string reason, absl::Time now, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void evaluate_business_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                                absl::Time now, std::vector<Event>& events, bool& changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a config change: unbans everyone if banning was turned off; caps running bans
  // by the new max_time.
  void settle_bans_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                          std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fusing (client_fusing.cc): one control tick for `state`: measure, update the
  // controller, publish drop thresholds and the retry budget, report transitions.
  void fuse_tick_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                        std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rebuilds and publishes `state`'s snapshot after ban changes.
  void republish_locked(ServiceState& state, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // IDC affinity widen / narrow events between two snapshots of a service.
  void affinity_events(const ServiceState& state, const ServiceSnapshot* before,
                       const ServiceSnapshot& after, std::vector<Event>& events);
  Event ban_event(EventType type, const ServiceState& state, const Endpoint& endpoint,
                  absl::Duration ban_time);

  std::string query_services();
  std::string query_request_info(std::string_view service);
  std::string query_endpoints(std::string_view service);
  std::string query_routes(std::string_view service);

  ClientOptions options_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<RandomSource> random_;
  std::shared_ptr<Executor> executor_;
  std::shared_ptr<Prober> prober_;
  std::shared_ptr<ProbeGate> probe_gate_;  // lets late probe answers find out we are gone
  CoarseClock coarse_;
  EpochDomain& domain_;  // EpochDomain::global(), looked up once
  SuspectQueue suspects_;
  std::vector<Executor::TaskId> tasks_;

  std::atomic<const ServiceTable*> registry_;  // published; services owned by services_

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<ServiceState>> services_ ABSL_GUARDED_BY(mu_);
  // Who the caller is and the IDC map, for routing; replaced when the idc_map changes.
  std::shared_ptr<const RoutingEnv> env_ ABSL_GUARDED_BY(mu_);
  std::vector<ServiceState*> removed_unpublished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ufc::internal

#endif  // UFC_CORE_CLIENT_CORE_H_
