// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/ban_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"
#include "src/endpoint/failure_window.h"

namespace ufc::internal {
BanPolicy BanPolicy::parse(const v1::Ban& ban, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "ban");
  BanPolicy p;
  if (ban.has_enabled()) p.enabled = ban.enabled();
  {
    const v1::Ban::ByRequest& r = ban.by_request();
    ValidationErrors::Scope by_request(errors, "by_request");
    if (r.has_enabled()) p.by_request = r.enabled();
    if (r.has_window()) p.window = r.window();
    const bool window_ok = check_range(errors, "window", uint64_t{p.window}, 1, 56);
    if (r.has_failures()) p.failures = r.failures();
    if (r.has_failures() || !window_ok) {
      check_range(errors, "failures", uint64_t{p.failures}, 1, window_ok ? p.window : 56);
    } else if (p.window < p.failures) {
      ValidationErrors::Scope field(errors, "failures");
      errors.add(
          absl::StrCat("defaults to ", p.failures, ", more than window ", p.window, "; set it"));
    }
    read_range(errors, "consecutive", r.has_consecutive(), r.consecutive(), 0, 255, p.consecutive);
    if (r.has_compare_peers()) p.compare_peers = r.compare_peers();
  }
  {
    const v1::Ban::ByBusiness& b = ban.by_business();
    ValidationErrors::Scope by_business(errors, "by_business");
    if (b.has_enabled()) p.by_business = b.enabled();
    read_duration(errors, "interval", b.has_interval(), b.interval(), absl::Seconds(1),
                  absl::Hours(1), p.interval);
    read_range(errors, "min_requests", b.has_min_requests(), b.min_requests(), 1, 1000000000,
               p.min_requests);
    if (b.has_status_4xx()) p.status_4xx = b.status_4xx();
    if (b.has_status_5xx()) p.status_5xx = b.status_5xx();
    read_open_closed(errors, "min_share", b.has_min_share(), b.min_share(), 0, 1, p.min_share);
    read_range(errors, "factor", b.has_factor(), b.factor(), 1, 1000, p.factor);
    if (b.has_latency()) p.latency = b.latency();
    read_range(errors, "latency_factor", b.has_latency_factor(), b.latency_factor(), 1, 1000,
               p.latency_factor);
    read_duration(errors, "latency_floor", b.has_latency_floor(), b.latency_floor(),
                  absl::ZeroDuration(), absl::Minutes(1), p.latency_floor);
  }
  bool base_ok = true;
  if (ban.has_base_time()) {
    base_ok = check_duration(errors, "base_time", ban.base_time(), absl::Milliseconds(100),
                             absl::Hours(1));
    if (base_ok) p.base_time = *to_duration(ban.base_time());
  }
  // max_time is checked against base_time, so only when base_time is known to be valid.
  if (base_ok) {
    read_duration(errors, "max_time", ban.has_max_time(), ban.max_time(), p.base_time,
                  absl::Hours(24), p.max_time);
  }
  read_duration(errors, "streak_reset", ban.has_streak_reset(), ban.streak_reset(),
                absl::Seconds(1), absl::Hours(24), p.streak_reset);
  read_range(errors, "max_ratio", ban.has_max_ratio(), ban.max_ratio(), 0, 1, p.max_ratio);
  read_duration(errors, "long_ban", ban.has_long_ban(), ban.long_ban(), absl::Minutes(1),
                absl::Hours(24 * 30), p.long_ban);
  read_duration(errors, "probe_timeout", ban.has_probe_timeout(), ban.probe_timeout(),
                absl::Milliseconds(10), absl::Minutes(1), p.probe_timeout);
  {
    const v1::Ban::Probation& t = ban.probation();
    ValidationErrors::Scope probation(errors, "probation");
    if (t.has_enabled()) p.probation = t.enabled();
    read_range(errors, "requests", t.has_requests(), t.requests(), 1, 1000, p.probation_requests);
    read_open_closed(errors, "share", t.has_share(), t.share(), 0, 1, p.probation_share);
    read_duration(errors, "max_time", t.has_max_time(), t.max_time(), absl::Seconds(1),
                  absl::Hours(1), p.probation_max_time);
  }
  return p;
}

uint32_t BanPolicy::window_rule() const {
  return enabled && by_request ? WindowRule::pack(true, window, failures, consecutive) : 0;
}

absl::Duration BanPolicy::ban_time(uint32_t streak) const {
  absl::Duration t = base_time;
  for (uint32_t i = 1; i < streak && t < max_time; ++i) t *= 2;
  return std::min(t, max_time);
}

}  // namespace ufc::internal
