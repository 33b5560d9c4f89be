// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/client_core.h: the machinery behind ufc::Client, which orchestrates the rooms.
//
// Data plane: `pick` enters an epoch section, finds the service in the published registry,
// loads its snapshot and asks the snapshot's balancer; `report` touches only the endpoint
// the Pick carries. Control plane: every config change is a ConfigUpdate delivered to
// deliver() (the caller's apply/remove, a file, later the sync stream): parsed outside
// the config mutex, then under it compiled into snapshots that are published with one
// atomic store each, the old ones retired to the epoch domain. Bans and fusing live in
// their managers (src/banning, src/fusing), which run on their own timers; this class
// holds the lock, republishes snapshots when the ban manager says so, and emits events.

#ifndef UFC_CORE_CLIENT_CORE_H_
#define UFC_CORE_CLIENT_CORE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/banning/ban_manager.h"
#include "src/common/coarse_clock.h"
#include "src/common/duration.h"
#include "src/common/epoch.h"
#include "src/core/remote_picks.h"
#include "src/core/service_slot.h"
#include "src/core/service_state.h"
#include "src/core/service_table.h"
#include "src/dns/dns_manager.h"
#include "src/fusing/fuse_manager.h"
#include "src/source/config_source.h"
#include "src/source/parsed_update.h"
#include "src/source/version_book.h"
#include "src/stats/client_stats.h"
#include "src/sync/sync_source.h"
#include "ufc/client.h"
#include "ufc/service_handle.h"

namespace ufc::internal {

class ClientCore final : public ConfigSink,
                         private BanManager::Listener,
                         private DnsManager::Listener {
 public:
  // create() validates `options`, reads the config file, applies it with the initial
  // config, and starts the background tasks.
  static absl::StatusOr<std::unique_ptr<ClientCore>> create(const ClientOptions& options);
  ~ClientCore() override;

  absl::StatusOr<Pick> pick(const PickRequest& request);
  absl::StatusOr<Pick> pick(const ServiceHandle& service, const PickRequest& request);
  absl::StatusOr<Pick> pick(const ServiceHandle& service);
  absl::StatusOr<Outcome> call(const PickRequest& request,
                               absl::FunctionRef<Outcome(const Pick&)> attempt);
  absl::StatusOr<Outcome> call(const ServiceHandle& service, const PickRequest& request,
                               absl::FunctionRef<Outcome(const Pick&)> attempt);
  // Client::report, inline: Client's request-path methods are defined in client_core.cc,
  // so that each is one call.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void report(const Pick& pick, const Outcome& outcome) {
    static_assert(Pick::kHolder == ShardStats::kHolder);
    if (pick.reported_) return;  // also an injected abort's, and a moved-from Pick
    int64_t latency_us;
    // A latency beyond the fast conversion (negative, or decades) goes out of line, so
    // that the common path makes no call: it saves no registers.
    if (__builtin_expect(!fast_latency_micros(outcome.latency, latency_us), 0)) {
      return report_unusual_latency(pick, outcome);
    }
    pick.reported_ = true;
    pick.endpoint_->on_report(pick.hold_, pick.shard_, outcome.classify(), latency_us,
                              coarse_.tick());
  }
  // report() of a latency the fast conversion does not take.
  void report_unusual_latency(const Pick& pick, const Outcome& outcome);
  // Client::service: the handle of `name` (a slot made on first use).
  absl::StatusOr<ServiceHandle> service(std::string_view name);
  std::string query(std::string_view what);
  // Client::metrics_text (client_metrics.cc).
  std::string metrics_text(const MetricsOptions& options);
  absl::Status apply(const v1::ServiceConfig& service);
  absl::Status apply(const v1::ClientConfig& config);
  absl::Status apply(const v1::ClientConfig& config, const ApplyOptions& options);
  absl::Status remove(std::string_view service);
  absl::Status wait_for_config(std::string_view service, absl::Duration timeout);

