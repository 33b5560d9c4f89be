// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fusing/fuse_controller.h: how much of a struggling service's traffic to drop.

#ifndef UFC_FUSING_FUSE_CONTROLLER_H_
#define UFC_FUSING_FUSE_CONTROLLER_H_

#include <deque>
#include <memory>

#include "absl/time/time.h"
#include "src/fusing/fuse_policy.h"

namespace ufc::internal {

// What a service did during one control tick (100 ms).
struct FuseSample {
  double offered = 0;  // picks asked for, dropped ones included
  double ok = 0;       // attempts that completed with a transport success
  double failed = 0;   // attempts that failed in transport (refused, timed out, reset...)
  // The latencies the caller reported for those ok + failed attempts, summed (us).
  double latency_sum_us = 0;
};

// FuseController: fed one sample per tick, says what share of requests to drop. Thread-
// safety: none; the client's control path owns it.
class FuseController {
 public:
  virtual ~FuseController() = default;
  // Consumes one tick and returns the drop share to apply until the next.
  virtual double update(const FuseSample& sample) = 0;
  virtual bool fusing() const = 0;
  virtual double drop() const = 0;
  // > 0: pace admissions at this many a second (FuseGate pacing) instead of dropping at
  // random; drop() is then what it leaves of the offered rate.
  virtual double paced_rate() const { return 0; }
};

// The control tick. The seed controller acts every `interval` (a whole number of ticks).
inline constexpr absl::Duration kFuseTick = absl::Milliseconds(100);

// SeedController: the seed's additive controller (spec section 7). Every `interval`: with
// at least min_requests completed and a communication success rate below `threshold`,
// drop share d += step (capped at max_drop; entering fusing at d = step); with at least
// min_requests and a healthy rate, d -= step, and fusing ends when d reaches 0.
//
// Too few completed attempts to judge (a quiet service, or one that drops most of its
// traffic): the interval is extended and the counts carried over, up to kMaxExtension
// intervals; then it judges on what it has — a success rate below the threshold holds
// the drop share where it is (failures are evidence, however few), anything else steps
// down. So it never steps down on a service that answers nothing, and never sits at
// max_drop on one that answers everything it is sent.
class SeedController final : public FuseController {
 public:
  explicit SeedController(const FusePolicy& policy) : policy_(policy) {}
  double update(const FuseSample& sample) override;
  bool fusing() const override { return fusing_; }
  double drop() const override { return drop_; }
  static constexpr int kMaxExtension = 10;

 private:
  FusePolicy policy_;
  FuseSample interval_;  // accumulated over the current interval (and its extensions)
  int ticks_ = 0;
  int extended_ = 0;  // intervals carried over for want of requests
  bool fusing_ = false;
  double drop_ = 0;
};

// AdaptiveController: admits what the service can answer in time.
//
// Fusing starts, as the seed's does, when the communication success rate over `window`
// falls below `threshold`; the admission rate starts at the successes the service
// delivered over that window. Then, every tick (100 ms), with these readings:
//
//   failure share   of the attempts completed in the last two ticks
//   latency         the mean of the attempts completed in this tick, against the service's
//                   base latency (the lowest clean tick mean of the last kBaseTicks) and
//                   the strict read timeout T: the target L* = base + (T - base) / 2, half
//                   the slack the timeout leaves (no timeout: 2 x base)
//   delivered       successes a second over the last second; "shown" is the best of it
//                   over the last 2 minutes, a rate the service is known to have answered
//   failure point   F: the rate admitted when attempts last failed while most still
//                   succeeded (an overshoot; a collapse or an outage says nothing of the
//                   rate and teaches nothing); forgotten after kForgetTicks
//
// the rate moves by the first rule that holds:
//
//   failing   kMinFailures or more failures and a share over (1 - threshold) / 5 (2% at
//             the default): cut to kCut x min(rate, F), at most once per T + 200 ms, the
//             time the failures of the rate before the cut take to stop arriving. A cut
//             that shed none of the failures (the share stays >= kUnresponsive of what it
//             was) on a service that still answers within L*: the failures are not the
//             load's (a dead backend — banning's business) and that share is tolerated
//             instead of cutting the service to nothing.
//   queueing  latency > L*: admit kDrain x delivered, which drains the queue (a service
//             answers at its capacity while a queue stands).
//   clean     restart at no less than kRestart x (F, or what was shown); below kSafe x F
//             (below "shown" while no F is known) climb kClimb a tick; above it probe at
//             `headroom` a second (kSearch times that while no F is known), slowing
//             linearly to nothing as the latency goes from halfway to L* up to L*.
//
// The constants are what bench/overload_sim's two worlds (a deep-backlog loopback pair
// and a bounded-queue pool) were tuned on; its header has the figures.
//
// No latch: the rate never falls below the floor max((1 - max_drop) x offered,
// min_requests a window), every pick the floor admits measures the service, and every
// clean tick raises the rate. After an outage of any length a healthy service is back to
// dropping nothing within a few seconds (tests/fusing/fuse_controller_test.cc). Fusing ends
// after a whole window of calm ticks (admitting kCalmShare of what was offered, no
// failures beyond the tolerated) once the window's success rate is healthy again; a calm
// tick admits kCalmRoom x offered, so that pacing sheds nothing while fusing winds down.
//
// The rate is enforced by pacing in pick() (FuseGate): an even stream at the admitted
// rate, with higher priorities allowed further ahead of the schedule. For contrast,
// Google SRE's client-side throttling (SRE book ch. 21), p = max(0, (requests - K *
// accepts) / (requests + 1)), by design lets K times the accepted rate through and, over a
// 2-minute window, reacts slowly; it sees no queue.
class AdaptiveController final : public FuseController {
 public:
  // `timeout`: the attempt timeout while fusing (infinite: none).
  AdaptiveController(const FusePolicy& policy, absl::Duration timeout);
  explicit AdaptiveController(const FusePolicy& policy)
      : AdaptiveController(policy, policy.attempt_timeout) {}
  double update(const FuseSample& sample) override;
  bool fusing() const override { return fusing_; }
  double drop() const override { return drop_; }
  // The admission rate (requests per second) in force while fusing; pick paces at it.
  double admit_rate() const { return admit_; }
  double paced_rate() const override { return fusing_ ? admit_ : 0; }
  // The base latency (us) and the target L* (us); 0 until measured.
  double base_latency_us() const { return base_us_; }
  double target_latency_us() const;

