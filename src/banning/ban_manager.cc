// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The ban lifecycle (spec section 6); see ban_manager.h for the picture. Every decision
// runs under the manager's mutex, off the request path; a ban takes effect at once through
// the endpoint's hold, and for good when the listener republishes the service's candidate
// sets without the backend.

#include "src/banning/ban_manager.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/banning/outlier_detector.h"
#include "src/endpoint/failure_window.h"

namespace ufc::internal {
namespace {

// An endpoint's watch handle: which service (high 32 bits) and position (low 32 bits).
uint64_t handle_of(BanServiceId id, size_t position) {
  return (uint64_t{id} << 32) | static_cast<uint32_t>(position);
}

// The record an endpoint takes over from the one it replaces (same address, new tags): the
// ban state and history carry over, the business baselines do not (its counts start at
// zero). A probe in flight answers for the old endpoint, and a probation counted the old
// endpoint's requests, so either becomes an expired ban: the next housekeeping probes the
// new endpoint afresh, or puts it on probation afresh.
BanRecord inherited(const BanRecord& old) {
  BanRecord r = old;
  if (r.has_counts()) r.mutable_counts().has_baseline = false;
  if (r.state == BanState::kProbing || r.state == BanState::kProbation) {
    r.state = BanState::kBanned;
    r.history().until = absl::InfinitePast();
    ++r.history().generation;
  }
  return r;
}

Figures figures_of(const Endpoint& e) {
  const Endpoint::Totals t = e.totals();  // one pass: the detectors read the whole fleet
  return Figures{t.requests, t.client_errors, t.server_errors, t.latency_sum_us};
}

// Counts as of now: the baselines are the figures, and nothing is recent.
void rebase(BanCounts& c, const Endpoint& e) {
  const Endpoint::Totals t = e.totals();
  c.has_baseline = true;
  c.base_requests = t.requests;
  c.base_4xx = t.client_errors;
  c.base_5xx = t.server_errors;
  c.base_latency_us = t.latency_sum_us;
  c.recent_failures = c.recent_requests = 0;
  c.seen_failures = t.requests - t.answered;
  c.seen_requests = t.requests;
}

Figures operator+(Figures a, const Figures& b) {
  a.requests += b.requests;
  a.status_4xx += b.status_4xx;
  a.status_5xx += b.status_5xx;
  a.latency_us += b.latency_us;
  return a;
}

// a - b, each counter at least 0: sums read a moment apart may disagree by a report.
Figures since(const Figures& a, const Figures& b) {
  auto sub = [](uint64_t x, uint64_t y) { return x > y ? x - y : 0; };
  return Figures{sub(a.requests, b.requests), sub(a.status_4xx, b.status_4xx),
                 sub(a.status_5xx, b.status_5xx), sub(a.latency_us, b.latency_us)};
}

double share(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0 : static_cast<double>(part) / static_cast<double>(whole);
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
  TripGate* gate = nullptr;                           // gates_[id]
  absl::Time rates_at = absl::InfinitePast();         // records' recent_* last updated
  const std::atomic<bool>* idle = nullptr;            // the client's (add_service)
  bool settled = false;  // idle, and a pass found nothing to do: housekeeping skips it
  // Settled, and the records' counts given back (BanCounts): wake_counts_locked() takes
  // them again from the endpoints' figures before anything reads them.
  bool counts_dropped = false;
};

// Probe answers arrive on the prober's thread, possibly after the manager is gone: they go
// through the gate, which the destructor closes first.
struct BanManager::ProbeGate {
  absl::Mutex mu;
  BanManager* manager ABSL_GUARDED_BY(mu) = nullptr;
  EventCallback on_event;  // set once, before any probe
};

// A service's ban budget: endpoints holding a slot (banned, probing, on probation) and the
// most the max ratio allows, both among endpoints that take traffic (weight > 0). Drained
// endpoints count for neither: otherwise draining half a service would let every active
// endpoint be banned.
struct BanManager::Room {
  size_t active = 0;  // endpoints with weight > 0
  size_t banned = 0;  // of those, holding a slot
  size_t limit = 0;   // floor(max_ratio x active)
};

// What one locked pass decided, acted on once the manager's mutex is released: services
// to republish, endpoints held until then, events.
struct BanManager::Pass {
  std::vector<std::string> changed;
  std::vector<EndpointRef> release;
  std::vector<Event> events;
  // Outliers of the service being handled that the max ratio left in rotation.
  std::vector<std::pair<size_t, Verdict>> passed_over;
  // Every endpoint's figures of one service summed, once per pass (probations need them).
  const Service* totals_of = nullptr;
  Figures totals;

