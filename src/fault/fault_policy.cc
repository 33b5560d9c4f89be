// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fault/fault_policy.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "src/config/field_checks.h"

namespace ufc::internal {
namespace {

// The bounds config.proto gives: any status a proxy may answer with, and delays a drill
// can use (a longer one is a hung request, not a delay).
constexpr uint64_t kMinAbortStatus = 200;
constexpr uint64_t kMaxAbortStatus = 599;
const absl::Duration kMaxDelay = absl::Hours(1);

void parse_abort(const v1::FaultAbort& abort, FaultRule& rule, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "abort");
  rule.aborts = true;
  rule.abort_share = parse_share(errors, "percent", abort.has_percent(), abort.percent());
  if (abort.http_status() == 0) {
    ValidationErrors::Scope field(errors, "http_status");
    errors.add(absl::StrCat("must be set, in [", kMinAbortStatus, ", ", kMaxAbortStatus, "]"));
  } else if (check_range(errors, "http_status", uint64_t{abort.http_status()}, kMinAbortStatus,
                         kMaxAbortStatus)) {
    rule.abort_status = static_cast<uint16_t>(abort.http_status());
  }
}

void parse_delay(const v1::FaultDelay& delay, FaultRule& rule, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "delay");
  rule.delays = true;
  rule.delay_share = parse_share(errors, "percent", delay.has_percent(), delay.percent());
  if (!delay.has_fixed()) {
    ValidationErrors::Scope field(errors, "fixed");
    errors.add(
        absl::StrCat("must be set, a duration in (0, ", absl::FormatDuration(kMaxDelay), "]"));
    return;
  }
  absl::Duration fixed = absl::ZeroDuration();
  read_duration(errors, "fixed", true, delay.fixed(), absl::Nanoseconds(1), kMaxDelay, fixed);
  // Whole milliseconds, rounded up: what a Pick carries (and a proxy can wait for).
  rule.delay_ms =
      static_cast<uint32_t>(absl::ToInt64Milliseconds(absl::Ceil(fixed, absl::Milliseconds(1))));
}

}  // namespace

FaultPolicy FaultPolicy::parse(const google::protobuf::RepeatedPtrField<v1::FaultRule>& faults,
                               ValidationErrors& errors) {
  FaultPolicy out;
  out.rules_.reserve(faults.size());
  std::set<std::string> names;
  for (int i = 0; i < faults.size(); ++i) {
    const v1::FaultRule& f = faults.Get(i);
    ValidationErrors::Scope item(errors, absl::StrCat("faults[", i, "]"));
    if (!f.name().empty() && !names.insert(f.name()).second) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(absl::StrCat("duplicate rule name \"", f.name(), "\""));
    }
    FaultRule& rule = out.rules_.emplace_back();
    rule.name = f.name().empty() ? absl::StrCat("fault", i) : f.name();
    rule.request = parse_request_match(f.attributes(), f.caller_services(), errors);
    if (!f.has_abort() && !f.has_delay()) errors.add("must set abort, delay or both");
    if (f.has_abort()) parse_abort(f.abort(), rule, errors);
    if (f.has_delay()) parse_delay(f.delay(), rule, errors);
  }
  return out;
}

FaultDecision FaultPolicy::decide(const PickRequest& request, std::string_view caller,
                                  const Random& random) const {
  FaultDecision out;
  if (request.is_retry) return out;
  for (const FaultRule& rule : rules_) {
    if (!rule.request.matches(request, caller)) continue;
    if (rule.aborts && rule.abort_share.draw(random)) {
      out.abort_status = rule.abort_status;
    } else if (rule.delays && rule.delay_share.draw(random)) {
      out.delay_ms = rule.delay_ms;
    }
    return out;  // the first rule whose conditions hold decides
  }
  return out;
}

}  // namespace ufc::internal
