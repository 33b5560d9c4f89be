// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The ban lifecycle (spec section 6), as the client runs it:
//
//   report() -- window trips --> suspect queue --(tick)--> process_suspects --> try_ban
//   housekeeping --(interval)--> find_outliers --> try_ban
//   try_ban: max ratio? streak (reset after streak_reset healthy), ban for base x 2^(n-1)
//   housekeeping --(ban expired)--> probe --> unban | ban again, doubled
//
// Every decision runs under the config mutex, off the request path; a ban takes effect by
// publishing a rebuilt snapshot that leaves the backend out.

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/banning/outlier_detector.h"
#include "src/banning/request_window.h"
#include "src/common/epoch.h"
#include "src/core/client_core.h"

namespace ufc::internal {

namespace {

size_t banned_count(const ServiceSnapshot& snapshot) {
  size_t n = 0;
  for (const EndpointRef& e : snapshot.endpoints) n += e->meta().ban.state != BanState::kHealthy;
  return n;
}

size_t ban_limit(const ServiceSnapshot& snapshot) {
  return static_cast<size_t>(
      std::floor(snapshot.ban.max_ratio * static_cast<double>(snapshot.endpoints.size()) + 1e-9));
}

std::string window_reason(uint64_t window, uint32_t rule) {
  const uint32_t k = WindowRule::consecutive(rule);
  if (k != 0 && RequestWindow::run(window) >= k) {
    return absl::StrCat(RequestWindow::run(window), " consecutive transport failures");
  }
  return absl::StrCat(RequestWindow::failures(window), " transport failures in the last ",
                      WindowRule::window(rule), " attempts");
}

}  // namespace

Event ClientCore::ban_event(EventType type, const ServiceState& state, const Endpoint& endpoint,
                            absl::Duration ban_time) {
  const BanHistory* h = endpoint.meta().ban.peek();
  Event e = make_event(type, state.name, state.snapshot.load(std::memory_order_relaxed)->version,
                       h != nullptr ? h->reason : "");
  e.endpoint = std::string(endpoint.address());
  e.ban_time = ban_time;
  e.streak = h != nullptr ? h->streak : 0;
  return e;
}

bool ClientCore::try_ban_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                                Endpoint& endpoint, std::string reason, absl::Time now,
                                std::vector<Event>& events) {
  const BanPolicy& policy = snapshot.ban;
  BanRecord& b = endpoint.meta().ban;
  if (b.state != BanState::kHealthy) return false;
  if (banned_count(snapshot) + 1 > ban_limit(snapshot)) {
    if (!state.max_ratio_reported) {
      state.max_ratio_reported = true;
      Event e = ban_event(EventType::kMaxBanRatio, state, endpoint, absl::ZeroDuration());
      e.detail = absl::StrCat(reason, "; not banned: ", banned_count(snapshot), " of ",
                              snapshot.endpoints.size(), " endpoints already banned (max ratio ",
                              policy.max_ratio, ")");
      events.push_back(std::move(e));
    }
    return false;
  }
  BanHistory& h = b.history();
  if (h.streak > 0 && now - h.unbanned_at >= policy.streak_reset) h.streak = 0;
  if (h.streak == 0) {
    h.streak_started = now;
    h.long_ban_reported = false;
  }
  ++h.streak;
  const absl::Duration t = policy.ban_time(h.streak);
  b.state = BanState::kBanned;
  h.until = now + t;
  h.reason = std::move(reason);
  ++h.generation;
  ++state.bans;
  endpoint.clear_window();
  events.push_back(ban_event(EventType::kBan, state, endpoint, t));
  return true;
}

void ClientCore::republish_locked(ServiceState& state) {
  ServiceSnapshot* current = state.snapshot.load(std::memory_order_relaxed);
  std::unique_ptr<ServiceSnapshot> next = rebuild_snapshot(*current);
  if (banned_count(*next) < ban_limit(*next)) state.max_ratio_reported = false;
  state.snapshot.store(next.release(), std::memory_order_release);
  EpochDomain::global().retire(current);
}

void ClientCore::process_suspects() {
  Endpoint* list = suspects_.take_all();
  if (list == nullptr) return;
  std::vector<Event> events;
  std::vector<Endpoint*> handled;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = coarse_.now();
    absl::flat_hash_set<ServiceState*> changed;
    for (Endpoint* e = list; e != nullptr; e = e->meta().next_suspect) {
      handled.push_back(e);
      ServiceState* owner = e->meta().owner;
      if (owner == nullptr) continue;  // left the config meanwhile
      const ServiceSnapshot& snapshot = *owner->snapshot.load(std::memory_order_relaxed);
      if (!snapshot.ban.enabled || !snapshot.ban.by_request) continue;
      const uint32_t rule = WindowRule::pack(true, snapshot.ban.window, snapshot.ban.failures,
                                             snapshot.ban.consecutive);
      const uint64_t window = e->window();
      if (!RequestWindow::tripped(window, rule)) continue;  // successes came in since
      if (try_ban_locked(*owner, snapshot, *e, window_reason(window, rule), now, events)) {
        changed.insert(owner);
      }
    }
    for (ServiceState* state : changed) republish_locked(*state);
  }
  for (Endpoint* e : handled) {
    e->clear_suspect();
    e->unref();  // the queue's reference
  }
  emit(events);
}

