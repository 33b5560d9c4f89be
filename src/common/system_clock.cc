// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <chrono>

#include "ufc/clock.h"

namespace ufc {
namespace {

// The real clocks. The monotonic reading is steady_clock's count placed on absl::Time's
// axis from the Unix epoch: only differences between readings mean anything.
class SystemClock final : public Clock {
 public:
  absl::Time now() override {
    return absl::UnixEpoch() +
           absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }
  absl::Time wall_now() override { return absl::FromChrono(std::chrono::system_clock::now()); }
};

}  // namespace

std::shared_ptr<Clock> Clock::system() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace ufc