  const Figures& totals_for(const Service& s) {
    if (totals_of != &s) {
      totals = Figures{};
      for (const EndpointRef& e : s.set->endpoints) totals = totals + figures_of(*e);
      totals_of = &s;
    }
    return totals;
  }

  void change(const std::string& service) {
    if (std::find(changed.begin(), changed.end(), service) == changed.end()) {
      changed.push_back(service);
    }
  }
  // Keeps `e` out of pick until the republish, then lets it go.
  void hold_until_published(Endpoint& e) {
    e.hold();
    release.push_back(EndpointRef::share(&e));
  }
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
  {
    absl::MutexLock lock(&mu_);
    // Reports may not reach a client's endpoints after it is gone, but nothing should
    // point into gates_ once it is freed either.
    services_.for_each([](Service& s) {
      for (const EndpointRef& e : s.set->endpoints) {
        e->set_window_rule(0);
        e->set_trip_gate(nullptr);
        e->end_trial();
        e->clear_hold();
      }
    });
  }
  for (Endpoint* e = suspects_.take_all(); e != nullptr;) {
    Endpoint* next = SuspectQueue::next(e);
    e->unref();
    e = next;
  }
}

BanServiceId BanManager::add_service(std::string name, const std::atomic<bool>* idle) {
  absl::MutexLock lock(&mu_);
  auto service = std::make_unique<Service>();
  service->name = std::move(name);
  service->idle = idle;
  const BanServiceId id = services_.add(std::move(service));
  // Watch handles keep the id in 31 bits (the endpoint's word also holds a flag); ids are
  // reused, so this bounds the services tracked at once, not over time.
  assert(id < (1u << 31));
  while (gates_.size() <= id) gates_.emplace_back();
  gates_[id].reset();
  services_[id].gate = &gates_[id];
  return id;
}

void BanManager::update_service(
    BanServiceId id, const BanPolicy& policy, uint64_t version,
    std::shared_ptr<const EndpointSet> endpoints,
    absl::Span<const std::pair<const Endpoint*, const Endpoint*>> replaced,
    std::vector<Event>& events) {
  Pass pass;
  {
    absl::MutexLock lock(&mu_);
    Service& s = services_[id];
    s.settled = false;  // new endpoints or policy: housekeeping looks again
    absl::flat_hash_map<const Endpoint*, const Endpoint*> replaces(replaced.begin(),
                                                                   replaced.end());
    std::vector<BanRecord> records(endpoints->size());
    absl::flat_hash_set<const Endpoint*> staying;
    for (size_t i = 0; i < endpoints->size(); ++i) {
      const Endpoint& e = *endpoints->endpoints[i];
      staying.insert(&e);
      size_t at;
      if (find_locked(e, at) == &s) {
        records[i] = std::move(s.records[at]);
      } else if (auto it = replaces.find(&e);
                 it != replaces.end() && find_locked(*it->second, at) == &s) {
        records[i] = inherited(s.records[at]);
      }
    }
    // Endpoints that left stop reporting here, and let go of what pick saw of their bans;
    // those that stay (or came) are renumbered.
    bool same_endpoints = s.set->size() == endpoints->size();
    for (const EndpointRef& e : s.set->endpoints) {
      e->set_watch(Endpoint::kNoWatch);
      e->set_window_rule(0);
      if (!staying.contains(e.get())) {
        same_endpoints = false;
        e->set_trip_gate(nullptr);
        e->end_trial();
        e->clear_hold();
      }
    }
    const uint32_t rule = policy.window_rule();
    for (size_t i = 0; i < endpoints->size(); ++i) {
      endpoints->endpoints[i]->set_watch(handle_of(id, i));
      endpoints->endpoints[i]->set_window_rule(rule);
      endpoints->endpoints[i]->set_trip_gate(s.gate);
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
        unban_locked(s, i, "banning disabled", now, pass);
      } else if (b.state == BanState::kBanned) {
        b.history().until = std::min(b.history().until, now + policy.max_time);  // a shorter cap
      } else if (b.state == BanState::kProbation && !same_endpoints) {
        // Its peers changed (their sums would not compare): it is judged afresh.
        start_probation_locked(s, i, now, pass);
        pass.events.pop_back();  // not news
      }
    }
    sync_gate_locked(s);
    // Not in use, every endpoint in rotation and no counts held (a new service, or one
    // that gave them back when it settled): no figures for housekeeping to judge, so it is
    // settled now rather than after a pass over all its endpoints' figures. A fleet of
    // 1,000 new services otherwise costs those passes in the second after the apply, and
    // every update waits behind them for this lock (~15 ms at 200 endpoints each).
    const bool idle = s.idle != nullptr && s.idle->load(std::memory_order_acquire);
    end_episode_locked(s);  // as a pass would: a settled service's next limit is news
    if (idle && std::all_of(s.records.begin(), s.records.end(), [](const BanRecord& b) {
          return b.state == BanState::kHealthy && !b.has_counts();
        })) {
      s.settled = true;
      s.counts_dropped = true;  // taken from the endpoints' figures at its first use
    }
  }
  // The caller publishes the new snapshot, built from out_of_rotation().
  for (EndpointRef& e : pass.release) e->clear_hold();
  for (Event& e : pass.events) events.push_back(std::move(e));
}

void BanManager::remove_service(BanServiceId id) {
  absl::MutexLock lock(&mu_);
  for (const EndpointRef& e : services_[id].set->endpoints) {
    e->set_watch(Endpoint::kNoWatch);
    e->set_window_rule(0);
    e->set_trip_gate(nullptr);
    e->end_trial();
    e->clear_hold();
  }
  services_.remove(id);
}

std::vector<bool> BanManager::out_of_rotation(BanServiceId id) const {
  absl::MutexLock lock(&mu_);
  const Service& s = services_[id];
  std::vector<bool> out(s.records.size());
  for (size_t i = 0; i < s.records.size(); ++i) out[i] = s.records[i].out();
  return out;
}

size_t BanManager::records_with_counts(BanServiceId id) const {
  absl::MutexLock lock(&mu_);
  const Service& s = services_[id];
  return static_cast<size_t>(std::count_if(s.records.begin(), s.records.end(),
                                           [](const BanRecord& b) { return b.has_counts(); }));
}

bool BanManager::settled(BanServiceId id) const {
  absl::MutexLock lock(&mu_);
  return services_[id].settled;
}

BanManager::ServiceBans BanManager::stats(BanServiceId id, bool per_endpoint) const {
  absl::MutexLock lock(&mu_);
  const Service& s = services_[id];
  ServiceBans out;
  out.bans_issued = s.bans;
  const absl::Time now = clock_.now();
  for (size_t i = 0; i < s.records.size(); ++i) {
    const BanRecord& b = s.records[i];
    out.out_now += b.out();
    if (!per_endpoint) continue;
    BanStats& st = out.endpoints.emplace_back();
    st.state = ban_state_name(b.state);
    const BanHistory* h = b.peek();
    st.streak = h != nullptr ? h->streak : 0;
    if (b.state != BanState::kHealthy && h != nullptr) {
      st.reason = h->reason;
      st.last = h->last;
      st.detector = detector_name(h->detector);
      st.severity = h->severity;
      const absl::Duration left =
          b.state == BanState::kBanned ? h->until - now : absl::ZeroDuration();
      st.left_ms = absl::ToInt64Milliseconds(std::max(left, absl::ZeroDuration()));
      if (b.state == BanState::kProbation) {
        const Figures now_figures = figures_of(*s.set->endpoints[i]);
        st.probation_requests = now_figures.requests >= h->trial_base.requests
                                    ? now_figures.requests - h->trial_base.requests
                                    : 0;
        st.probation_of = s.policy.probation_requests;
      }
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
    room.banned += s.records[i].holds_slot();
  }
  room.limit =
      static_cast<size_t>(std::floor(s.policy.max_ratio * static_cast<double>(room.active) + 1e-9));
  return room;
}

void BanManager::end_episode_locked(Service& s) {
  const Room room = room_locked(s);
  if (room.banned < room.limit) s.max_ratio_reported = false;
}

void BanManager::sync_gate_locked(Service& s) {
  TripGate& gate = *s.gate;
  if (!s.policy.enabled || !s.policy.by_request) {
    gate.set_min_failures(255);
    gate.set_allowance(0);
    return;
  }
  const Room room = room_locked(s);
  // Allowance first, then (in the callers) the claims of holds that became bans: the gate
  // is briefly stricter than it needs to be, never looser.
  gate.set_allowance(
      static_cast<uint32_t>(room.limit > room.banned ? room.limit - room.banned : 0));
  if (!s.policy.compare_peers) {
    gate.set_min_failures(1);
    return;
  }
  // The peers' failure share as report() will use it: the median window of the endpoints
  // in rotation, which one dead backend (or a few) cannot move; none when most of them
  // have tripped (the service fails as a whole).
  const uint32_t rule = s.policy.window_rule();
  uint32_t by_failures[57] = {};  // windows by failure count: the median without sorting
  uint32_t n = 0, tripped = 0;
  for (size_t i = 0; i < s.records.size(); ++i) {
    if (s.set->weights[i] <= 0 || s.records[i].state != BanState::kHealthy) continue;
    const uint64_t w = s.set->endpoints[i]->window();
    tripped += FailureWindow::tripped(w, rule);
    ++by_failures[std::min<uint32_t>(FailureWindow::failures(w), 56)];
    ++n;
  }
  if (n <= 1) {
    gate.set_min_failures(1);  // alone: judged by the rule
    return;
  }
  if (2 * tripped > n) {
    gate.set_min_failures(255);
    return;
  }
  uint32_t median = 0;
  for (uint32_t f = 0, seen = 0; f <= 56; ++f) {
    seen += by_failures[f];
    if (seen > n / 2) {
      median = f;
      break;
    }
  }
  gate.set_min_failures(
      min_trip_failures(static_cast<double>(median) / WindowRule::window(rule), rule));
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

void BanManager::wake_counts_locked(Service& s) {
  if (!s.counts_dropped) return;
  s.counts_dropped = false;
  for (size_t i = 0; i < s.records.size(); ++i) {
    rebase(s.records[i].mutable_counts(), *s.set->endpoints[i]);
  }
}

void BanManager::update_rates_locked(Service& s, absl::Time now) {
  wake_counts_locked(s);
  // Only when a window trips (not every housekeeping: summing every endpoint's shards is
  // what a 100,000-endpoint service cannot afford ten times a second), at most every 50 ms.
  // After a long quiet spell the first update counts everything since at full weight: a
  // long-run mean, which is what the peers' rate is then.
  if (now - s.rates_at < absl::Milliseconds(50)) return;
  const double decay =
      s.rates_at == absl::InfinitePast() ? 0 : std::exp(-absl::ToDoubleSeconds(now - s.rates_at));
  s.rates_at = now;
  for (size_t i = 0; i < s.records.size(); ++i) {
    BanRecord& b = s.records[i];
    const Endpoint& e = *s.set->endpoints[i];
    uint64_t failures = 0;
    for (int c = static_cast<int>(OutcomeClass::kConnectRefused); c < kOutcomeClassCount; ++c) {
      failures += e.count(static_cast<OutcomeClass>(c));
    }
    const uint64_t requests = e.requests();
    // A record that moved to a new endpoint (retagged) starts its counts again.
    BanCounts& c = b.mutable_counts();
    if (failures < c.seen_failures || requests < c.seen_requests)
      c.seen_failures = c.seen_requests = 0;
    c.recent_failures = c.recent_failures * decay + static_cast<double>(failures - c.seen_failures);
    c.recent_requests = c.recent_requests * decay + static_cast<double>(requests - c.seen_requests);
    c.seen_failures = failures;
    c.seen_requests = requests;
  }
}

std::optional<BanManager::Verdict> BanManager::judge_trip_locked(const Service& s, size_t i,
                                                                 uint64_t window,
                                                                 const ServiceWindows& windows,
                                                                 std::string* why) const {
  const uint32_t rule = s.policy.window_rule();
  WindowPeers peers;  // none without compare_peers: judged alone, by the rule
  if (s.policy.compare_peers) {
    const BanRecord& b = s.records[i];
    const bool member = s.set->weights[i] > 0 && b.state == BanState::kHealthy;
    peers =
        windows.peers_of(window, b.counts().recent_failures, b.counts().recent_requests, member);
  }
  std::optional<Outlier> o = judge_trip(window, rule, peers, why);
  if (!o.has_value()) return std::nullopt;
  return Verdict{std::move(o->reason), o->severity, Detector::kByRequest};
}

bool BanManager::try_ban_locked(Service& s, size_t i, Verdict verdict, absl::Time now, Room& room,
                                Pass& pass) {
  BanRecord& b = s.records[i];
  if (b.state != BanState::kHealthy) return false;
  s.settled = false;  // whatever happens, housekeeping looks at the service again
  if (room.banned + 1 > room.limit) {
    // At the limit: the slot of the mildest holder, if this one is clearly worse.
    size_t mildest = s.records.size();
    double least = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < s.records.size(); ++j) {
      if (s.set->weights[j] <= 0 || !s.records[j].holds_slot()) continue;
      const double severity = s.records[j].peek()->severity;
      if (severity < least) {
        least = severity;
        mildest = j;
      }
    }
    if (mildest == s.records.size() || verdict.severity < least + kReplaceMargin) {
      pass.passed_over.emplace_back(i, std::move(verdict));
      return false;
    }
    unban_locked(
        s, mildest,
        absl::StrFormat("replaced under the max ratio by %s, worse (severity %.2f vs %.2f)",
                        s.set->endpoints[i]->address(), verdict.severity, least),
        now, pass);
    --room.banned;
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
  h.reason = std::move(verdict.reason);
  h.last.clear();
  h.detector = verdict.detector;
  h.severity = verdict.severity;
  ++h.generation;
  ++s.bans;
  ++room.banned;
  Endpoint& e = *s.set->endpoints[i];
  e.clear_window();
  e.end_trial();
  pass.hold_until_published(e);
  pass.change(s.name);
  pass.events.push_back(ban_event(EventType::kBan, s, i, t));
  return true;
}

void BanManager::reban_locked(Service& s, size_t i, std::string last, absl::Time now, Pass& pass) {
  BanRecord& b = s.records[i];
  const BanState was = b.state;
  BanHistory& h = b.history();
  ++h.streak;
  const absl::Duration t = s.policy.ban_time(h.streak);
  b.state = BanState::kBanned;
  h.until = now + t;
  ++h.generation;
  h.last = std::move(last);
  Endpoint& e = *s.set->endpoints[i];
  e.clear_window();
  if (was == BanState::kProbation) {
    // From probation, it was in rotation: out again.
    e.end_trial();
    pass.hold_until_published(e);
    pass.change(s.name);
  }
  Event event = ban_event(EventType::kProbeFailed, s, i, t);
  event.detail = absl::StrCat(h.last, "; banned for: ", h.reason);
  pass.events.push_back(std::move(event));
}

void BanManager::unban_locked(Service& s, size_t i, std::string why, absl::Time now, Pass& pass) {
  BanRecord& b = s.records[i];
  b.state = BanState::kHealthy;
  BanHistory& h = b.history();
  h.unbanned_at = now;
  h.last = std::move(why);
  Endpoint& e = *s.set->endpoints[i];
  e.clear_window();
  e.end_trial();
  pass.change(s.name);
  Event event = ban_event(EventType::kUnban, s, i, absl::ZeroDuration());
  event.detail = h.last;
  pass.events.push_back(std::move(event));
}

void BanManager::start_probation_locked(Service& s, size_t i, absl::Time now, Pass& pass) {
  BanRecord& b = s.records[i];
  BanHistory& h = b.history();
  b.state = BanState::kProbation;
  h.probation_started = now;
  Endpoint& e = *s.set->endpoints[i];
  h.trial_base = figures_of(e);
  h.peers_base = since(pass.totals_for(s), h.trial_base);
  e.clear_window();
  e.start_trial(s.policy.probation_share, s.policy.probation_requests);
  pass.change(s.name);
  Event event = ban_event(EventType::kProbation, s, i, absl::ZeroDuration());
  event.detail = absl::StrFormat(
      "ban expired: on probation, %.0f%% of its picks for %u requests, judged against its "
      "peers; banned for: %s",
      100 * s.policy.probation_share, s.policy.probation_requests, h.reason);
  pass.events.push_back(std::move(event));
}

void BanManager::judge_probation_locked(Service& s, size_t i, absl::Time now, Pass& pass) {
  BanHistory& h = s.records[i].history();
  const Figures own_now = figures_of(*s.set->endpoints[i]);
  const Figures own = since(own_now, h.trial_base);
  const Figures peers = since(since(pass.totals_for(s), own_now), h.peers_base);
  const BanPolicy& p = s.policy;
  const bool timed_out = now - h.probation_started >= p.probation_max_time;
  if (own.requests < p.probation_requests && !timed_out) return;
  if (own.requests < std::min(p.probation_requests, p.min_requests)) {
    unban_locked(s, i,
                 absl::StrFormat("probation ended after %s with %u of %u requests: too few to "
                                 "judge, back in rotation",
                                 absl::FormatDuration(now - h.probation_started), own.requests,
                                 p.probation_requests),
                 now, pass);
    return;
  }
  const PeerMeans means{
      share(peers.status_4xx, peers.requests), share(peers.status_5xx, peers.requests),
      peers.requests == 0
          ? 0
          : static_cast<double>(peers.latency_us) / static_cast<double>(peers.requests)};
  const IntervalSample sample{own.requests, own.status_4xx, own.status_5xx,
                              static_cast<double>(own.latency_us)};
  if (peers.requests == 0) {
    // Nobody else took traffic meanwhile (a lone endpoint, or all others out): there is
    // nothing to tell it from, and banning it would only leave the service on its own.
    unban_locked(s, i,
                 absl::StrCat("passed probation: ", own.requests,
                              " requests, no peer traffic to compare with"),
                 now, pass);
    return;
  }
  if (std::optional<Outlier> o = judge_probation(sample, means, p)) {
    h.severity = o->severity;
    reban_locked(s, i,
                 absl::StrCat("probation failed: ", o->reason, " over ", own.requests, " requests"),
                 now, pass);
    return;
  }
  const double n = static_cast<double>(own.requests);
  unban_locked(
      s, i,
      absl::StrFormat("passed probation: %u requests, 4xx %.1f%% 5xx %.1f%% latency %.1f ms; "
                      "peers 4xx %.1f%% 5xx %.1f%% latency %.1f ms",
                      own.requests, 100 * own.status_4xx / n, 100 * own.status_5xx / n,
                      own.latency_us / n / 1000, 100 * means.share_4xx, 100 * means.share_5xx,
                      means.latency_us / 1000),
      now, pass);
}

void BanManager::report_passed_over_locked(Service& s, Pass& pass) {
  if (pass.passed_over.empty()) return;
  if (!s.max_ratio_reported) {
    s.max_ratio_reported = true;
    const Room room = room_locked(s);
    const auto& [first, verdict] = pass.passed_over.front();
    Event e = ban_event(EventType::kMaxBanRatio, s, first, absl::ZeroDuration());
    std::string holders;
    size_t listed = 0, held = 0;
    for (size_t j = 0; j < s.records.size(); ++j) {
      if (s.set->weights[j] <= 0 || !s.records[j].holds_slot()) continue;
      ++held;
      if (listed++ < 8) {
        absl::StrAppendFormat(&holders, "%s%s (%.2f)", holders.empty() ? "" : ", ",
                              s.set->endpoints[j]->address(), s.records[j].peek()->severity);
      }
    }
    if (held > listed) absl::StrAppend(&holders, " and ", held - listed, " more");
    e.detail = absl::StrFormat(
        "%s (severity %.2f); not banned: %u of %u active endpoints are banned already, the most "
        "max ratio %g allows, none milder by %.2f: %s",
        verdict.reason, verdict.severity, room.banned, room.active, s.policy.max_ratio,
        kReplaceMargin, holders.empty() ? "none" : holders);
    for (size_t k = 1; k < pass.passed_over.size(); ++k) {
      const auto& [other, v] = pass.passed_over[k];
      absl::StrAppendFormat(&e.detail, "%s%s (%s, severity %.2f)",
                            k == 1 ? "; also passed over: " : ", ",
                            s.set->endpoints[other]->address(), v.reason, v.severity);
    }
    pass.events.push_back(std::move(e));
  }
  pass.passed_over.clear();
}

void BanManager::drain_suspects() {
  Endpoint* list = suspects_.take_all();
  if (list == nullptr) return;
  // Let report() queue them again from now on: a trip during this pass is not lost (it is
  // handled twice at worst, which is harmless).
  std::vector<Endpoint*> handled;
  for (Endpoint* e = list; e != nullptr; e = SuspectQueue::next(e)) handled.push_back(e);
  std::reverse(handled.begin(), handled.end());  // the order they tripped in: ties go to the first
  for (Endpoint* e : handled) e->clear_suspect();
  Pass pass;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.now();
    // Suspects by service, in the order met: each service is judged as a whole, so that in
    // an incident with hundreds of suspects a tick its peers are summed once per suspect
    // at worst, and its bans go to the most severe first.
    std::vector<std::pair<Service*, std::vector<size_t>>> by_service;
    for (Endpoint* e : handled) {
      size_t i;
      Service* s = find_locked(*e, i);
      if (s == nullptr) {
        e->clear_hold();  // left the config meanwhile
        continue;
      }
      auto it = std::find_if(by_service.begin(), by_service.end(),
                             [s](const auto& entry) { return entry.first == s; });
      if (it == by_service.end()) it = by_service.insert(by_service.end(), {s, {}});
      it->second.push_back(i);
    }
    for (auto& [s, suspects] : by_service) {
      if (s->policy.compare_peers) update_rates_locked(*s, now);
      const uint32_t rule = s->policy.window_rule();
      // Every in-rotation window read once: a suspect is judged on the same reading its
      // peers were summed with.
      std::vector<uint64_t> windows(s->records.size());
      ServiceWindows service_windows(rule);
      for (size_t j = 0; j < s->records.size(); ++j) {
        windows[j] = s->set->endpoints[j]->window();
        const BanRecord& b = s->records[j];
        if (s->set->weights[j] > 0 && b.state == BanState::kHealthy) {
          service_windows.add(windows[j], b.counts().recent_failures, b.counts().recent_requests);
        }
      }
      std::vector<std::pair<size_t, Verdict>> outliers;
      for (size_t i : suspects) {
        Endpoint& e = *s->set->endpoints[i];
        const BanRecord& b = s->records[i];
        const uint64_t window = windows[i];
        std::optional<Verdict> v;
        // Not banned: banning or this detection turned off, out already, or successes came
        // in since (the window no longer trips).
        if (s->policy.enabled && s->policy.by_request && !b.out() &&
            FailureWindow::tripped(window, rule)) {
          v = judge_trip_locked(*s, i, window, service_windows, nullptr);
        }
        if (v.has_value()) {
          outliers.emplace_back(i, *std::move(v));
        } else {
          e.clear_hold();  // the service fails alike, or it recovered: pick may take it
        }
      }
      // Worst first, ties in the order they tripped (the order of `outliers`).
      std::vector<size_t> order(outliers.size());
      for (size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const double sa = outliers[a].second.severity, sb = outliers[b].second.severity;
        return sa != sb ? sa > sb : a < b;
      });
      Room room = room_locked(*s);
      for (size_t k : order) {
        auto& [i, verdict] = outliers[k];
        Endpoint& e = *s->set->endpoints[i];
        if (s->records[i].state == BanState::kProbation) {
          // Back on probation and failing like before it was banned: it keeps its slot.
          s->records[i].history().severity = verdict.severity;
          s->records[i].history().detector = Detector::kByRequest;
          reban_locked(*s, i, absl::StrCat("probation failed: ", verdict.reason), now, pass);
        } else if (!try_ban_locked(*s, i, std::move(verdict), now, room, pass)) {
          e.clear_hold();  // passed over: the max ratio keeps it in rotation
        }
      }
      report_passed_over_locked(*s, pass);
      end_episode_locked(*s);
      sync_gate_locked(*s);  // before the holds that became bans give their claims back
    }
  }
  for (Endpoint* e : handled) e->unref();  // the queue's reference
  publish(pass);
}

void BanManager::evaluate_business_locked(Service& s, absl::Time now, Pass& pass) {
  wake_counts_locked(s);
  std::vector<IntervalSample> samples(s.records.size());
  for (size_t i = 0; i < s.records.size(); ++i) {
    const Endpoint& e = *s.set->endpoints[i];
    BanRecord& b = s.records[i];
    const Figures f = figures_of(e);
    const uint64_t requests = f.requests;
    const uint64_t c4 = f.status_4xx;
    const uint64_t c5 = f.status_5xx;
    const uint64_t latency = f.latency_us;
    BanCounts& c = b.mutable_counts();
    if (c.has_baseline && b.state == BanState::kHealthy) {
      samples[i] = IntervalSample{requests - c.base_requests, c4 - c.base_4xx, c5 - c.base_5xx,
                                  static_cast<double>(latency - c.base_latency_us)};
    }
    c.has_baseline = true;
    c.base_requests = requests;
    c.base_4xx = c4;
    c.base_5xx = c5;
    c.base_latency_us = latency;
  }
  Room room = room_locked(s);
  // Worst first: under the max ratio the slots go to the most severe.
  for (Outlier& o : find_outliers(samples, s.policy)) {
    try_ban_locked(s, o.index, Verdict{std::move(o.reason), o.severity, Detector::kByBusiness}, now,
                   room, pass);
  }
}

void BanManager::housekeeping() {
  std::vector<Probe> probes;
  Pass pass;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.now();
    services_.for_each([&](Service& s) {
      if (!s.policy.enabled) return;
      // An idle service's figures and windows stand still: once settled, nothing changes
      // until a pick makes it active (or an update comes).
      const bool idle = s.idle != nullptr && s.idle->load(std::memory_order_acquire);
      if (!idle) {
        s.settled = false;
        wake_counts_locked(s);  // in use again: counts from now on
      } else if (s.settled) {
        return;
      }
      bool evaluated = false;
      end_episode_locked(s);  // the episode may be over
      for (size_t i = 0; i < s.records.size(); ++i) {
        BanRecord& b = s.records[i];
        if (b.state == BanState::kHealthy) continue;
        BanHistory& h = b.history();
        if (!h.long_ban_reported && now - h.streak_started >= s.policy.long_ban) {
          h.long_ban_reported = true;
          pass.events.push_back(ban_event(EventType::kLongBan, s, i, now - h.streak_started));
        }
        if (b.state == BanState::kBanned && h.until <= now) {
          if (h.detector == Detector::kByBusiness && s.policy.probation) {
            // A 404 or slow backend passes a TCP probe: it is judged on its requests.
            start_probation_locked(s, i, now, pass);
          } else {
            b.state = BanState::kProbing;  // still out of rotation until the probe answers
            h.probe_started = now;
            probes.push_back(Probe{EndpointRef::share(s.set->endpoints[i].get()), h.generation,
                                   s.policy.probe_timeout});
          }
        } else if (b.state == BanState::kProbing &&
                   now - h.probe_started > s.policy.probe_timeout + kProbeGrace) {
          reban_locked(s, i, "probe did not answer", now, pass);
        } else if (b.state == BanState::kProbation) {
          judge_probation_locked(s, i, now, pass);
        }
      }
      if (s.policy.by_business && now - s.last_evaluation >= s.policy.interval) {
        s.last_evaluation = now;
        evaluate_business_locked(s, now, pass);
        evaluated = true;
      }
      report_passed_over_locked(s, pass);
      end_episode_locked(s);
      sync_gate_locked(s);
      // Settled once idle with every endpoint healthy and the figures of its last active
      // interval judged (the baselines are then the figures, which no report moves).
      if (idle && (evaluated || !s.policy.by_business)) {
        s.settled = std::all_of(s.records.begin(), s.records.end(),
                                [](const BanRecord& b) { return b.state == BanState::kHealthy; });
        // Memory follows use: the counts go until the service is in use again (a known,
        // idle backend keeps its 24-byte record, and its history if it had bans).
        if (s.settled && !s.counts_dropped) {
          for (BanRecord& b : s.records) b.drop_counts();
          s.counts_dropped = true;
        }
      }
    });
  }
  // Republish first; then probe, outside the lock (a prober may answer synchronously, and
  // an answer's events are delivered as it arrives); then this pass's events.
  if (!pass.changed.empty() && listener_ != nullptr) {
    listener_->on_bans_changed(pass.changed, pass.events);
  }
  for (EndpointRef& e : pass.release) e->clear_hold();
  probe(probes);
  if (on_event_) {
    for (const Event& e : pass.events) on_event_(e);
  }
}