  // The config-source seam (see src/source/config_source.h).
  UpdateResult deliver(const ConfigUpdate& update) override;
  // Starts `source` delivering to this client; it is stopped (destroyed) before the
  // client goes away. The source's start error, if any. Thread-safe.
  absl::Status attach(std::unique_ptr<ConfigSource> source);
  // An endpoint-only update (DNS, a sync delta): new endpoints for `service` under its
  // current policy, which is not parsed again. INVALID_ARGUMENT naming each bad endpoint
  // field (or a routing subset left empty), NOT_FOUND for an unknown service.
  absl::Status update_endpoints(std::string_view service,
                                const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints);
  // The newest global version a source delivered (0: none).
  uint64_t global_version() const;
  // The policy in force for `service`, or nullptr. Shared by every snapshot of its version.
  std::shared_ptr<const ServicePolicy> policy(std::string_view service) const;

  // Every service's stats, sorted by name (what query renders).
  std::vector<ServiceStats> stats();
  // query("services^<after>"): at most `limit` services after `after` in name order, and
  // whether more follow. O(log services + the page's endpoints).
  std::vector<ServiceStats> stats_page(std::string_view after, size_t limit, bool& more);

 private:
  friend class ufc::Client;  // its pick() calls the inline forms below
  explicit ClientCore(const ClientOptions& options);

  // pick()'s bodies, inline: defined in client_core.cc, where pick() and Client::pick()
  // (only they) use them, so that each Client::pick is one call.
  inline absl::StatusOr<Pick> pick_named(const PickRequest& request);
  inline absl::StatusOr<Pick> pick_handle(const ServiceHandle& service, const PickRequest& request);

  // The short path of both (cursor policies, no call) in a section try_enter() opened;
  // everything else through `slow` (the *_guarded form) or pick_chosen().
  template <typename Slow>
  absl::StatusOr<Pick> pick_short(EpochDomain::Record* section, const PickRequest& request,
                                  ServiceState* service, Slow slow);
  absl::StatusOr<Pick> pick_chosen(EpochDomain::Record* section, const PickRequest& request,
                                   const ServiceSnapshot& snapshot, Endpoint* refused);
  // The whole path under a Guard, out of line.
  absl::StatusOr<Pick> pick_named_guarded(const PickRequest& request);
  absl::StatusOr<Pick> pick_handle_guarded(const ServiceHandle& service,
                                           const PickRequest& request);
  // pick() once the service is found: the balancer's choice for a plain request, or
  // pick_full().
  absl::StatusOr<Pick> pick_from(const PickRequest& request, ServiceState& service);
  // The balancer's context for a plain request.
  PickContext plain_context(const PickRequest& request);
  // A plain request's Pick (the service's normal timeouts, no deadline, no fault): counted
  // and read inside the epoch section, made once it ended, straight into the caller's
  // StatusOr.
  struct PlainPick {
    ABSL_ATTRIBUTE_ALWAYS_INLINE PlainPick(Endpoint* e, uint32_t s, const AttemptPolicy& a)
        : endpoint(e),
          hold(e->on_pick(s)),
          shard(s),
          max_attempts(a.max_attempts),
          connect_ns(a.connect_ns),
          read_ns(a.read_ns),
          write_ns(a.write_ns) {}
    Endpoint* endpoint;
    std::atomic<uint64_t>* hold;
    uint32_t shard;
    uint32_t max_attempts;
    int64_t connect_ns, read_ns, write_ns;
  };
  ABSL_ATTRIBUTE_ALWAYS_INLINE static Pick make_pick(const PlainPick& p) {
    return Pick(p.endpoint, p.hold, p.shard, p.connect_ns, p.read_ns, p.write_ns, kInfiniteNs,
                /*retry_allowed=*/p.max_attempts > 1, p.max_attempts, /*fault=*/0);
  }
  // Everything pick_from() does not do itself: faults, then pick_in().
  absl::StatusOr<Pick> pick_full(const PickRequest& request, ServiceState& service,
                                 const ServiceSnapshot& snapshot);
  // A pick found `seen` marked kCold: gives the endpoints of `seen` and of the service's
  // current snapshot their per-CPU records, marks the service hot and clears kCold. Under
  // the service's activation mutex; allocates. Idempotent.
  void activate(ServiceState& service, const ServiceSnapshot& seen);
  // A pick for `name`, a service this client has no config for: a backup agent's choice
  // (ClientOptions::backup), else the refusal (INVALID_ARGUMENT for ""). Outside any
  // epoch section of this client's: the agent's round trip would hold reclamation up.
  absl::StatusOr<Pick> not_configured(const PickRequest& request, std::string_view name);
  // The Pick of a backup agent's choice.
  static Pick remote_pick(const RemotePicks::Choice& choice);
  // Why `handle` cannot be used here: it names nothing, or another client's service.
  absl::Status bad_handle(const ServiceHandle& handle) const;
  // call() with the pick it makes and the lookup of the service's current attempt limit.
  template <typename PickFn, typename FindFn>
  absl::StatusOr<Outcome> call_with(const PickRequest& request,
                                    absl::FunctionRef<Outcome(const Pick&)> attempt,
                                    PickFn pick_one, FindFn find_service);
  // pick() once the service's snapshot is loaded: the deadline, an injected abort, fusing,
  // the retry budget, routing and balancing. `fault` is the Pick's fault word (0: none).
  absl::StatusOr<Pick> pick_in(const PickRequest& request, ServiceState& service,
                               const ServiceSnapshot& snapshot, uint32_t fault);
  // pick() for a service with fault rules, out of line: decides the fault, runs pick_in()
  // with it and counts it when the Pick carries it.
  absl::StatusOr<Pick> pick_with_faults(const PickRequest& request, ServiceState& service,
                                        const ServiceSnapshot& snapshot);

