// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/banning/ban_manager.h: the ban lifecycle of one client's backends (spec section 6).
//
//   report() -- failure window trips --> hold at once (TripGate permitting) + SuspectQueue
//       --(tick)--> judge_trip against the peers' windows --> try_ban | let go
//   housekeeping --(business interval)--> find_outliers against the peers --> try_ban
//   try_ban: under the max ratio, or worse than the mildest holder (which it replaces);
//       streak (reset after streak_reset), ban for base x 2^(n-1)
//   housekeeping --(transport ban expired)--> TCP probe --> unban | ban again, doubled
//   housekeeping --(business ban expired)--> probation: a small share of traffic for a few
//       requests, judged against the peers --> unban | ban again, doubled
//   housekeeping --(streak >= long_ban)--> long ban event

#ifndef UFC_BANNING_BAN_MANAGER_H_
#define UFC_BANNING_BAN_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "src/banning/ban_policy.h"
#include "src/banning/ban_record.h"
#include "src/banning/outlier_detector.h"
#include "src/common/slot_map.h"
#include "src/endpoint/endpoint_set.h"
#include "src/endpoint/suspect_queue.h"
#include "src/endpoint/trip_gate.h"
#include "src/stats/client_stats.h"
#include "ufc/clock.h"
#include "ufc/event.h"
#include "ufc/executor.h"
#include "ufc/prober.h"

namespace ufc::internal {

// A service's handle in a BanManager.
using BanServiceId = uint32_t;

// BanManager: decides which backends of a client's services are out of rotation.
//
// It keeps one BanRecord per endpoint of every service it tracks, parallel to the
// service's EndpointSet; endpoints themselves carry no ban state. It learns of failures
// two ways: endpoints whose failure window trips (it sets the trip rule on them) land on
// its SuspectQueue, drained every `tick`; and every kHousekeepingPeriod it compares each
// backend's business figures with its peers' once per interval, expires bans into TCP
// probes or probations and reports long bans. It never touches a snapshot: when ban
// states change it tells its Listener, which republishes the services (reading
// out_of_rotation()).
//
// Both detectors ban a backend only when it is far worse than its peers (the others), so
// a service failing as a whole bans nobody (outlier_detector.h). Under the max ratio the
// slots go to the most severe outliers, whichever detector found them.
//
// Cost: the tick is O(endpoints) per service with suspects (its windows read once; each
// suspect's peers then cost O(window)), plus a shard sum of its endpoints at most every
// 50 ms (recent counts); housekeeping O(endpoints) per service (records, the TripGate's median),
// plus a shard sum of every endpoint once per business interval and, while some backend is on
// probation, once per pass.
//
// Bans do not wait for its timers to take effect: the manager keeps a TripGate per
// service (the peers' current failure rate as a threshold, and the slots the max ratio
// leaves), and a report that trips a window past the threshold holds its endpoint out of
// pick at once; every ban the manager decides holds its endpoint too until the listener
// has republished. Probation is enforced the same way, by the endpoint's admission word.
//
// Time, timers and probes are injected (Clock, Executor, Prober), so tests drive it on
// simulated time without a Client. Thread-safety: every method may be called from any
// thread. It calls out (Listener, the event callback, the prober) without its mutex; the
// owner may call back in from there. A probe answer reaches the Listener under the probe
// gate, which stop() waits for: call stop() (or destroy the manager) with none of the
// owner's locks held. Lock order: the owner's lock, then this manager's.
class BanManager {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Ban states changed in `services` (by name): republish them. Called from the
    // manager's timers or the prober's thread, never after stop() returns; may call back
    // into the manager. Events it causes (IDC affinity widening, say) go to `events`,
    // after the ban events.
    virtual void on_bans_changed(absl::Span<const std::string> services,
                                 std::vector<Event>& events) = 0;
  };

