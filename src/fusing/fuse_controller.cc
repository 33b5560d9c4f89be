// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fusing/fuse_controller.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ufc::internal {

double SeedController::update(const FuseSample& s) {
  interval_.offered += s.offered;
  interval_.ok += s.ok;
  interval_.failed += s.failed;
  const int ticks_per_interval =
      std::max<int>(1, static_cast<int>(policy_.interval / kFuseTick + 0.5));
  if (++ticks_ < ticks_per_interval) return drop_;
  const double completed = interval_.ok + interval_.failed;
  const bool measured = completed >= policy_.min_requests;
  if (!measured && fusing_ && extended_ < kMaxExtension) {
    // Too few to judge: carry the counts into another interval.
    ++extended_;
    ticks_ = 0;
    return drop_;
  }
  const bool failing = completed > 0 && interval_.ok / completed < policy_.threshold;
  if (!fusing_) {
    if (measured && failing) {
      fusing_ = true;
      drop_ = std::min(policy_.step, policy_.max_drop);
    }
  } else if (failing) {
    // Measured: step up. Too few for kMaxExtension intervals, but failing: hold.
    if (measured) drop_ = std::min(drop_ + policy_.step, policy_.max_drop);
  } else {
    drop_ = std::max(drop_ - policy_.step, 0.0);
    if (drop_ <= 1e-9) {
      drop_ = 0;
      fusing_ = false;
    }
  }
  interval_ = FuseSample{};
  ticks_ = 0;
  extended_ = 0;
  return drop_;
}

AdaptiveController::AdaptiveController(const FusePolicy& policy, absl::Duration timeout)
    : policy_(policy),
      timeout_us_(timeout == absl::InfiniteDuration() ? std::numeric_limits<double>::infinity()
                                                      : absl::ToDoubleMicroseconds(timeout)),
      window_ticks_(std::max<size_t>(1, static_cast<size_t>(policy.window / kFuseTick + 0.5))) {}

double AdaptiveController::target_latency_us() const {
  if (base_us_ <= 0) return 0;
  if (!std::isfinite(timeout_us_)) return 2 * base_us_;
  if (base_us_ >= timeout_us_) return timeout_us_;
  return base_us_ + (timeout_us_ - base_us_) / 2;
}

void AdaptiveController::track_base(const FuseSample& s) {
  ++ticks_;
  while (!base_.empty() && base_.front().first <= ticks_ - kBaseTicks) base_.pop_front();
  const double completed = s.ok + s.failed;
  // Clean ticks only: a timed-out attempt's latency is the timeout, not the service's.
  if (completed >= kMinLatencySamples && s.failed <= 0.01 * completed) {
    const double mean = s.latency_sum_us / completed;
    while (!base_.empty() && base_.back().second >= mean) base_.pop_back();
    base_.emplace_back(ticks_, mean);
  }
  base_us_ = base_.empty() ? 0 : base_.front().second;
}