void BanManager::probe(std::vector<Probe>& probes) {
  for (Probe& p : probes) {
    const EndpointIdentity& id = p.endpoint->identity();
    const std::string host = id.address.substr(id.host_begin, id.host_size);
    prober_->probe(host, id.port, p.timeout,
                   [gate = gate_, endpoint = std::move(p.endpoint),
                    generation = p.generation](bool reachable) {
                     Pass pass;
                     {
                       absl::MutexLock lock(&gate->mu);
                       BanManager* m = gate->manager;
                       if (m == nullptr) return;
                       m->on_probe_result(*endpoint, generation, reachable, pass);
                       if (!pass.changed.empty() && m->listener_ != nullptr) {
                         m->listener_->on_bans_changed(pass.changed, pass.events);
                       }
                       for (EndpointRef& e : pass.release) e->clear_hold();
                     }
                     // Delivered with no lock of ours held.
                     if (gate->on_event) {
                       for (const Event& e : pass.events) gate->on_event(e);
                     }
                   });
  }
}

void BanManager::on_probe_result(const Endpoint& endpoint, uint64_t generation, bool reachable,
                                 Pass& pass) {
  absl::MutexLock lock(&mu_);
  size_t i;
  Service* s = find_locked(endpoint, i);
  if (s == nullptr) return;  // left the config meanwhile
  BanRecord& b = s->records[i];
  if (b.state != BanState::kProbing || b.history().generation != generation) return;
  const absl::Time now = clock_.now();
  if (reachable) {
    unban_locked(*s, i, "probe answered: the port accepts connections", now, pass);
    end_episode_locked(*s);
  } else {
    reban_locked(*s, i, "probe failed", now, pass);
  }
  sync_gate_locked(*s);
}

void BanManager::publish(Pass& pass) {
  if (!pass.changed.empty() && listener_ != nullptr) {
    listener_->on_bans_changed(pass.changed, pass.events);
  }
  for (EndpointRef& e : pass.release) e->clear_hold();
  if (on_event_) {
    for (const Event& e : pass.events) on_event_(e);
  }
}

}  // namespace ufc::internal
