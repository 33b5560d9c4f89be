// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fusing/fuse_policy.h"

#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"

namespace ufc::internal {

FusePolicy FusePolicy::parse(const v1::Fuse& f, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "fuse");
  FusePolicy p;
  if (f.has_enabled()) p.enabled = f.enabled();
  if (f.controller() == "adaptive") {
    p.controller = FuseControllerKind::kAdaptive;
  } else if (!f.controller().empty() && f.controller() != "seed") {
    ValidationErrors::Scope field(errors, "controller");
    errors.add(
        absl::StrCat("unknown controller \"", f.controller(), "\"; expected seed or adaptive"));
  }
  if (f.has_interval() &&
      check_duration(errors, "interval", f.interval(), absl::Milliseconds(100), absl::Minutes(1))) {
    p.interval = *to_duration(f.interval());
  }
  if (f.has_threshold()) {
    p.threshold = f.threshold();
    check_open_closed(errors, "threshold", p.threshold, 0, 1);
  }
  if (f.has_min_requests()) {
    p.min_requests = f.min_requests();
    check_range(errors, "min_requests", uint64_t{p.min_requests}, 1, 1000000000);
  }
  if (f.has_step()) {
    p.step = f.step();
    check_open_closed(errors, "step", p.step, 0, 1);
  }
  if (f.has_max_drop()) {
    p.max_drop = f.max_drop();
    check_range(errors, "max_drop", p.max_drop, 0, 1);
  }
  if (f.has_window() &&
      check_duration(errors, "window", f.window(), absl::Milliseconds(200), absl::Minutes(1))) {
    p.window = *to_duration(f.window());
  }
  if (f.has_headroom()) {
    p.headroom = f.headroom();
    check_range(errors, "headroom", p.headroom, 0, 1);
  }
  return p;
}

bool FusePolicy::operator==(const FusePolicy& o) const {
  return enabled == o.enabled && controller == o.controller && interval == o.interval &&
         threshold == o.threshold && min_requests == o.min_requests && step == o.step &&
         max_drop == o.max_drop && window == o.window && headroom == o.headroom;
}

RetryPolicy RetryPolicy::parse(const v1::Retry& r, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "retry");
  RetryPolicy p;
  if (r.has_max_attempts()) {
    p.max_attempts = r.max_attempts();
    check_range(errors, "max_attempts", uint64_t{p.max_attempts}, 1, 10);
  }
  if (r.has_budget()) {
    p.budget = r.budget();
    check_range(errors, "budget", p.budget, 0, 1);
  }
  if (r.has_window() &&
      check_duration(errors, "window", r.window(), absl::Seconds(1), absl::Minutes(10))) {
    p.window = *to_duration(r.window());
  }
  return p;
}

}  // namespace ufc::internal
