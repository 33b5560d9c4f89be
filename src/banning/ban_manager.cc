// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The ban lifecycle (spec section 6); see ban_manager.h for the picture. Every decision
// runs under the manager's mutex, off the request path; a ban takes effect when the
// listener republishes the service's candidate sets without the backend.

#include "src/banning/ban_manager.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/banning/outlier_detector.h"
#include "src/endpoint/failure_window.h"

namespace ufc::internal {
namespace {

// An endpoint's watch handle: which service (high 32 bits) and position (low 32 bits).
uint64_t handle_of(BanServiceId id, size_t position) {
  return (uint64_t{id} << 32) | static_cast<uint32_t>(position);
}

std::string window_reason(uint64_t window, uint32_t rule) {
  const uint32_t k = WindowRule::consecutive(rule);
  if (k != 0 && FailureWindow::run(window) >= k) {
    return absl::StrCat(FailureWindow::run(window), " consecutive transport failures");
  }
  return absl::StrCat(FailureWindow::failures(window), " transport failures in the last ",
                      WindowRule::window(rule), " attempts");
}

// The record an endpoint takes over from the one it replaces (same address, new tags): the
// ban state and history carry over, the business baselines do not (its counts start at
// zero). A probe in flight answers for the old endpoint, so a probing ban becomes an
// expired one: the next housekeeping probes the new endpoint afresh.
BanRecord inherited(const BanRecord& old) {
  BanRecord r = old;
  r.has_baseline = false;
  if (r.state == BanState::kProbing) {
    r.state = BanState::kBanned;
    r.history().until = absl::InfinitePast();
    ++r.history().generation;
  }
  return r;
}

}  // namespace

struct BanManager::Service {
  std::string name;
  BanPolicy policy;
  uint64_t version = 0;
  std::shared_ptr<const EndpointSet> set = std::make_shared<EndpointSet>();
  std::vector<BanRecord> records;   // parallel to set->endpoints
  uint64_t bans = 0;                // issued over the service's life (not unbans)
  bool max_ratio_reported = false;  // until the banned count drops below the limit again
  absl::Time last_evaluation = absl::InfinitePast();  // business-signal interval
};

// Probe answers arrive on the prober's thread, possibly after the manager is gone: they go
// through the gate, which the destructor closes first.
struct BanManager::ProbeGate {
  absl::Mutex mu;
  BanManager* manager ABSL_GUARDED_BY(mu) = nullptr;
  EventCallback on_event;  // set once, before any probe
};

// A service's ban budget: banned endpoints and the most the max ratio allows, both among
// endpoints that take traffic (weight > 0). Drained endpoints count for neither: otherwise
// draining half a service would let every active endpoint be banned.
struct BanManager::Room {
  size_t active = 0;  // endpoints with weight > 0
  size_t banned = 0;  // of those, banned or probing
  size_t limit = 0;   // floor(max_ratio x active)
};

BanManager::BanManager(Options options)
    : clock_(*options.clock),
      executor_(*options.executor),
      prober_(std::move(options.prober)),
      listener_(options.listener),
      on_event_(std::move(options.on_event)),
      gate_(std::make_shared<ProbeGate>()) {
  gate_->on_event = on_event_;
  {
    absl::MutexLock lock(&gate_->mu);
    gate_->manager = this;
  }
  tasks_.push_back(executor_.run_every(options.tick, [this] {
    if (!suspects_.empty()) drain_suspects();
  }));
  tasks_.push_back(executor_.run_every(kHousekeepingPeriod, [this] { housekeeping(); }));
}

void BanManager::stop() {
  {
    absl::MutexLock lock(&gate_->mu);  // waits for an answer being handled
    gate_->manager = nullptr;
  }
  for (Executor::TaskId id : tasks_) executor_.cancel(id);  // waits for a run in progress
  tasks_.clear();
}

BanManager::~BanManager() {
  stop();
  for (Endpoint* e = suspects_.take_all(); e != nullptr;) {
    Endpoint* next = SuspectQueue::next(e);
    e->unref();
    e = next;
  }
}

BanServiceId BanManager::add_service(std::string name) {
  absl::MutexLock lock(&mu_);
  auto service = std::make_unique<Service>();
  service->name = std::move(name);
  const BanServiceId id = services_.add(std::move(service));
  // Watch handles keep the id in 31 bits (the endpoint's word also holds a flag); ids are
  // reused, so this bounds the services tracked at once, not over time.
  assert(id < (1u << 31));
  return id;
}

void BanManager::update_service(
    BanServiceId id, const BanPolicy& policy, uint64_t version,
    std::shared_ptr<const EndpointSet> endpoints,
    absl::Span<const std::pair<const Endpoint*, const Endpoint*>> replaced,
    std::vector<Event>& events) {
  absl::MutexLock lock(&mu_);
  Service& s = services_[id];
  absl::flat_hash_map<const Endpoint*, const Endpoint*> replaces(replaced.begin(), replaced.end());
  std::vector<BanRecord> records(endpoints->size());
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const Endpoint& e = *endpoints->endpoints[i];
    size_t at;
    if (find_locked(e, at) == &s) {
      records[i] = std::move(s.records[at]);
    } else if (auto it = replaces.find(&e);
               it != replaces.end() && find_locked(*it->second, at) == &s) {
      records[i] = inherited(s.records[at]);
    }
  }
  // Endpoints that left stop reporting here; those that stay (or came) are renumbered.
  for (const EndpointRef& e : s.set->endpoints) {
    e->set_watch(Endpoint::kNoWatch);
    e->set_window_rule(0);
  }
  const uint32_t rule = policy.window_rule();
  for (size_t i = 0; i < endpoints->size(); ++i) {
    endpoints->endpoints[i]->set_watch(handle_of(id, i));
    endpoints->endpoints[i]->set_window_rule(rule);
  }
  s.policy = policy;
  s.version = version;
  s.set = std::move(endpoints);
  s.records = std::move(records);

