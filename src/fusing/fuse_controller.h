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
};

// The control tick. The seed controller acts every `interval` (a whole number of ticks).
inline constexpr absl::Duration kFuseTick = absl::Milliseconds(100);

// SeedController: the seed's additive controller (spec section 7). Every `interval`: with
// at least min_requests completed and a communication success rate below `threshold`,
// drop share d += step (capped at max_drop; entering fusing at d = step); otherwise
// d -= step, and fusing ends when d reaches 0.
class SeedController final : public FuseController {
 public:
  explicit SeedController(const FusePolicy& policy) : policy_(policy) {}
  double update(const FuseSample& sample) override;
  bool fusing() const override { return fusing_; }
  double drop() const override { return drop_; }

 private:
  FusePolicy policy_;
  FuseSample interval_;  // accumulated over the current interval
  int ticks_ = 0;
  bool fusing_ = false;
  double drop_ = 0;
};

// AdaptiveController: admits what the service is seen to deliver.
//
// Fusing starts when the communication success rate over `window` falls below the
// threshold; the admission rate starts at the rate of successes the service delivered over
// that window. Then, every tick, it adapts as a rate-based AIMD (cf. TCP congestion
// control, and Netflix's concurrency-limits): a clean tick raises it by `headroom` (+10%
// per 100 ms at the default, to find capacity fast), a tick with more failures than a
// tenth of what the threshold tolerates (1% at the default) cuts it to 90% of what was
// delivered, at most once per 300 ms since attempts in flight take that long to show the
// effect. The drop share is whatever the admission rate leaves of this
// tick's offered rate, so a surge is met within a tick and a drop in load ends the drops
// within a tick, where the seed needs a second for every 10%. Fusing ends after a whole
// window without drops on a healthy service. Contrast Google SRE's client-side throttling (SRE book
// ch. 21), p = max(0, (requests - K * accepts) / (requests + 1)), which by design lets K times the
// accepted rate through and, over a 2-minute window, reacts slowly.
class AdaptiveController final : public FuseController {
 public:
  explicit AdaptiveController(const FusePolicy& policy);
  double update(const FuseSample& sample) override;
  bool fusing() const override { return fusing_; }
  double drop() const override { return drop_; }
  // The admission rate (requests per second) in force while fusing.
  double admit_rate() const { return admit_; }

 private:
  FusePolicy policy_;
  std::deque<FuseSample> window_;
  size_t window_ticks_;
  bool fusing_ = false;
  double drop_ = 0;
  double admit_ = 0;
  int calm_ticks_ = 0;  // consecutive ticks with nothing dropped and a healthy service
  int cooldown_ = 0;    // ticks before another decrease
  static constexpr int kCooldownTicks = 3;
  static constexpr double kRecentAttempts = 300;  // what "now" is measured over
  static constexpr double kMinFailures = 5;       // fewer is noise, not overload
};

std::unique_ptr<FuseController> make_fuse_controller(const FusePolicy& policy);

}  // namespace ufc::internal

#endif  // UFC_FUSING_FUSE_CONTROLLER_H_