double AdaptiveController::update(const FuseSample& s) {
  window_.push_back(s);
  if (window_.size() > window_ticks_) window_.pop_front();
  track_base(s);
  const double tick_seconds = absl::ToDoubleSeconds(kFuseTick);
  // What the service delivers: successes a second over the last second, and the best of
  // that over the last kCapacityTicks (a lower bound of its capacity, whatever happens now).
  delivered_.push_back(s.ok);
  delivered_sum_ += s.ok;
  if (delivered_.size() > kDeliveredTicks) {
    delivered_sum_ -= delivered_.front();
    delivered_.pop_front();
  }
  const double delivered = delivered_sum_ / (tick_seconds * static_cast<double>(delivered_.size()));
  while (!best_.empty() && best_.front().first <= ticks_ - kCapacityTicks) best_.pop_front();
  while (!best_.empty() && best_.back().second <= delivered) best_.pop_back();
  best_.emplace_back(ticks_, delivered);
  const double shown = best_.front().second;
  recent_admit_[ticks_ % 3] = fusing_ ? admit_ : s.offered / tick_seconds;

  FuseSample w;
  for (const FuseSample& x : window_) {
    w.offered += x.offered;
    w.ok += x.ok;
    w.failed += x.failed;
  }
  const double completed = w.ok + w.failed;
  const bool window_unhealthy =
      completed >= policy_.min_requests && w.ok / completed < policy_.threshold;
  const double offered = s.offered / tick_seconds;  // per second, this tick
  // The last two ticks' failures.
  double recent_ok = 0, recent_failed = 0;
  bool collapsed = false;  // in either tick, most attempts failed
  size_t n = 0;
  for (auto it = window_.rbegin(); it != window_.rend() && n < 2; ++it, ++n) {
    recent_ok += it->ok;
    recent_failed += it->failed;
    collapsed |= it->failed > it->ok;
  }
  // Failures beyond the share a cut could not shed (see below) count.
  const double share =
      recent_ok + recent_failed > 0 ? recent_failed / (recent_ok + recent_failed) : 0;
  // Follows the share down at once; forgotten kForgetTicks after it was last renewed.
  tolerated_ = ticks_ - tolerated_tick_ > kForgetTicks ? 0 : std::min(tolerated_, share);
  const bool failing =
      recent_failed >= kMinFailures && share - tolerated_ > (1 - policy_.threshold) / 5;
  if (fail_point_ > 0 && ticks_ - fail_tick_ > kForgetTicks) fail_point_ = 0;

  if (!fusing_) {
    if (!window_unhealthy) return drop_ = 0;
    fusing_ = true;
    admit_ = w.ok / (tick_seconds * static_cast<double>(window_.size()));
    fail_point_ = 0;  // what failed was the surge, not a rate this controller chose
    cooldown_ = 0;
    calm_ticks_ = 0;
  } else {
    const double done = s.ok + s.failed;
    const double latency = done >= kMinLatencySamples ? s.latency_sum_us / done : 0;
    const double target = target_latency_us();
    const int cooldown_ticks =
        1 + static_cast<int>(std::ceil(
                ((std::isfinite(timeout_us_) ? timeout_us_ * 1e-6 : 0.3) + 0.2) / tick_seconds));
    // A cut that shed none of the failures, on a service whose answers are quick: they do
    // not come from the load (a dead backend, a broken path — banning's business) and
    // cutting further would only starve the service. Tolerate that share instead.
    const bool unresponsive = failing && cooldown_ == 0 && !collapsed &&
                              (target <= 0 || latency <= target) && cut_tick_ > 0 &&
                              ticks_ - cut_tick_ <= 2 * cooldown_ticks &&
                              share >= kUnresponsive * share_at_cut_;
    if (unresponsive) {
      tolerated_ = share;
      tolerated_tick_ = ticks_;
    } else if (failing) {
      if (cooldown_ == 0) {
        share_at_cut_ = share;
        cut_tick_ = ticks_;
        // The rate that failed: what was admitted over the ticks whose attempts failed —
        // Learnt only from an overshoot — most attempts still succeed — not from a
        // collapse (a backlog draining, an outage), which says nothing of the rate.
        if (!collapsed) {
          const double failed_at = std::max({recent_admit_[0], recent_admit_[1], recent_admit_[2]});
          fail_point_ = failed_at;
          fail_tick_ = ticks_;
        }
        admit_ = std::min(admit_, fail_point_ > 0 ? fail_point_ : admit_) * kCut;
        cooldown_ = cooldown_ticks;
      }
    } else if (latency > 0 && target > 0 && latency > target) {
      admit_ = std::min(admit_, kDrain * delivered);
    } else {
      // Clean, or nothing completed to say otherwise. Up to kSafe of the rate that last
      // failed, climb fast; past it, probe slowly, and slower as a queue forms.
      const double known = fail_point_ > 0 ? fail_point_ : shown;
      const double safe = fail_point_ > 0 ? kSafe * fail_point_ : shown;
      double gain = 1;
      if (latency > 0 && target > 0) {
        const double low = base_us_ + (target - base_us_) / 2;
        if (latency > low) gain = std::clamp((target - latency) / (target - low), 0.0, 1.0);
      }
      // Back from a collapse: what the service delivered lately is a safe start.
      admit_ = std::max(admit_, kRestart * known);
      if (admit_ < safe) {
        admit_ = std::min(safe, admit_ * (1 + kClimb * gain));
      } else {
        admit_ *= 1 + policy_.headroom * tick_seconds * gain * (fail_point_ > 0 ? 1 : kSearch);
      }
    }
    if (cooldown_ > 0) --cooldown_;
  }
  // The floor: what max_drop lets through anyway, and at least min_requests a window, so
  // that the rate can always climb back from what it measures.
  const double floor = std::max((1 - policy_.max_drop) * offered,
                                policy_.min_requests / absl::ToDoubleSeconds(policy_.window));
  admit_ = std::max(admit_, floor);
  drop_ = offered > 0 ? std::clamp(1.0 - admit_ / offered, 0.0, policy_.max_drop) : 0.0;
  // Calm: clean, and admitting what the window offered (on average: a tick's share of a
  // random stream swings well above its mean). Then the pacer gets room for bursts, so
  // that it sheds nothing while fusing winds down.
  double offered_recent = 0;
  n = 0;
  for (auto it = window_.rbegin(); it != window_.rend() && n < kCalmTicks; ++it, ++n) {
    offered_recent += it->offered;
  }
  offered_recent /= tick_seconds * static_cast<double>(n);
  const bool calm = fusing_ && !failing && admit_ >= kCalmShare * offered_recent;
  if (calm) {
    admit_ = std::max(admit_, kCalmRoom * offered_recent);
    drop_ = offered > 0 ? std::clamp(1.0 - admit_ / offered, 0.0, policy_.max_drop) : 0.0;
  }
  calm_ticks_ = calm ? calm_ticks_ + 1 : 0;
  if (calm_ticks_ >= static_cast<int>(window_ticks_) && !window_unhealthy) {
    fusing_ = false;
    drop_ = 0;
  }
  return drop_;
}

std::unique_ptr<FuseController> make_fuse_controller(const FusePolicy& policy) {
  if (policy.controller == FuseControllerKind::kAdaptive) {
    return std::make_unique<AdaptiveController>(policy, policy.attempt_timeout);
  }
  return std::make_unique<SeedController>(policy);
}

}  // namespace ufc::internal
