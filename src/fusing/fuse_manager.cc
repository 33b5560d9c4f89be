// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fusing/fuse_manager.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace ufc::internal {
namespace {

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

FuseManager::FuseManager(Options options)
    : clock_(*options.clock),
      executor_(*options.executor),
      on_event_(std::move(options.on_event)),
      pick_clock_ns_(absl::ToInt64Nanoseconds(options.pick_clock)),
      task_(executor_.run_every(kFuseTick, [this] { tick(); })) {}

void FuseManager::stop() {
  if (stopped_) return;
  stopped_ = true;
  executor_.cancel(task_);
}

FuseManager::~FuseManager() { stop(); }

FuseServiceId FuseManager::add_service(std::string name, FuseGate* gate) {
  absl::MutexLock lock(&mu_);
  auto service = std::make_unique<Service>();
  service->name = std::move(name);
  service->gate = gate;
  service->endpoints = std::make_shared<EndpointSet>();
  return services_.add(std::move(service));
}

void FuseManager::update_service(FuseServiceId id, const FusePolicy& fuse, const RetryPolicy& retry,
                                 uint64_t version, std::shared_ptr<const EndpointSet> endpoints) {
  absl::MutexLock lock(&mu_);
  Service& s = services_[id];
  s.fuse = fuse;
  s.retry = retry;
  s.version = version;
  s.endpoints = std::move(endpoints);
  s.dormant = false;  // a tick looks again: the new policy's grant, say
  // A new service has its reserve at once: the first failures may be retried before the
  // first tick has seen any request.
  if (s.retry_window.empty() && s.retry_granted == 0) {
    s.retry_granted = retry.reserve();
    s.gate->retry_tokens.store(s.retry_granted, std::memory_order_relaxed);
  }
}

void FuseManager::remove_service(FuseServiceId id) {
  absl::MutexLock lock(&mu_);
  services_.remove(id);
}

FuseStats FuseManager::stats(FuseServiceId id) const {
  absl::MutexLock lock(&mu_);
  const Service& s = services_[id];
  FuseStats out;
  out.fusing = s.gate->fusing.load(std::memory_order_relaxed);
  out.drop = out.fusing && s.controller ? s.controller->drop() : 0.0;
  out.fused = s.gate->fused();
  out.retry_budget_left = s.gate->retry_tokens.load(std::memory_order_relaxed);
  out.retries_refused = s.gate->retries_refused();
  out.fuse_starts = s.fuse_starts;
  out.retries = s.retries_taken;
  return out;
}

void FuseManager::tick() {
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    services_.for_each([&](Service& s) { tick_locked(s, events); });
  }
  if (on_event_) {
    for (const Event& e : events) on_event_(e);
  }
}

size_t FuseManager::dormant() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  services_.for_each([&](const Service& s) { n += s.dormant; });
  return n;
}

