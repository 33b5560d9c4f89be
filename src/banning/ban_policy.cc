// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/ban_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"

namespace ufc::internal {
namespace {

absl::Duration duration_or(bool present, const google::protobuf::Duration& d, absl::Duration dflt) {
  return present ? to_duration(d).value_or(dflt) : dflt;
}

}  // namespace

BanPolicy BanPolicy::from_proto(const v1::Ban& ban) {
  BanPolicy p;
  if (ban.has_enabled()) p.enabled = ban.enabled();
  const v1::Ban::ByRequest& r = ban.by_request();
  if (r.has_enabled()) p.by_request = r.enabled();
  if (r.has_window()) p.window = r.window();
  if (r.has_failures()) p.failures = r.failures();
  if (r.has_consecutive()) p.consecutive = r.consecutive();
  const v1::Ban::ByBusiness& b = ban.by_business();
  if (b.has_enabled()) p.by_business = b.enabled();
  p.interval = duration_or(b.has_interval(), b.interval(), p.interval);
  if (b.has_min_requests()) p.min_requests = b.min_requests();
  if (b.has_status_4xx()) p.status_4xx = b.status_4xx();
  if (b.has_status_5xx()) p.status_5xx = b.status_5xx();
  if (b.has_min_share()) p.min_share = b.min_share();
  if (b.has_factor()) p.factor = b.factor();
  if (b.has_latency()) p.latency = b.latency();
  if (b.has_latency_factor()) p.latency_factor = b.latency_factor();
  p.latency_floor = duration_or(b.has_latency_floor(), b.latency_floor(), p.latency_floor);
  p.base_time = duration_or(ban.has_base_time(), ban.base_time(), p.base_time);
  p.max_time = duration_or(ban.has_max_time(), ban.max_time(), p.max_time);
  p.streak_reset = duration_or(ban.has_streak_reset(), ban.streak_reset(), p.streak_reset);
  if (ban.has_max_ratio()) p.max_ratio = ban.max_ratio();
  p.long_ban = duration_or(ban.has_long_ban(), ban.long_ban(), p.long_ban);
  p.probe_timeout = duration_or(ban.has_probe_timeout(), ban.probe_timeout(), p.probe_timeout);
  return p;
}

absl::Duration BanPolicy::ban_time(uint32_t streak) const {
  absl::Duration t = base_time;
  for (uint32_t i = 1; i < streak && t < max_time; ++i) t *= 2;
  return std::min(t, max_time);
}

void validate_ban(const v1::Ban& ban, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "ban");
  {
    const v1::Ban::ByRequest& r = ban.by_request();
    ValidationErrors::Scope by_request(errors, "by_request");
    const uint32_t window = r.has_window() ? r.window() : 10;
    const bool window_ok = check_range(errors, "window", uint64_t{window}, 1, 56);
    if (r.has_failures() || !window_ok) {
      const uint32_t failures = r.has_failures() ? r.failures() : 5;
      check_range(errors, "failures", uint64_t{failures}, 1, window_ok ? window : 56);
    } else if (window < 5) {
      ValidationErrors::Scope field(errors, "failures");
      errors.add(absl::StrCat("defaults to 5, more than window ", window, "; set it"));
    }
    if (r.has_consecutive()) check_range(errors, "consecutive", uint64_t{r.consecutive()}, 0, 255);
  }
  {
    const v1::Ban::ByBusiness& b = ban.by_business();
    ValidationErrors::Scope by_business(errors, "by_business");
    if (b.has_interval())
      check_duration(errors, "interval", b.interval(), absl::Seconds(1), absl::Hours(1));
    if (b.has_min_requests()) {
      check_range(errors, "min_requests", uint64_t{b.min_requests()}, 1, 1000000000);
    }
    if (b.has_min_share()) check_open_closed(errors, "min_share", b.min_share(), 0, 1);
    if (b.has_factor()) check_range(errors, "factor", b.factor(), 1, 1000);
    if (b.has_latency_factor()) check_range(errors, "latency_factor", b.latency_factor(), 1, 1000);
    if (b.has_latency_floor()) {
      check_duration(errors, "latency_floor", b.latency_floor(), absl::ZeroDuration(),
                     absl::Minutes(1));
    }
  }
  std::optional<absl::Duration> base = absl::Seconds(10);
  if (ban.has_base_time()) {
    base = check_duration(errors, "base_time", ban.base_time(), absl::Milliseconds(100),
                          absl::Hours(1))
               ? to_duration(ban.base_time())
               : std::nullopt;
  }
  if (ban.has_max_time() && base.has_value()) {
    check_duration(errors, "max_time", ban.max_time(), *base, absl::Hours(24));
  }
  if (ban.has_streak_reset()) {
    check_duration(errors, "streak_reset", ban.streak_reset(), absl::Seconds(1), absl::Hours(24));
  }
  if (ban.has_max_ratio()) check_range(errors, "max_ratio", ban.max_ratio(), 0, 1);
  if (ban.has_long_ban()) {
    check_duration(errors, "long_ban", ban.long_ban(), absl::Minutes(1), absl::Hours(24 * 30));
  }
  if (ban.has_probe_timeout()) {
    check_duration(errors, "probe_timeout", ban.probe_timeout(), absl::Milliseconds(10),
                   absl::Minutes(1));
  }
}

}  // namespace ufc::internal