  struct Options {
    Clock* clock = nullptr;                       // monotonic time for every decision; required
    Executor* executor = nullptr;                 // runs the tick and housekeeping; required
    std::shared_ptr<Prober> prober;               // required
    Listener* listener = nullptr;                 // optional
    EventCallback on_event;                       // ban events; optional
    absl::Duration tick = absl::Milliseconds(1);  // how often suspects are handled
  };

  // Ban expiry, business intervals and long bans are looked at this often.
  static constexpr absl::Duration kHousekeepingPeriod = absl::Milliseconds(100);
  // How long past its timeout a probe may stay unanswered before it counts as failed (a
  // prober that lost it must not keep a backend out of rotation forever).
  static constexpr absl::Duration kProbeGrace = absl::Seconds(5);

  // Starts the timers.
  explicit BanManager(Options options);
  // stop() cancels the timers and closes the probe gate, waiting for a run or an answer
  // being handled; from then on the Listener and the event callback are not called (later
  // answers are dropped). The rest of the manager stays usable. Idempotent.
  void stop();
  ~BanManager();  // stop()
  BanManager(const BanManager&) = delete;
  BanManager& operator=(const BanManager&) = delete;

  // Where the endpoints of tracked services must send a tripped failure window: pass it
  // to every Endpoint built for them. Lives as long as the manager.
  SuspectQueue* suspects() { return &suspects_; }

  // add_service() starts tracking a service, with no endpoints yet. `idle`, if given, is
  // the client's word for "no report can arrive": set while the service's endpoints hold
  // no per-CPU records (FuseGate::idle). Once a pass over an idle service, with its
  // business evaluation, found every endpoint healthy, housekeeping skips it until the
  // word clears or an update comes: the fleet's idle services cost nothing per pass. It
  // must outlive remove_service().
  //
  // Memory follows use: once settled, the service's records give back their counts (the
  // detectors' baselines and recent rates, BanCounts), leaving 24 bytes per endpoint; the
  // first pass after the word clears takes them again from the endpoints' figures. The
  // reports made between the service's first pick and that pass (at most
  // kHousekeepingPeriod) fall into the new baselines: its first business interval judges
  // what came after.
  BanServiceId add_service(std::string name, const std::atomic<bool>* idle = nullptr);
  // update_service() installs a version of the service: its policy, config version (for
  // events) and endpoints. Endpoints already tracked for it keep their records; each
  // (new, old) pair in `replaced` (same address, new tags) inherits the old one's record
  // (baselines reset; a probe in flight or a probation is forgotten and redone); the rest
  // start in rotation. Endpoints that left lose their holds and trials. Then running bans
  // are settled: with banning off everyone is unbanned (an unban event each, appended to
  // `events`), otherwise bans are capped at max_time, and a probation whose peers changed
  // starts its count again. Cost: O(endpoints), plus the service's TripGate (a median).
  void update_service(BanServiceId id, const BanPolicy& policy, uint64_t version,
                      std::shared_ptr<const EndpointSet> endpoints,
                      absl::Span<const std::pair<const Endpoint*, const Endpoint*>> replaced,
                      std::vector<Event>& events);
  // remove_service() forgets a service; its endpoints stop tripping into the manager.
  void remove_service(BanServiceId id);

  // Per endpoint of the service's current EndpointSet: out of rotation (banned, or its
  // transport ban expired and the probe has not answered yet). On probation is in.
  std::vector<bool> out_of_rotation(BanServiceId id) const;
  // How many of the service's records hold counts (tests, memory figures).
  size_t records_with_counts(BanServiceId id) const;
  // Whether housekeeping skips the service (idle, nothing to judge) until it is in use.
  bool settled(BanServiceId id) const;

  // The service's ban figures: bans issued over its life, endpoints out of rotation now,
  // and each endpoint's state (parallel to its EndpointSet).
  struct ServiceBans {
    uint64_t bans_issued = 0;
    uint64_t out_now = 0;
    std::vector<BanStats> endpoints;
  };
  ServiceBans stats(BanServiceId id, bool per_endpoint) const;

