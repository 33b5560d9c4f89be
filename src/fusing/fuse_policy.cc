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
  read_duration(errors, "interval", f.has_interval(), f.interval(), absl::Milliseconds(100),
                absl::Minutes(1), p.interval);
  read_open_closed(errors, "threshold", f.has_threshold(), f.threshold(), 0, 1, p.threshold);
  read_range(errors, "min_requests", f.has_min_requests(), f.min_requests(), 1, 1000000000,
             p.min_requests);
  read_open_closed(errors, "step", f.has_step(), f.step(), 0, 1, p.step);
  read_range(errors, "max_drop", f.has_max_drop(), f.max_drop(), 0, 1, p.max_drop);
  read_duration(errors, "window", f.has_window(), f.window(), absl::Milliseconds(200),
                absl::Minutes(1), p.window);
  read_range(errors, "headroom", f.has_headroom(), f.headroom(), 0, 1, p.headroom);
  return p;
}

bool FusePolicy::operator==(const FusePolicy& o) const {
  return enabled == o.enabled && controller == o.controller && interval == o.interval &&
         threshold == o.threshold && min_requests == o.min_requests && step == o.step &&
         max_drop == o.max_drop && window == o.window && headroom == o.headroom &&
         attempt_timeout == o.attempt_timeout;
}

RetryPolicy RetryPolicy::parse(const v1::Retry& r, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "retry");
  RetryPolicy p;
  read_range(errors, "max_attempts", r.has_max_attempts(), r.max_attempts(), 1, 10, p.max_attempts);
  read_range(errors, "budget", r.has_budget(), r.budget(), 0, 1, p.budget);
  read_duration(errors, "window", r.has_window(), r.window(), absl::Seconds(1), absl::Minutes(10),
                p.window);
  read_range(errors, "min_per_second", r.has_min_per_second(), r.min_per_second(), 0, 1000,
             p.min_per_second);
  return p;
}

}  // namespace ufc::internal
