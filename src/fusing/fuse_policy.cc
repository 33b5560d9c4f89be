// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fusing/fuse_policy.h"

#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"

namespace ufc::internal {

FusePolicy FusePolicy::from_proto(const v1::Fuse& f) {
  FusePolicy p;
  if (f.has_enabled()) p.enabled = f.enabled();
  if (f.controller() == "adaptive") p.controller = FuseControllerKind::kAdaptive;
  if (f.has_interval()) p.interval = to_duration(f.interval()).value_or(p.interval);
  if (f.has_threshold()) p.threshold = f.threshold();
  if (f.has_min_requests()) p.min_requests = f.min_requests();
  if (f.has_step()) p.step = f.step();
  if (f.has_max_drop()) p.max_drop = f.max_drop();
  if (f.has_window()) p.window = to_duration(f.window()).value_or(p.window);
  if (f.has_headroom()) p.headroom = f.headroom();
  return p;
}

RetryPolicy RetryPolicy::from_proto(const v1::Retry& r) {
  RetryPolicy p;
  if (r.has_max_attempts()) p.max_attempts = r.max_attempts();
  if (r.has_budget()) p.budget = r.budget();
  if (r.has_window()) p.window = to_duration(r.window()).value_or(p.window);
  return p;
}

void validate_fuse(const v1::Fuse& f, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "fuse");
  if (!f.controller().empty() && f.controller() != "seed" && f.controller() != "adaptive") {
    ValidationErrors::Scope field(errors, "controller");
    errors.add(
        absl::StrCat("unknown controller \"", f.controller(), "\"; expected seed or adaptive"));
  }
  if (f.has_interval())
    check_duration(errors, "interval", f.interval(), absl::Milliseconds(100), absl::Minutes(1));
  if (f.has_threshold()) check_open_closed(errors, "threshold", f.threshold(), 0, 1);
  if (f.has_min_requests())
    check_range(errors, "min_requests", uint64_t{f.min_requests()}, 1, 1000000000);
  if (f.has_step()) check_open_closed(errors, "step", f.step(), 0, 1);
  if (f.has_max_drop()) check_range(errors, "max_drop", f.max_drop(), 0, 1);
  if (f.has_window())
    check_duration(errors, "window", f.window(), absl::Milliseconds(200), absl::Minutes(1));
  if (f.has_headroom()) check_range(errors, "headroom", f.headroom(), 0, 1);
}

void validate_retry(const v1::Retry& r, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "retry");
  if (r.has_max_attempts()) check_range(errors, "max_attempts", uint64_t{r.max_attempts()}, 1, 10);
  if (r.has_budget()) check_range(errors, "budget", r.budget(), 0, 1);
  if (r.has_window())
    check_duration(errors, "window", r.window(), absl::Seconds(1), absl::Minutes(10));
}

}  // namespace ufc::internal