  // A replaced outlier must be at least this much more severe than the mildest holder.
  static constexpr double kReplaceMargin = 0.05;

 private:
  struct Service;
  struct ProbeGate;
  struct Room;  // a service's ban budget under the max ratio
  struct Pass;  // what one locked pass changed, to act on once the lock is released
  struct Probe {
    EndpointRef endpoint;
    uint64_t generation;
    absl::Duration timeout;
  };
  struct Verdict {
    std::string reason;
    double severity = 0;
    Detector detector = Detector::kByRequest;
  };

  void drain_suspects();
  void housekeeping();
  // A probe answered for `endpoint`'s ban number `generation`.
  void on_probe_result(const Endpoint& endpoint, uint64_t generation, bool reachable, Pass& pass);

  // The service and position `endpoint` is tracked at, or nullptr.
  Service* find_locked(const Endpoint& endpoint, size_t& position) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Room room_locked(const Service& service) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A settled service's records gave their counts back: takes them again, as of now (the
  // baselines are the figures, nothing is recent). Before anything reads the counts.
  void wake_counts_locked(Service& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Brings the records' recent transport-failure counts up to date.
  void update_rates_locked(Service& service, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Judges the tripped endpoint `i` against its peers' windows and recent counts
  // (`windows`: the service's, gathered this pass).
  std::optional<Verdict> judge_trip_locked(const Service& service, size_t i, uint64_t window,
                                           const ServiceWindows& windows, std::string* why) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Bans endpoint `i` for `verdict` if the max ratio `room` tracks leaves a slot, or by
  // replacing a milder holder; else notes it as passed over (reported once per episode,
  // when the pass ends). Returns whether it banned.
  bool try_ban_locked(Service& service, size_t i, Verdict verdict, absl::Time now, Room& room,
                      Pass& pass) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A ban whose probe or probation failed starts again, doubled; its reason stays, `last`
  // says what failed.
  void reban_locked(Service& service, size_t i, std::string last, absl::Time now, Pass& pass)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Back in rotation, fully; `why` goes in the event.
  void unban_locked(Service& service, size_t i, std::string why, absl::Time now, Pass& pass)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void start_probation_locked(Service& service, size_t i, absl::Time now, Pass& pass)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Judges a probation once it has its requests (or its time is up).
  void judge_probation_locked(Service& service, size_t i, absl::Time now, Pass& pass)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void evaluate_business_locked(Service& service, absl::Time now, Pass& pass)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The max ratio event for the outliers passed over in this pass, if not said already.
  void report_passed_over_locked(Service& service, Pass& pass) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Once the banned count is back under the limit, the next time it is hit is reported.
  void end_episode_locked(Service& service) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The service's TripGate from its records and windows: the slots left, the threshold.
  void sync_gate_locked(Service& service) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Event ban_event(EventType type, const Service& service, size_t i, absl::Duration ban_time) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the listener, then lets go of the endpoints held until then, then delivers the
  // events (in that order: the listener appends).
  void publish(Pass& pass);
  void probe(std::vector<Probe>& probes);

  Clock& clock_;
  Executor& executor_;
  std::shared_ptr<Prober> prober_;
  Listener* listener_;
  EventCallback on_event_;
  SuspectQueue suspects_;
  std::shared_ptr<ProbeGate> gate_;  // lets late probe answers find out we are gone
  std::vector<Executor::TaskId> tasks_;

  mutable absl::Mutex mu_;
  SlotMap<Service> services_ ABSL_GUARDED_BY(mu_);  // by BanServiceId
  // By BanServiceId, never freed before the manager: a report may still read a gate it
  // loaded just before its service went. Reused (reset) with the id.
  std::deque<TripGate> gates_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ufc::internal

#endif  // UFC_BANNING_BAN_MANAGER_H_
