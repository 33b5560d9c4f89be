// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fusing/fuse_manager.h: dynamic fusing and the retry budget of one client's services
// (spec section 7).
//
// Every control tick (kFuseTick, 100 ms) and for every service:
//
//   measure   completed attempts by transport outcome (the endpoints' counters), dropped
//             picks, demand per traffic class while fusing, retries taken
//   decide    the service's FuseController -> total drop share d (seed or adaptive)
//   shed      d -> a drop probability per class, lowest priority and retries first
//   publish   the FuseGate the request path reads: fusing (strict timeouts, no retries)
//             and the per-class thresholds; the retry tokens for the next tick
//   report    fuse_start / fuse_step / fuse_end events
//
// An idle service (FuseGate::idle: its endpoints hold no per-CPU records) that is not
// fusing and has no traffic left in its retry window is dormant: ticks skip it, so
// the fleet's idle services cost nothing per tick. In use again, its controller starts
// afresh (the idle spell lasted at least ClientOptions::idle_release, which its windows
// would have forgotten anyway).

#ifndef UFC_FUSING_FUSE_MANAGER_H_
#define UFC_FUSING_FUSE_MANAGER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "src/common/slot_map.h"
#include "src/endpoint/endpoint_set.h"
#include "src/fusing/fuse_controller.h"
#include "src/fusing/fuse_gate.h"
#include "src/fusing/fuse_policy.h"
#include "src/stats/client_stats.h"
#include "ufc/clock.h"
#include "ufc/event.h"
#include "ufc/executor.h"

namespace ufc::internal {

using FuseServiceId = uint32_t;

// FuseManager: runs each service's fuse controller and retry budget, and publishes their
// decisions to the service's FuseGate.
//
// Time and the timer are injected, so tests drive it on simulated time without a Client.
// Thread-safety: every method may be called from any thread; events are delivered with no
// lock held, from the manager's timer.
class FuseManager {
 public:
  struct Options {
    Clock* clock = nullptr;        // wall time for events; required
    Executor* executor = nullptr;  // runs the tick; required
    EventCallback on_event;        // fuse events; optional
    // How finely pick reads time (ClientOptions::clock_tick): pacing tolerates no less.
    absl::Duration pick_clock = absl::Milliseconds(1);
  };

  explicit FuseManager(Options options);  // starts the tick
  // stop() cancels the tick, waiting for one in progress; no event is delivered after it.
  void stop();
  ~FuseManager();  // stop()
  FuseManager(const FuseManager&) = delete;
  FuseManager& operator=(const FuseManager&) = delete;

  // add_service() starts running a service whose request path reads `gate`, which must
  // stay valid until remove_service().
  FuseServiceId add_service(std::string name, FuseGate* gate);
  // update_service() installs a version: the policies, its version (for events) and the
  // endpoints whose counters measure the service. A changed fuse policy restarts the
  // controller at the next tick.
  void update_service(FuseServiceId id, const FusePolicy& fuse, const RetryPolicy& retry,
                      uint64_t version, std::shared_ptr<const EndpointSet> endpoints);
  void remove_service(FuseServiceId id);

  FuseStats stats(FuseServiceId id) const;

  // One tick for every service; the timer calls it every kFuseTick.
  void tick();
  // Services the ticks skip now (see the file comment). Tests.
  size_t dormant() const;

 private:
  struct Service {
    std::string name;
    FuseGate* gate;
    FusePolicy fuse;
    RetryPolicy retry;
    uint64_t version = 0;
    std::shared_ptr<const EndpointSet> endpoints;

    FusePolicy controller_policy;  // what `controller` was built for
    std::unique_ptr<FuseController> controller;
    uint64_t last_requests = 0, last_ok = 0, last_failed = 0, last_fused = 0, last_latency = 0;
    std::array<uint64_t, kTrafficClasses> last_demand = {};
    ClassShares mix = {};      // demand per class over the last tick spent fusing
    double reported_drop = 0;  // the drop share the last fuse event announced
    int ticks_since_report = 0;
    int64_t retry_granted = 0;
    std::deque<std::pair<uint64_t, uint64_t>> retry_window;  // per tick: (firsts, retries)
    uint64_t fuse_starts = 0;
    uint64_t retries_taken = 0;  // retry tokens used, since the service was added
    // Idle with nothing left to decide: ticks skip it until it is in use again (the fleet's
    // idle services cost nothing per tick).
    bool dormant = false;
  };

  void tick_locked(Service& s, std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // fuse_step events: a change of the drop share this big is reported at once, any other
  // change within kReportTicks.
  static constexpr double kStepReport = 0.05;
  static constexpr int kReportTicks = 10;

  Clock& clock_;
  Executor& executor_;
  EventCallback on_event_;
  int64_t pick_clock_ns_;
  Executor::TaskId task_;
  bool stopped_ = false;  // by stop(), which is called from one thread

  mutable absl::Mutex mu_;
  SlotMap<Service> services_ ABSL_GUARDED_BY(mu_);  // by FuseServiceId
};

}  // namespace ufc::internal

#endif  // UFC_FUSING_FUSE_MANAGER_H_
