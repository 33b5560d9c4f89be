// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fusing/fuse_gate.h: what the request path reads and writes of a service's fusing.

#ifndef UFC_FUSING_FUSE_GATE_H_
#define UFC_FUSING_FUSE_GATE_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "src/common/sharded_counter.h"
#include "src/fusing/shedding.h"

namespace ufc::internal {

// FuseGate: one service's fusing decision as published for `pick`, and the counters pick
// feeds back. The FuseManager writes the decision every tick (fusing: strict timeouts, no
// retries; a drop threshold per traffic class; retry tokens for the next tick) and reads
// the counters. Lives in the client's per-service slot, next to what pick already loads.
//
// Two ways to shed, per the controller:
//   drop     (seed) a random draw per pick against its class's drop threshold;
//   pacing   (adaptive) admitted picks are spaced `interval_ns` apart on average: GCRA, the
//            generic cell rate algorithm (ATM's, and many rate limiters'), one word holding
//            the theoretical arrival time `tat` of the next admission. A pick at `now` is
//            admitted when tat - now <= its priority's tolerance, and moves tat to
//            max(tat, now) + interval. A higher priority tolerates more (kSteps: critical
//            6 intervals ahead of the schedule, offline none), so while the priorities
//            above keep the schedule ahead, the ones below get nothing — lower priorities
//            are shed first in effect, not only in order, and with no mix estimate to lag
//            behind the traffic. And what reaches the service is an even stream at the
//            admitted rate, not the random bursts of a thinned Poisson stream: a backend
//            with little room for queueing (a deep FIFO backlog, a timeout not far above
//            its service time) runs close to its capacity. (One schedule for all: separate
//            schedules per priority, each at what the ones above leave, let the sum burst
//            above the rate — 0.65-0.75 C instead of 0.8-0.9 C in bench/overload_sim's
//            loopback world.)
//
// Cost on the request path: one relaxed load while the service is healthy. While fusing: a
// draw and a load (drop), or three loads and a compare-and-swap for an admitted pick, three
// loads and a compare for a refused one (pacing). Thread-safety: atomics and sharded
// counters only.
struct FuseGate {
  // Read by every pick.
  alignas(64) std::atomic<bool> fusing{false};
  std::atomic<bool> pacing{false};                   // while fusing: pace, don't draw
  std::atomic<uint64_t> drop[kTrafficClasses] = {};  // a 64-bit draw below it: drop
  std::atomic<int64_t> interval_ns{1};               // pacing: 1e9 / the admitted rate
  std::atomic<int64_t> unit_ns{0};                   // pacing: one tolerance step
  // Tolerance steps per priority (critical .. offline).
  static constexpr int kSteps[kPriorities] = {6, 3, 1, 0};
  alignas(64) std::atomic<int64_t> tat_ns{0};  // the schedule; written by admitted picks

  // Pacing: whether a first attempt of `priority` at `now_ns` is admitted; takes its slot
  // in the schedule if so.
  bool admit_paced(int priority, int64_t now_ns) {
    const int64_t interval = interval_ns.load(std::memory_order_relaxed);
    const int64_t tolerance = kSteps[priority] * unit_ns.load(std::memory_order_relaxed);
    int64_t tat = tat_ns.load(std::memory_order_relaxed);
    for (;;) {
      if (tat - now_ns > tolerance) return false;
      const int64_t start = tat > now_ns ? tat : now_ns;
      if (tat_ns.compare_exchange_weak(tat, start + interval, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // Retries left until the next tick; taken by retry picks only.
  alignas(64) std::atomic<int64_t> retry_tokens{0};
  // Set while the service's endpoints hold no per-CPU records (it is idle: the client
  // gave them back, or it was never picked): no report can arrive, so the fuse tick
  // skips reading them. Written by the client (which sets it for a new service and
  // clears it before the first pick's report); false, read every tick, for other users.
  std::atomic<bool> idle{false};
  // Written on the fusing path only (per-class demand while fusing, drops) and by refused
  // retries.
  void count_demand(int traffic_class) { counts_.add(traffic_class); }
  void count_fused() { counts_.add(kFused); }
  uint64_t demand(int traffic_class) const { return counts_.value(traffic_class); }
  uint64_t fused() const { return counts_.value(kFused); }
  uint64_t retries_refused() const { return counts_.value(kRetriesRefused); }

  // A retry takes a token from the budget; without one it is refused (and counted).
  bool take_retry_token() {
    if (retry_tokens.fetch_sub(1, std::memory_order_relaxed) > 0) return true;
    retry_tokens.fetch_add(1, std::memory_order_relaxed);
    counts_.add(kRetriesRefused);
    return false;
  }
  // A retry that took a token and did not go out gives it back.
  void return_retry_token() { retry_tokens.fetch_add(1, std::memory_order_relaxed); }

 private:
  // Per-class demand, then drops and refused retries, sharded as one block (2 KiB a
  // service; ten separate counters took 10 KiB, 100 MB for 10,000 services).
  static constexpr size_t kFused = kTrafficClasses;
  static constexpr size_t kRetriesRefused = kTrafficClasses + 1;
  ShardedCounters<kTrafficClasses + 2> counts_;
};

}  // namespace ufc::internal

#endif  // UFC_FUSING_FUSE_GATE_H_