  static constexpr int kBaseTicks = 300;           // 30 s: how long the base latency is remembered
  static constexpr size_t kDeliveredTicks = 10;    // what "delivered" is measured over (1 s)
  static constexpr int kCapacityTicks = 1200;      // 2 min: how long a delivered rate is shown
  static constexpr int kForgetTicks = 100;         // 10 s: how long a failure point holds
  static constexpr double kSafe = 0.95;            // of the failure point: climb fast below
  static constexpr double kClimb = 0.25;           // per tick, below it
  static constexpr double kUnresponsive = 0.75;    // share left after a cut: it did not help
  static constexpr double kCalmRoom = 1.5;         // x offered, admitted once calm
  static constexpr double kCalmShare = 0.9;        // of offered: admitting that much is calm
  static constexpr size_t kCalmTicks = 3;          // what "offered" is measured over, for calm
  static constexpr double kRestart = 0.5;          // x shown: the rate a clean tick restarts at
  static constexpr double kSearch = 3;             // x headroom, above it with no failure point
  static constexpr double kMinFailures = 3;        // fewer in two ticks is noise, not overload
  static constexpr double kMinLatencySamples = 3;  // a tick mean over fewer is not used
  static constexpr double kDrain = 0.9;            // share of delivered admitted above L*
  static constexpr double kCut = 0.9;              // x min(rate, F), when failing

 private:
  void track_base(const FuseSample& s);

  FusePolicy policy_;
  double timeout_us_;  // infinity: none
  std::deque<FuseSample> window_;
  size_t window_ticks_;
  bool fusing_ = false;
  double drop_ = 0;
  double admit_ = 0;
  int calm_ticks_ = 0;  // consecutive ticks with nothing dropped and no failures
  int cooldown_ = 0;    // ticks before another cut
  // Clean ticks' mean latencies, oldest first, as a monotonic queue (tick number, mean):
  // the front is the minimum of the last kBaseTicks.
  std::deque<std::pair<int64_t, double>> base_;
  double base_us_ = 0;
  int64_t ticks_ = 0;
  std::deque<double> delivered_;  // successes per tick, the last kDeliveredTicks
  double delivered_sum_ = 0;
  std::deque<std::pair<int64_t, double>> best_;  // monotonic queue of delivered rates
  double recent_admit_[3] = {};                  // the rate admitted, the last 3 ticks
  double fail_point_ = 0;                        // the rate that last failed; 0: none
  int64_t fail_tick_ = 0;
  double share_at_cut_ = 0;  // the failure share the last cut was made at
  int64_t cut_tick_ = 0;
  double tolerated_ = 0;  // a failure share cuts did not shed
  int64_t tolerated_tick_ = 0;
};

std::unique_ptr<FuseController> make_fuse_controller(const FusePolicy& policy);

}  // namespace ufc::internal

#endif  // UFC_FUSING_FUSE_CONTROLLER_H_
