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

// How long past its timeout a probe may stay unanswered before it counts as failed (a
// prober that lost it must not keep a backend out of rotation forever).
constexpr absl::Duration kProbeGrace = absl::Seconds(5);

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
                                BanRoom& room, std::vector<Event>& events) {
  const BanPolicy& policy = snapshot.ban;
  BanRecord& b = endpoint.meta().ban;
  if (b.state != BanState::kHealthy) return false;
  if (room.banned + 1 > room.limit) {
    if (!state.max_ratio_reported) {
      state.max_ratio_reported = true;
      Event e = ban_event(EventType::kMaxBanRatio, state, endpoint, absl::ZeroDuration());
      e.detail = absl::StrCat(reason, "; not banned: ", room.banned, " of ", room.active,
                              " active endpoints are banned already, the most max ratio ",
                              policy.max_ratio, " allows");
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
  ++room.banned;
  endpoint.clear_window();
  events.push_back(ban_event(EventType::kBan, state, endpoint, t));
  return true;
}

void ClientCore::reban_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                              Endpoint& endpoint, std::string reason, absl::Time now,
                              std::vector<Event>& events) {
  BanRecord& b = endpoint.meta().ban;
  BanHistory& h = b.history();
  ++h.streak;
  const absl::Duration t = snapshot.ban.ban_time(h.streak);
  b.state = BanState::kBanned;
  h.until = now + t;
  ++h.generation;
  h.reason = std::move(reason);
  events.push_back(ban_event(EventType::kProbeFailed, state, endpoint, t));
}

void ClientCore::republish_locked(ServiceState& state, std::vector<Event>& events) {
  ServiceSnapshot* current = state.snapshot.load(std::memory_order_relaxed);
  std::unique_ptr<ServiceSnapshot> next = rebuild_snapshot(*current);
  affinity_events(state, current, *next, events);
  const BanRoom room = ban_room(*next);
  if (room.banned < room.limit) state.max_ratio_reported = false;
  state.snapshot.store(next.release(), std::memory_order_release);
  EpochDomain::global().retire(current);
}

void ClientCore::process_suspects() {
  Endpoint* list = suspects_.take_all();
  if (list == nullptr) return;
  // Let report() queue them again from now on: a trip during this pass is not lost (it is
  // handled twice at worst, which is harmless).
  std::vector<Endpoint*> handled;
  for (Endpoint* e = list; e != nullptr; e = e->meta().next_suspect) handled.push_back(e);
  for (Endpoint* e : handled) e->clear_suspect();
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = coarse_.now();
    // Each service's ban budget, counted once per pass: in an incident hundreds of
    // suspects may queue per tick.
    absl::flat_hash_map<ServiceState*, BanRoom> rooms;
    absl::flat_hash_set<ServiceState*> changed;
    for (Endpoint* e : handled) {
      ServiceState* owner = e->meta().owner;
      if (owner == nullptr) continue;  // left the config meanwhile
      const ServiceSnapshot& snapshot = *owner->snapshot.load(std::memory_order_relaxed);
      if (!snapshot.ban.enabled || !snapshot.ban.by_request) continue;
      const uint32_t rule = WindowRule::pack(true, snapshot.ban.window, snapshot.ban.failures,
                                             snapshot.ban.consecutive);
      const uint64_t window = e->window();
      if (!RequestWindow::tripped(window, rule)) continue;  // successes came in since
      auto [room, fresh] = rooms.try_emplace(owner);
      if (fresh) room->second = ban_room(snapshot);
      if (try_ban_locked(*owner, snapshot, *e, window_reason(window, rule), now, room->second,
                         events)) {
        changed.insert(owner);
      }
    }
    for (ServiceState* state : changed) republish_locked(*state, events);
  }
  for (Endpoint* e : handled) e->unref();  // the queue's reference
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
  BanRoom room = ban_room(snapshot);
  for (Outlier& o : find_outliers(samples, snapshot.ban)) {
    if (try_ban_locked(state, snapshot, *snapshot.endpoints[o.index], std::move(o.reason), now,
                       room, events)) {
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
      fuse_tick_locked(state, snapshot, events);
      if (!snapshot.ban.enabled) continue;
      const BanRoom room = ban_room(snapshot);
      if (room.banned < room.limit) state.max_ratio_reported = false;  // the episode is over
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
          h.probe_started = now;
          probes.push_back(
              Probe{EndpointRef::share(e.get()), h.generation, snapshot.ban.probe_timeout});
        } else if (b.state == BanState::kProbing &&
                   now - h.probe_started > snapshot.ban.probe_timeout + kProbeGrace) {
          reban_locked(state, snapshot, *e, "probe did not answer", now, events);
        }
      }
      if (snapshot.ban.by_business && now - state.last_evaluation >= snapshot.ban.interval) {
        state.last_evaluation = now;
        evaluate_business_locked(state, snapshot, now, events, changed);
      }
      if (changed) republish_locked(state, events);
    }
  }
  // Outside the lock: a prober may answer synchronously. Answers go through the gate,
  // and their events are delivered after the gate is released (no client lock held).
  for (Probe& p : probes) {
    const EndpointIdentity& id = p.endpoint->identity();
    const std::string host = id.address.substr(id.host_begin, id.host_size);
    prober_->probe(host, id.port, p.timeout,
                   [gate = probe_gate_, endpoint = std::move(p.endpoint),
                    generation = p.generation](bool reachable) {
                     std::vector<Event> answer_events;
                     EventCallback callback;
                     {
                       absl::MutexLock lock(&gate->mu);
                       if (gate->core == nullptr) return;
                       answer_events =
                           gate->core->on_probe_result(*endpoint, generation, reachable);
                       callback = gate->core->options_.on_event;
                     }
                     if (callback) {
                       for (const Event& e : answer_events) callback(e);
                     }
                   });
  }
  emit(events);
  EpochDomain::global().reclaim();
  Endpoint::sweep_graveyard();  // endpoints the last Picks have let go of since
}

