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

// AdaptiveController: admits what the service can answer in time, measured by the latency
// of the answers it gives.
//
// Fusing starts, as the seed's does, when the communication success rate over `window`
// falls below `threshold`; the admission rate starts at the successes the service
// delivered over that window. Then, every tick, the rate follows the service's *queue*,
// read from the mean latency of the attempts that completed in the tick against the
// service's base latency (the lowest tick mean of the last kBaseTicks clean ticks: what
// an answer costs without a queue) and the attempt timeout T (the strict read timeout):
//
//   target   L* = base + (T - base) / 2: answers take no more than half the slack the
//            timeout leaves (with no timeout configured, L* = 2 x base). Past it the tail
//            of the queue starts timing out.
//   below    latency <= base + (L* - base) / 2: no queue to speak of; raise the rate by
//            `headroom` per tick (+10% at the default). Between that and L*, by a share of
//            headroom that falls linearly to 0 at L*: the probe slows as the queue forms,
//            instead of overshooting into timeouts the way a blind probe does.
//   above    latency > L*: a queue is building; admit 90% of what the service delivered
//            over the last kDeliveredTicks ticks, which drains it (the service answers at
//            its capacity while a queue stands).
//   failing  more than kMinFailures failures and a failure share over (1 - threshold) / 5
//            in the last two ticks (2% at the default 0.9): cut to 80% of what was
//            delivered, at most once per T + one tick (the failures of the rate before the
//            cut take that long to stop arriving).
//
// No latch: the rate never falls below the floor max((1 - max_drop) x offered,
// min_requests per window), every pick the floor admits measures the service, and a clean
// tick always raises the rate. So after an outage of any length a healthy service is
// back to dropping nothing within log(offered / floor) / log(1 + headroom) ticks plus a
// window. Fusing ends after a whole window of ticks with nothing dropped and no failures.
//
// A rate, not a concurrency limit: pick() stays one load and one compare per request
// while fusing. For contrast, Google SRE's client-side throttling (SRE book ch. 21),
// p = max(0, (requests - K * accepts) / (requests + 1)), by design lets K times the
// accepted rate through and, over a 2-minute window, reacts slowly; it sees no queue.
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
  static constexpr double kCut = 0.9;              // share of delivered admitted when failing

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
