// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Fusing and the retry budget, as the client runs them (spec section 7). Every control
// tick (100 ms, the housekeeping period) and for every service:
//
//   measure   completed attempts by transport outcome (endpoint counters), dropped picks,
//             demand per traffic class while fusing, retries taken
//   decide    the service's FuseController -> total drop share d (seed or adaptive)
//   shed      d -> a drop probability per class, lowest priority and retries first
//   publish   FuseGate atomics the request path reads: fusing (strict timeouts, no
//             retries) and the per-class thresholds; the retry tokens for the next tick
//   report    fuse_start / fuse_step / fuse_end events

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/core/client_core.h"

namespace ufc::internal {
namespace {

bool same_policy(const FusePolicy& a, const FusePolicy& b) {
  return a.enabled == b.enabled && a.controller == b.controller && a.interval == b.interval &&
         a.threshold == b.threshold && a.min_requests == b.min_requests && a.step == b.step &&
         a.max_drop == b.max_drop && a.window == b.window && a.headroom == b.headroom;
}

uint64_t delta(uint64_t now, uint64_t& last) {
  // Counters only grow, except when endpoints leave the config: then start over.
  const uint64_t d = now >= last ? now - last : 0;
  last = now;
  return d;
}

uint64_t threshold_of(double p) {
  if (p <= 0) return 0;
  if (p >= 1) return UINT64_MAX;
  return static_cast<uint64_t>(std::ldexp(p, 64));
}

}  // namespace

void ClientCore::fuse_tick_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                                  std::vector<Event>& events) {
  // --- Measure ---
  uint64_t requests = 0, ok = 0;
  for (const EndpointRef& e : snapshot.endpoints) {
    for (int c = 0; c < kOutcomeClassCount; ++c) {
      const uint64_t n = e->count(static_cast<OutcomeClass>(c));
      requests += n;
      if (c < static_cast<int>(OutcomeClass::kConnectRefused)) ok += n;
    }
  }
  const uint64_t failed_total = requests - ok;
  const uint64_t d_requests = delta(requests, state.last_requests);
  const uint64_t d_ok = delta(ok, state.last_ok);
  const uint64_t d_failed = delta(failed_total, state.last_failed);
  const uint64_t d_fused = delta(state.fused.value(), state.last_fused);
  ClassShares demand{};
  double demand_total = 0;
  for (int c = 0; c < kTrafficClasses; ++c) {
    demand[c] = static_cast<double>(delta(state.fusing_demand[c].value(), state.last_demand[c]));
    demand_total += demand[c];
  }
  if (demand_total > 0) state.mix = demand;

  // --- Retry budget: tokens for the next tick = R x first attempts - retries, over the window ---
  const int64_t grant_before = state.retry_granted;
  const size_t window_ticks =
      std::max<size_t>(1, static_cast<size_t>(snapshot.retry.window / kFuseTick + 0.5));
  // Tokens left are swapped for the new grant below; what was taken this tick is the rest.
  uint64_t firsts_sum = 0, retries_sum = 0;
  const int64_t left_now = state.retry_tokens.load(std::memory_order_relaxed);
  const uint64_t retries =
      grant_before > left_now ? static_cast<uint64_t>(grant_before - left_now) : 0;
  const uint64_t offered = d_requests + d_fused;
  state.retry_window.emplace_back(offered > retries ? offered - retries : 0, retries);
  while (state.retry_window.size() > window_ticks) state.retry_window.pop_front();
  for (const auto& [f, r] : state.retry_window) {
    firsts_sum += f;
    retries_sum += r;
  }
  const int64_t grant = std::max<int64_t>(
      0, static_cast<int64_t>(std::floor(snapshot.retry.budget * static_cast<double>(firsts_sum))) -
             static_cast<int64_t>(retries_sum));
  // Retries taken between the load above and this exchange count in the next tick.
  const int64_t left = state.retry_tokens.exchange(grant, std::memory_order_relaxed);
  state.retry_window.back().second += left_now > left ? static_cast<uint64_t>(left_now - left) : 0;
  state.retry_granted = grant;

  // --- Decide ---
  ServiceState::FuseGate& gate = state.fuse_gate;
  const bool was_fusing = gate.fusing.load(std::memory_order_relaxed);
  if (!snapshot.fuse.enabled) {
    if (was_fusing) {
      for (auto& t : gate.drop) t.store(0, std::memory_order_relaxed);
      gate.fusing.store(false, std::memory_order_relaxed);
      Event e = make_event(EventType::kFuseEnd, state.name, snapshot.version, "fusing disabled");
      events.push_back(std::move(e));
    }
    state.fuse_controller.reset();
    return;
  }
  if (state.fuse_controller == nullptr || !same_policy(state.fuse_policy, snapshot.fuse)) {
    state.fuse_policy = snapshot.fuse;
    state.fuse_controller = make_fuse_controller(snapshot.fuse);
  }
  FuseController& controller = *state.fuse_controller;
  const double d = controller.update(FuseSample{
      static_cast<double>(offered), static_cast<double>(d_ok), static_cast<double>(d_failed)});

  // --- Shed and publish ---
  const bool now_fusing = controller.fusing();
  const ClassShares p = now_fusing ? shed(d, state.mix) : ClassShares{};
  for (int c = 0; c < kTrafficClasses; ++c) {
    gate.drop[c].store(threshold_of(p[c]), std::memory_order_relaxed);
  }
  gate.fusing.store(now_fusing, std::memory_order_relaxed);

  // --- Report ---
  const double success = (d_ok + d_failed) > 0 ? static_cast<double>(d_ok) / (d_ok + d_failed) : 1;
  auto fuse_event = [&](EventType type) {
    Event e = make_event(type, state.name, snapshot.version,
                         absl::StrFormat("drop %.2f; communication success %.1f%% in the last tick",
                                         d, 100 * success));
    e.drop = d;
    events.push_back(std::move(e));
    state.reported_drop = d;
  };
  if (!was_fusing && now_fusing) {
    ++state.fuse_starts;
    fuse_event(EventType::kFuseStart);
  } else if (was_fusing && !now_fusing) {
    fuse_event(EventType::kFuseEnd);
  } else if (now_fusing && std::fabs(d - state.reported_drop) >= 0.1 - 1e-9) {
    fuse_event(EventType::kFuseStep);
  }
}

}  // namespace ufc::internal
