// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fault/fault_policy.h: a service's `faults` section (fault injection for chaos
// drills), read once, and the per-pick decision it makes.
//
// The library only decides: pick() returns the decision in the Pick (ufc/pick.h,
// Pick::fault()), and whoever sends the request honours it — a bypass caller, or the
// agent's HTTP proxy. An aborted pick carries no backend, so nothing of it reaches banning,
// fusing or the endpoints' counters; injected faults are counted apart (fault_counters.h).

#ifndef UFC_FAULT_FAULT_POLICY_H_
#define UFC_FAULT_FAULT_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/fast_random.h"
#include "src/config/validation_errors.h"
#include "src/routing/request_match.h"
#include "ufc/pick.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// What decide() injects into one pick: abort_status != 0 aborts (and then delay_ms is 0);
// delay_ms > 0 delays. Both 0: nothing.
struct FaultDecision {
  uint16_t abort_status = 0;
  uint32_t delay_ms = 0;
};

// FaultRule: one rule of `faults`, compiled. A rule has an abort, a delay or both.
struct FaultRule {
  std::string name;
  RequestMatch request;  // attributes and caller services
  bool aborts = false;   // abort configured
  Share abort_share;     // of the matching requests
  uint16_t abort_status = 0;
  bool delays = false;  // delay configured
  Share delay_share;
  uint32_t delay_ms = 0;  // the configured delay rounded up to a millisecond (what a Pick holds)
};

// FaultPolicy: the rules of a service's `faults` section, in order. Immutable; shared by
// every snapshot of the config version. Empty for a service without rules, and then never
// consulted: pick() skips it with one branch on the snapshot.
//
// Thread-safety: decide() is const and may run on any number of threads.
class FaultPolicy {
 public:
  // parse() reads `faults` under "faults[i]" at the current path, adding every problem
  // to `errors`: duplicate names, the attribute and caller conditions (as routing's), a
  // rule with neither abort nor delay, percentages outside [0, 100] (NaN included), an
  // abort without an http_status in [200, 599], a delay without `fixed` or outside
  // (0, 1h] (kept rounded up to a whole millisecond). The rule count (limits.h's
  // kMaxFaultRulesPerService), the conditions' counts and the strings are checked before
  // (service_policy.cc). Cost: linear in the section. Meaningful only when nothing was added.
  static FaultPolicy parse(const google::protobuf::RepeatedPtrField<v1::FaultRule>& faults,
                           ValidationErrors& errors);

  bool empty() const { return rules_.empty(); }
  const std::vector<FaultRule>& rules() const { return rules_; }

  // decide() is the fault for `request` from `caller`: the first rule whose conditions
  // hold decides (later rules are not looked at, whatever it draws). Its abort is drawn
  // first; only when it does not abort is its delay drawn. A share of 100% spends no
  // draw, any other one draw from `random`. A retry (request.is_retry) gets no fault and
  // spends nothing. Cost: the conditions of the rules tried, and at most two draws.
  FaultDecision decide(const PickRequest& request, std::string_view caller,
                       const Random& random) const;

 private:
  std::vector<FaultRule> rules_;
};

}  // namespace ufc::internal

#endif  // UFC_FAULT_FAULT_POLICY_H_