  const absl::Time now = clock_.now();
  for (size_t i = 0; i < s.records.size(); ++i) {
    BanRecord& b = s.records[i];
    if (b.state == BanState::kHealthy) continue;
    if (!policy.enabled) {
      // Banning turned off: everyone back in rotation, and said so.
      b.history().reason = "banning disabled";
      unban_locked(s, i, now, events);
    } else if (b.state == BanState::kBanned) {
      b.history().until = std::min(b.history().until, now + policy.max_time);  // a shorter cap
    }
  }
}

void BanManager::remove_service(BanServiceId id) {
  absl::MutexLock lock(&mu_);
  for (const EndpointRef& e : services_[id].set->endpoints) {
    e->set_watch(Endpoint::kNoWatch);
    e->set_window_rule(0);
  }
  services_.remove(id);
}

std::vector<bool> BanManager::out_of_rotation(BanServiceId id) const {
  absl::MutexLock lock(&mu_);
  const Service& s = services_[id];
  std::vector<bool> out(s.records.size());
  for (size_t i = 0; i < s.records.size(); ++i) out[i] = s.records[i].state != BanState::kHealthy;
  return out;
}

BanManager::ServiceBans BanManager::stats(BanServiceId id, bool per_endpoint) const {
  absl::MutexLock lock(&mu_);
  const Service& s = services_[id];
  ServiceBans out;
  out.bans_issued = s.bans;
  const absl::Time now = clock_.now();
  for (const BanRecord& b : s.records) {
    out.out_now += b.state != BanState::kHealthy;
    if (!per_endpoint) continue;
    BanStats& st = out.endpoints.emplace_back();
    st.state = ban_state_name(b.state);
    const BanHistory* h = b.peek();
    st.streak = h != nullptr ? h->streak : 0;
    if (b.state != BanState::kHealthy && h != nullptr) {
      st.reason = h->reason;
      const absl::Duration left =
          b.state == BanState::kBanned ? h->until - now : absl::ZeroDuration();
      st.left_ms = absl::ToInt64Milliseconds(std::max(left, absl::ZeroDuration()));
    }
  }
  return out;
}

BanManager::Service* BanManager::find_locked(const Endpoint& endpoint, size_t& position) const {
  const uint64_t handle = endpoint.watch();
  if (handle == Endpoint::kNoWatch) return nullptr;
  const uint64_t id = handle >> 32;
  position = static_cast<uint32_t>(handle);
  Service* s = services_.find(id);
  if (s == nullptr) return nullptr;
  if (position >= s->set->size() || s->set->endpoints[position].get() != &endpoint) return nullptr;
  return s;
}

BanManager::Room BanManager::room_locked(const Service& s) const {
  Room room;
  for (size_t i = 0; i < s.records.size(); ++i) {
    if (s.set->weights[i] <= 0) continue;
    ++room.active;
    room.banned += s.records[i].state != BanState::kHealthy;
  }
  room.limit =
      static_cast<size_t>(std::floor(s.policy.max_ratio * static_cast<double>(room.active) + 1e-9));
  return room;
}

