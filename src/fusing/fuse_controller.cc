// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fusing/fuse_controller.h"

#include <algorithm>

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
  const bool unhealthy = measured && interval_.ok / completed < policy_.threshold;
  if (!fusing_) {
    if (unhealthy) {
      fusing_ = true;
      drop_ = std::min(policy_.step, policy_.max_drop);
    }
  } else if (unhealthy) {
    drop_ = std::min(drop_ + policy_.step, policy_.max_drop);
  } else {
    // Healthy, or too little traffic got through to tell: step down.
    drop_ = std::max(drop_ - policy_.step, 0.0);
    if (drop_ <= 1e-9) {
      drop_ = 0;
      fusing_ = false;
    }
  }
  interval_ = FuseSample{};
  ticks_ = 0;
  return drop_;
}

AdaptiveController::AdaptiveController(const FusePolicy& policy)
    : policy_(policy),
      window_ticks_(std::max<size_t>(1, static_cast<size_t>(policy.window / kFuseTick + 0.5))) {}

double AdaptiveController::update(const FuseSample& s) {
  window_.push_back(s);
  if (window_.size() > window_ticks_) window_.pop_front();
  FuseSample w;
  for (const FuseSample& x : window_) {
    w.offered += x.offered;
    w.ok += x.ok;
    w.failed += x.failed;
  }
  const double tick_seconds = absl::ToDoubleSeconds(kFuseTick);
  const double seconds = tick_seconds * static_cast<double>(window_.size());
  const double completed = w.ok + w.failed;
  const bool window_unhealthy =
      completed >= policy_.min_requests && w.ok / completed < policy_.threshold;
  // Health now: the most recent ticks holding at least kRecentAttempts completed attempts
  // (one tick at a few thousand requests a second), so one bad tick does not weigh for a
  // whole window and a handful of unlucky failures is not read as overload. While fusing
  // the controller aims an order of magnitude cleaner than the threshold that started it
  // (99% for the default 90%): holding the service *at* the threshold would spend a tenth
  // of what is admitted on attempts that fail, and the work behind them.
  double recent_ok = 0, recent_failed = 0;
  for (auto it = window_.rbegin(); it != window_.rend(); ++it) {
    recent_ok += it->ok;
    recent_failed += it->failed;
    if (recent_ok + recent_failed >= kRecentAttempts) break;
  }
  const double clean = 1.0 - (1.0 - policy_.threshold) / 5;
  const bool tick_unhealthy =
      recent_failed >= kMinFailures && recent_ok / (recent_ok + recent_failed) < clean;
  const double delivered = w.ok / seconds;          // successes per second, over the window
  const double offered = s.offered / tick_seconds;  // per second, this tick

  if (!fusing_) {
    if (!window_unhealthy) return drop_ = 0;
    fusing_ = true;
    admit_ = delivered;
    cooldown_ = kCooldownTicks;
    calm_ticks_ = 0;
  } else if (tick_unhealthy) {
    // Multiplicative decrease below what was delivered, at most once per cooldown: the
    // attempts already in flight need time to show the effect (TCP: once per RTT).
    if (cooldown_ == 0) {
      admit_ = std::min(admit_, delivered) * 0.9;
      cooldown_ = kCooldownTicks;
    }
  } else {
    // Clean at this rate: probe for more, `headroom` per tick.
    admit_ *= 1.0 + policy_.headroom;
  }
  if (cooldown_ > 0) --cooldown_;
  drop_ = offered > 0 ? std::clamp(1.0 - admit_ / offered, 0.0, policy_.max_drop) : 0.0;
  calm_ticks_ = (drop_ <= 0 && !tick_unhealthy) ? calm_ticks_ + 1 : 0;
  if (calm_ticks_ >= static_cast<int>(window_ticks_)) {  // a whole window without drops
    fusing_ = false;
    drop_ = 0;
  }
  return drop_;
}

std::unique_ptr<FuseController> make_fuse_controller(const FusePolicy& policy) {
  if (policy.controller == FuseControllerKind::kAdaptive) {
    return std::make_unique<AdaptiveController>(policy);
  }
  return std::make_unique<SeedController>(policy);
}

}  // namespace ufc::internal