void FuseManager::tick_locked(Service& s, std::vector<Event>& events) {
  FuseGate& gate = *s.gate;
  // --- Measure ---
  uint64_t requests = 0, ok = 0, latency = 0;
  const bool idle = gate.idle.load(std::memory_order_acquire);
  if (idle && s.dormant) return;  // nothing can change until a pick wakes it
  if (!idle && s.dormant) {
    // In use again after an idle spell the controller did not see tick by tick: it
    // starts afresh, as does the retry window (the tokens left stand until this tick).
    s.dormant = false;
    s.controller.reset();
    s.retry_window.clear();
  }
  if (idle) {
    // Nothing moved since the records were folded: the sums are the last ones (and the
    // fleet's idle services cost no reads of their endpoints).
    requests = s.last_requests;
    ok = s.last_ok;
    latency = s.last_latency;
  } else {
    for (const EndpointRef& e : s.endpoints->endpoints) {
      const Endpoint::Totals t = e->totals();  // one pass over its shards
      latency += t.latency_sum_us;
      requests += t.requests;
      ok += t.answered;
    }
  }
  const uint64_t failed_total = requests - ok;
  const uint64_t d_requests = delta(requests, s.last_requests);
  const uint64_t d_ok = delta(ok, s.last_ok);
  const uint64_t d_failed = delta(failed_total, s.last_failed);
  const uint64_t d_fused = delta(gate.fused(), s.last_fused);
  const uint64_t d_latency = delta(latency, s.last_latency);
  ClassShares demand{};
  double demand_total = 0;
  for (int c = 0; c < kTrafficClasses; ++c) {
    demand[c] = static_cast<double>(delta(gate.demand(c), s.last_demand[c]));
    demand_total += demand[c];
  }
  if (demand_total > 0) s.mix = demand;

  // --- Retry budget: tokens for the next tick = R x first attempts + the reserve - retries,
  // over the window ---
  const int64_t grant_before = s.retry_granted;
  const size_t window_ticks =
      std::max<size_t>(1, static_cast<size_t>(s.retry.window / kFuseTick + 0.5));
  // Tokens left are swapped for the new grant below; what was taken this tick is the rest.
  uint64_t firsts_sum = 0, retries_sum = 0;
  const int64_t left_now = gate.retry_tokens.load(std::memory_order_relaxed);
  const uint64_t retries =
      grant_before > left_now ? static_cast<uint64_t>(grant_before - left_now) : 0;
  const uint64_t offered = d_requests + d_fused;
  s.retry_window.emplace_back(offered > retries ? offered - retries : 0, retries);
  while (s.retry_window.size() > window_ticks) s.retry_window.pop_front();
  for (const auto& [f, r] : s.retry_window) {
    firsts_sum += f;
    retries_sum += r;
  }
  const int64_t grant = std::max<int64_t>(
      0, static_cast<int64_t>(std::floor(s.retry.budget * static_cast<double>(firsts_sum))) +
             s.retry.reserve() - static_cast<int64_t>(retries_sum));
  // Retries taken between the load above and this exchange count in the next tick.
  const int64_t left = gate.retry_tokens.exchange(grant, std::memory_order_relaxed);
  const uint64_t late = left_now > left ? static_cast<uint64_t>(left_now - left) : 0;
  s.retry_window.back().second += late;
  s.retries_taken += retries + late;
  s.retry_granted = grant;
  // Idle, and no traffic left in the retry window: unless it is fusing, later ticks would
  // change nothing (the grant is the reserve), so they skip it until it is picked again.
  const bool quiet = idle && firsts_sum == 0 && retries_sum == 0;

  // --- Decide ---
  const bool was_fusing = gate.fusing.load(std::memory_order_relaxed);
  auto event = [&](EventType type, std::string detail) {
    return Event{type, s.name, s.version, std::move(detail), clock_.wall_now()};
  };
  if (!s.fuse.enabled) {
    if (was_fusing) {
      for (auto& t : gate.drop) t.store(0, std::memory_order_relaxed);
      gate.fusing.store(false, std::memory_order_relaxed);
      events.push_back(event(EventType::kFuseEnd, "fusing disabled"));
    }
    s.controller.reset();
    if (quiet) s.dormant = true;
    return;
  }
  if (s.controller == nullptr || s.controller_policy != s.fuse) {
    s.controller_policy = s.fuse;
    s.controller = make_fuse_controller(s.fuse);
  }
  const double d = s.controller->update(
      FuseSample{static_cast<double>(offered), static_cast<double>(d_ok),
                 static_cast<double>(d_failed), static_cast<double>(d_latency)});

  // --- Shed and publish ---
  const bool now_fusing = s.controller->fusing();
  const double rate = now_fusing ? s.controller->paced_rate() : 0;
  const ClassShares p = now_fusing && rate <= 0 ? shed(d, s.mix) : ClassShares{};
  for (int c = 0; c < kTrafficClasses; ++c) {
    gate.drop[c].store(threshold_of(p[c]), std::memory_order_relaxed);
  }
  if (rate > 0) {
    // A tolerance step is one interval, and never less than two ticks of the client's
    // coarse clock: pick reads time to ~1 ms, and a tighter schedule would refuse whole
    // milliseconds of traffic at once.
    const int64_t interval = std::max<int64_t>(1, static_cast<int64_t>(1e9 / rate));
    gate.interval_ns.store(interval, std::memory_order_relaxed);
    gate.unit_ns.store(std::max(interval, 2 * pick_clock_ns_), std::memory_order_relaxed);
  }
  gate.pacing.store(rate > 0, std::memory_order_relaxed);
  gate.fusing.store(now_fusing, std::memory_order_relaxed);

  if (quiet && !now_fusing) s.dormant = true;

  // --- Report ---
  const double success = (d_ok + d_failed) > 0 ? static_cast<double>(d_ok) / (d_ok + d_failed) : 1;
  auto fuse_event = [&](EventType type) {
    Event e =
        event(type, absl::StrFormat("drop %.2f; communication success %.1f%% in the last tick", d,
                                    100 * success));
    e.drop = d;
    events.push_back(std::move(e));
    s.reported_drop = d;
    s.ticks_since_report = 0;
  };
  if (!was_fusing && now_fusing) {
    ++s.fuse_starts;
    fuse_event(EventType::kFuseStart);
  } else if (was_fusing && !now_fusing) {
    fuse_event(EventType::kFuseEnd);
  } else if (now_fusing && d != s.reported_drop) {
    // Every change in force, at most one a second unless it moved by kStepReport: the
    // seed changes a step per interval, the adaptive controller a little every tick.
    ++s.ticks_since_report;
    if (std::fabs(d - s.reported_drop) >= kStepReport - 1e-9 ||
        s.ticks_since_report >= kReportTicks || s.fuse.controller == FuseControllerKind::kSeed) {
      fuse_event(EventType::kFuseStep);
    }
  }
}

}  // namespace ufc::internal