void BanManager::end_episode_locked(Service& s) {
  const Room room = room_locked(s);
  if (room.banned < room.limit) s.max_ratio_reported = false;
}

Event BanManager::ban_event(EventType type, const Service& s, size_t i,
                            absl::Duration ban_time) const {
  const BanHistory* h = s.records[i].peek();
  Event e{type, s.name, s.version, h != nullptr ? h->reason : "", clock_.wall_now()};
  e.endpoint = std::string(s.set->endpoints[i]->address());
  e.ban_time = ban_time;
  e.streak = h != nullptr ? h->streak : 0;
  return e;
}

bool BanManager::try_ban_locked(Service& s, size_t i, std::string reason, absl::Time now,
                                Room& room, std::vector<Event>& events) {
  BanRecord& b = s.records[i];
  if (b.state != BanState::kHealthy) return false;
  if (room.banned + 1 > room.limit) {
    if (!s.max_ratio_reported) {
      s.max_ratio_reported = true;
      Event e = ban_event(EventType::kMaxBanRatio, s, i, absl::ZeroDuration());
      e.detail = absl::StrCat(reason, "; not banned: ", room.banned, " of ", room.active,
                              " active endpoints are banned already, the most max ratio ",
                              s.policy.max_ratio, " allows");
      events.push_back(std::move(e));
    }
    return false;
  }
  BanHistory& h = b.history();
  if (h.streak > 0 && now - h.unbanned_at >= s.policy.streak_reset) h.streak = 0;
  if (h.streak == 0) {
    h.streak_started = now;
    h.long_ban_reported = false;
  }
  ++h.streak;
  const absl::Duration t = s.policy.ban_time(h.streak);
  b.state = BanState::kBanned;
  h.until = now + t;
  h.reason = std::move(reason);
  ++h.generation;
  ++s.bans;
  ++room.banned;
  s.set->endpoints[i]->clear_window();
  events.push_back(ban_event(EventType::kBan, s, i, t));
  return true;
}

void BanManager::reban_locked(Service& s, size_t i, std::string reason, absl::Time now,
                              std::vector<Event>& events) {
  BanRecord& b = s.records[i];
  BanHistory& h = b.history();
  ++h.streak;
  const absl::Duration t = s.policy.ban_time(h.streak);
  b.state = BanState::kBanned;
  h.until = now + t;
  ++h.generation;
  h.reason = std::move(reason);
  events.push_back(ban_event(EventType::kProbeFailed, s, i, t));
}

void BanManager::unban_locked(Service& s, size_t i, absl::Time now, std::vector<Event>& events) {
  BanRecord& b = s.records[i];
  b.state = BanState::kHealthy;
  b.history().unbanned_at = now;
  s.set->endpoints[i]->clear_window();
  events.push_back(ban_event(EventType::kUnban, s, i, absl::ZeroDuration()));
}

void BanManager::drain_suspects() {
  Endpoint* list = suspects_.take_all();
  if (list == nullptr) return;
  // Let report() queue them again from now on: a trip during this pass is not lost (it is
  // handled twice at worst, which is harmless).
  std::vector<Endpoint*> handled;
  for (Endpoint* e = list; e != nullptr; e = SuspectQueue::next(e)) handled.push_back(e);
  for (Endpoint* e : handled) e->clear_suspect();
  std::vector<std::string> changed;
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.now();
    // Each service's ban budget, counted once per pass: in an incident hundreds of
    // suspects may queue per tick.
    absl::flat_hash_map<Service*, Room> rooms;
    std::vector<Service*> banned_in;
    for (Endpoint* e : handled) {
      size_t i;
      Service* s = find_locked(*e, i);
      if (s == nullptr) continue;  // left the config meanwhile
      if (!s->policy.enabled || !s->policy.by_request) continue;
      const uint32_t rule = s->policy.window_rule();
      const uint64_t window = e->window();
      if (!FailureWindow::tripped(window, rule)) continue;  // successes came in since
      auto [room, fresh] = rooms.try_emplace(s);
      if (fresh) room->second = room_locked(*s);
      if (try_ban_locked(*s, i, window_reason(window, rule), now, room->second, events) &&
          std::find(banned_in.begin(), banned_in.end(), s) == banned_in.end()) {
        banned_in.push_back(s);
      }
    }
    for (Service* s : banned_in) {
      end_episode_locked(*s);
      changed.push_back(s->name);
    }
  }
  for (Endpoint* e : handled) e->unref();  // the queue's reference
  publish(changed, events);
}