void ClientCore::evaluate_business_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                                          absl::Time now, std::vector<Event>& events,
                                          bool& changed) {
  std::vector<IntervalSample> samples(snapshot.endpoints.size());
  for (size_t i = 0; i < snapshot.endpoints.size(); ++i) {
    const Endpoint& e = *snapshot.endpoints[i];
    BanRecord& b = e.meta().ban;
    const uint64_t requests = e.requests();
    const uint64_t c4 = e.count(OutcomeClass::kClientError);
    const uint64_t c5 = e.count(OutcomeClass::kServerError);
    const uint64_t latency = e.latency_sum_us();
    if (b.has_baseline && b.state == BanState::kHealthy) {
      samples[i] = IntervalSample{requests - b.base_requests, c4 - b.base_4xx, c5 - b.base_5xx,
                                  static_cast<double>(latency - b.base_latency_us)};
    }
    b.has_baseline = true;
    b.base_requests = requests;
    b.base_4xx = c4;
    b.base_5xx = c5;
    b.base_latency_us = latency;
  }
  for (Outlier& o : find_outliers(samples, snapshot.ban)) {
    if (try_ban_locked(state, snapshot, *snapshot.endpoints[o.index], std::move(o.reason), now,
                       events)) {
      changed = true;
    }
  }
}

void ClientCore::housekeeping() {
  coarse_.refresh();
  struct Probe {
    EndpointRef endpoint;
    uint64_t generation;
    absl::Duration timeout;
  };
  std::vector<Probe> probes;
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = coarse_.now();
    for (auto& [name, owned] : services_) {
      ServiceState& state = *owned;
      expire_departed_locked(state);
      const ServiceSnapshot& snapshot = *state.snapshot.load(std::memory_order_relaxed);
      if (!snapshot.ban.enabled) continue;
      bool changed = false;
      for (const EndpointRef& e : snapshot.endpoints) {
        BanRecord& b = e->meta().ban;
        if (b.state == BanState::kHealthy) continue;
        BanHistory& h = b.history();
        if (!h.long_ban_reported && now - h.streak_started >= snapshot.ban.long_ban) {
          h.long_ban_reported = true;
          events.push_back(ban_event(EventType::kLongBan, state, *e, now - h.streak_started));
        }
        if (b.state == BanState::kBanned && h.until <= now) {
          b.state = BanState::kProbing;  // still out of rotation until the probe answers
          probes.push_back(
              Probe{EndpointRef::share(e.get()), h.generation, snapshot.ban.probe_timeout});
        }
      }
      if (snapshot.ban.by_business && now - state.last_evaluation >= snapshot.ban.interval) {
        state.last_evaluation = now;
        evaluate_business_locked(state, snapshot, now, events, changed);
      }
      if (changed) republish_locked(state);
    }
  }
  // Outside the lock: a prober may answer synchronously.
  for (Probe& p : probes) {
    const EndpointIdentity& id = p.endpoint->identity();
    const std::string host = id.address.substr(id.host_begin, id.host_size);
    prober_->probe(host, id.port, p.timeout,
                   [gate = probe_gate_, endpoint = std::move(p.endpoint),
                    generation = p.generation](bool reachable) {
                     absl::MutexLock lock(&gate->mu);
                     if (gate->core != nullptr) {
                       gate->core->on_probe_result(*endpoint, generation, reachable);
                     }
                   });
  }
  emit(events);
  EpochDomain::global().reclaim();
}

void ClientCore::on_probe_result(Endpoint& endpoint, uint64_t generation, bool reachable) {
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    ServiceState* owner = endpoint.meta().owner;
    BanRecord& b = endpoint.meta().ban;
    if (owner == nullptr || b.state != BanState::kProbing) return;
    BanHistory& h = b.history();
    if (h.generation != generation) return;  // an answer for an earlier ban
    const ServiceSnapshot& snapshot = *owner->snapshot.load(std::memory_order_relaxed);
    const absl::Time now = coarse_.now();
    if (reachable) {
      b.state = BanState::kHealthy;
      h.unbanned_at = now;
      endpoint.clear_window();
      events.push_back(ban_event(EventType::kUnban, *owner, endpoint, absl::ZeroDuration()));
      republish_locked(*owner);
    } else {
      ++h.streak;
      const absl::Duration t = snapshot.ban.ban_time(h.streak);
      b.state = BanState::kBanned;
      h.until = now + t;
      ++h.generation;
      h.reason = "probe failed";
      events.push_back(ban_event(EventType::kProbeFailed, *owner, endpoint, t));
    }
  }
  emit(events);
}

}  // namespace ufc::internal