std::vector<Event> ClientCore::on_probe_result(Endpoint& endpoint, uint64_t generation,
                                               bool reachable) {
  std::vector<Event> events;
  absl::MutexLock lock(&mu_);
  ServiceState* owner = endpoint.meta().owner;
  BanRecord& b = endpoint.meta().ban;
  if (owner == nullptr || b.state != BanState::kProbing) return events;
  BanHistory& h = b.history();
  if (h.generation != generation) return events;  // an answer for an earlier ban
  const ServiceSnapshot& snapshot = *owner->snapshot.load(std::memory_order_relaxed);
  const absl::Time now = coarse_.now();
  if (reachable) {
    b.state = BanState::kHealthy;
    h.unbanned_at = now;
    endpoint.clear_window();
    events.push_back(ban_event(EventType::kUnban, *owner, endpoint, absl::ZeroDuration()));
    republish_locked(*owner, events);
  } else {
    reban_locked(*owner, snapshot, endpoint, "probe failed", now, events);
  }
  return events;
}

void ClientCore::settle_bans_locked(ServiceState& state, const ServiceSnapshot& snapshot,
                                    std::vector<Event>& events) {
  const absl::Time now = coarse_.now();
  for (const EndpointRef& e : snapshot.endpoints) {
    BanRecord& b = e->meta().ban;
    if (b.state == BanState::kHealthy) continue;
    BanHistory& h = b.history();
    if (!snapshot.ban.enabled) {
      // Banning turned off: everyone back in rotation, and said so.
      b.state = BanState::kHealthy;
      h.unbanned_at = now;
      h.reason = "banning disabled";
      e->clear_window();
      events.push_back(ban_event(EventType::kUnban, state, *e, absl::ZeroDuration()));
    } else if (b.state == BanState::kBanned) {
      h.until = std::min(h.until, now + snapshot.ban.max_time);  // a shorter cap applies now
    }
  }
}

}  // namespace ufc::internal