bool BanManager::evaluate_business_locked(Service& s, absl::Time now, std::vector<Event>& events) {
  std::vector<IntervalSample> samples(s.records.size());
  for (size_t i = 0; i < s.records.size(); ++i) {
    const Endpoint& e = *s.set->endpoints[i];
    BanRecord& b = s.records[i];
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
  Room room = room_locked(s);
  bool banned = false;
  for (Outlier& o : find_outliers(samples, s.policy)) {
    banned |= try_ban_locked(s, o.index, std::move(o.reason), now, room, events);
  }
  return banned;
}

void BanManager::housekeeping() {
  std::vector<Probe> probes;
  std::vector<std::string> changed;
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.now();
    services_.for_each([&](Service& s) {
      if (!s.policy.enabled) return;
      end_episode_locked(s);  // the episode may be over
      for (size_t i = 0; i < s.records.size(); ++i) {
        BanRecord& b = s.records[i];
        if (b.state == BanState::kHealthy) continue;
        BanHistory& h = b.history();
        if (!h.long_ban_reported && now - h.streak_started >= s.policy.long_ban) {
          h.long_ban_reported = true;
          events.push_back(ban_event(EventType::kLongBan, s, i, now - h.streak_started));
        }
        if (b.state == BanState::kBanned && h.until <= now) {
          b.state = BanState::kProbing;  // still out of rotation until the probe answers
          h.probe_started = now;
          probes.push_back(Probe{EndpointRef::share(s.set->endpoints[i].get()), h.generation,
                                 s.policy.probe_timeout});
        } else if (b.state == BanState::kProbing &&
                   now - h.probe_started > s.policy.probe_timeout + kProbeGrace) {
          reban_locked(s, i, "probe did not answer", now, events);
        }
      }
      if (s.policy.by_business && now - s.last_evaluation >= s.policy.interval) {
        s.last_evaluation = now;
        if (evaluate_business_locked(s, now, events)) {
          end_episode_locked(s);
          changed.push_back(s.name);
        }
      }
    });
  }
  // Republish first; then probe, outside the lock (a prober may answer synchronously, and
  // an answer's events are delivered as it arrives); then this pass's events.
  if (!changed.empty() && listener_ != nullptr) listener_->on_bans_changed(changed, events);
  probe(probes);
  if (on_event_) {
    for (const Event& e : events) on_event_(e);
  }
}

void BanManager::probe(std::vector<Probe>& probes) {
  for (Probe& p : probes) {
    const EndpointIdentity& id = p.endpoint->identity();
    const std::string host = id.address.substr(id.host_begin, id.host_size);
    prober_->probe(host, id.port, p.timeout,
                   [gate = gate_, endpoint = std::move(p.endpoint),
                    generation = p.generation](bool reachable) {
                     std::vector<Event> events;
                     {
                       absl::MutexLock lock(&gate->mu);
                       BanManager* m = gate->manager;
                       if (m == nullptr) return;
                       std::vector<std::string> changed;
                       m->on_probe_result(*endpoint, generation, reachable, changed, events);
                       if (!changed.empty() && m->listener_ != nullptr) {
                         m->listener_->on_bans_changed(changed, events);
                       }
                     }
                     // Delivered with no lock of ours held.
                     if (gate->on_event) {
                       for (const Event& e : events) gate->on_event(e);
                     }
                   });
  }
}

void BanManager::on_probe_result(const Endpoint& endpoint, uint64_t generation, bool reachable,
                                 std::vector<std::string>& changed, std::vector<Event>& events) {
  absl::MutexLock lock(&mu_);
  size_t i;
  Service* s = find_locked(endpoint, i);
  if (s == nullptr) return;  // left the config meanwhile
  BanRecord& b = s->records[i];
  if (b.state != BanState::kProbing || b.history().generation != generation) return;
  const absl::Time now = clock_.now();
  if (reachable) {
    unban_locked(*s, i, now, events);
    end_episode_locked(*s);
    changed.push_back(s->name);
  } else {
    reban_locked(*s, i, "probe failed", now, events);
  }
}

void BanManager::publish(std::vector<std::string>& changed, std::vector<Event>& events) {
  if (!changed.empty() && listener_ != nullptr) listener_->on_bans_changed(changed, events);
  if (on_event_) {
    for (const Event& e : events) on_event_(e);
  }
}

}  // namespace ufc::internal