  // Applies a parsed update under mu_: versions first (a stale one rejects the whole of an
  // all_or_nothing update), then services, removals, the registry and the IDC map.
  absl::Status install_locked(const ConfigUpdate& update, const ParsedUpdate& parsed,
                              UpdateResult& result, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds and publishes a service's snapshot from a policy and endpoint specs (merged
  // with the last good answers of its DNS destinations, which it hands the DNS manager).
  void install_service_locked(std::shared_ptr<const ServicePolicy> policy,
                              const ParsedEndpoints& endpoints, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // For a service with DNS destinations: its static endpoints and its names' last good
  // answers, merged (cut to fit the service's budgets, with an event), then compiled.
  void merge_and_compile_locked(ServiceState& state, std::shared_ptr<const ServicePolicy> policy,
                                bool announce, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The endpoint part of it: the set (live state kept per address), the managers, the
  // snapshot. `announce`: a config_applied event (not for a DNS answer).
  void compile_endpoints_locked(ServiceState& state, std::shared_ptr<const ServicePolicy> policy,
                                const ParsedEndpoints& parsed, bool announce,
                                std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The policy in force for `name`, or nullptr.
  const ServicePolicy* policy_locked(const std::string& name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a service out of services_; it is retired by the next publish_registry_locked().
  void remove_locked(const std::string& name, uint64_t removed_at, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes `next` for `state`, retiring the snapshot it replaces, with the IDC affinity
  // widen/narrow events between the two.
  void publish_locked(ServiceState& state, std::unique_ptr<ServiceSnapshot> next,
                      std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes a table of services_, then retires the old table and removed services.
  void publish_registry_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adopts a new idc_map (if it differs) and recompiles every service's routing with it.
  void refresh_env_locked(const google::protobuf::Map<std::string, std::string>& idc_map,
                          std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Every kHousekeepingPeriod: departed endpoints, idle services, reclamation, the endpoint
  // graveyard.
  void housekeeping();
  // Gives back the per-CPU records of services idle for settings_.idle_release: marks their
  // snapshots kCold, waits until every pick that could have missed the mark has left, then
  // folds the records of endpoints no Pick holds (unless a pick activated it meanwhile).
  void release_idle_services();
  // Folds the records of the endpoints of a service that is not hot which no Pick holds;
  // marks the service idle once none is left with records. Under mu_ and its
  // activation_mu, after the grace that followed marking it kCold.
  void release_held_locked(ServiceState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // BanManager::Listener: republishes the services whose ban states changed.
  void on_bans_changed(absl::Span<const std::string> services, std::vector<Event>& events) override;
  // DnsManager::Listener: rebuilds the service's endpoints from its names' answers.
  void on_destinations_changed(const std::string& service, std::vector<Event>& events) override;
  // `departed_inflight`: count picks in flight to endpoints that left the config too.
  ServiceStats stats_locked(ServiceState& state, bool departed_inflight)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Event make_event(EventType type, const std::string& service, uint64_t version,
                   std::string detail);
  void emit(std::vector<Event>& events);

  // What the client reads of its options after create(); the rest configures the parts
  // it builds, and the initial config (50 MB, perhaps) is parsed and not kept.
  struct Settings {
    explicit Settings(const ClientOptions& options)
        : self_service(options.self_service),
          self_idc(options.self_idc),
          apply_defaults(options.apply_defaults),
          latency_histograms(options.latency_histograms),
          idle_release(options.idle_release),
          on_event(options.on_event) {}
    std::string self_service;
    std::string self_idc;
    ApplyOptions apply_defaults;
    bool latency_histograms;
    absl::Duration idle_release;
    EventCallback on_event;
  };
  const Settings settings_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<RandomSource> random_;
  std::shared_ptr<Executor> executor_;
  CoarseClock coarse_;
  EpochDomain& domain_;  // EpochDomain::global(), looked up once
  std::unique_ptr<BanManager> bans_;
  std::unique_ptr<FuseManager> fuses_;
  std::unique_ptr<DnsManager> dns_;
  std::vector<Executor::TaskId> tasks_;
  absl::Mutex sources_mu_;  // not mu_: a source's start() delivers, which takes mu_
  std::vector<std::unique_ptr<ConfigSource>> sources_ ABSL_GUARDED_BY(sources_mu_);
  // The control-server sync, when configured (owned by sources_; set once in create()).
  SyncSource* sync_ = nullptr;
  // Picks asked of backup agents, when ClientOptions::backup lists some (set once in
  // create()).
  std::unique_ptr<RemotePicks> remote_;

  std::atomic<const ServiceTable*> registry_;  // published; services owned by services_

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<ServiceState>> services_ ABSL_GUARDED_BY(mu_);
  // The same services in name order (query's pages). Its own copy of the names: a
  // flat_hash_map moves its keys when it grows.
  std::map<std::string, ServiceState*, std::less<>> by_name_ ABSL_GUARDED_BY(mu_);
  // Who the caller is and the IDC map, for routing; replaced when the idc_map changes.
  std::shared_ptr<const RoutingEnv> env_ ABSL_GUARDED_BY(mu_);
  std::vector<ServiceState*> removed_unpublished_ ABSL_GUARDED_BY(mu_);
  // A service was added or removed since the registry was last published.
  bool registry_stale_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_idle_check_ns_ = 0;  // housekeeping's (the executor's) only
  // The slots of the service handles made (one reference each), pointed at their services
  // by publish_registry_locked(); dropped by housekeeping once no handle is left.
  absl::flat_hash_map<std::string, ServiceSlot*> slots_ ABSL_GUARDED_BY(mu_);
  VersionBook versions_ ABSL_GUARDED_BY(mu_);  // nothing older replaces what applied
};

}  // namespace ufc::internal

#endif  // UFC_CORE_CLIENT_CORE_H_
