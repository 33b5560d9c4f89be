// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/dns/dns_manager.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ufc::internal {
namespace {

// Addresses an event lists of each side (added, removed); the rest are counted.
constexpr size_t kListedAddresses = 8;

std::string address_of(const DnsEndpoint& e) {
  return e.ip.find(':') != std::string::npos ? absl::StrCat("[", e.ip, "]:", e.port)
                                             : absl::StrCat(e.ip, ":", e.port);
}

bool less(const DnsEndpoint& a, const DnsEndpoint& b) {
  return a.ip != b.ip ? a.ip < b.ip : a.port < b.port;
}

// `a` minus `b`, both sorted by less() and without repeated (ip, port).
std::vector<const DnsEndpoint*> minus(const std::vector<DnsEndpoint>& a,
                                      const std::vector<DnsEndpoint>& b) {
  std::vector<const DnsEndpoint*> out;
  size_t j = 0;
  for (const DnsEndpoint& e : a) {
    while (j < b.size() && less(b[j], e)) ++j;
    if (j < b.size() && !less(e, b[j])) continue;  // same ip and port
    out.push_back(&e);
  }
  return out;
}

void append_list(std::string& out, char sign, const std::vector<const DnsEndpoint*>& list) {
  for (size_t i = 0; i < list.size() && i < kListedAddresses; ++i) {
    absl::StrAppend(&out, " ", std::string(1, sign), address_of(*list[i]));
  }
  if (list.size() > kListedAddresses) {
    absl::StrAppend(&out, " (", std::string(1, sign), list.size() - kListedAddresses, " more)");
  }
}

std::string_view type_name(DnsRecordType t) { return t == DnsRecordType::kSrv ? "srv" : "address"; }

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

absl::StatusOr<std::vector<DnsEndpoint>> endpoints_of(const DnsName& name,
                                                      const std::vector<DnsRecord>& records) {
  const bool srv = name.query.type == DnsRecordType::kSrv;
  std::vector<DnsEndpoint> out;
  std::vector<uint16_t> priority;  // parallel to out, for SRV
  for (const DnsRecord& r : records) {
    if (srv && r.port == 0) continue;  // not a reachable endpoint
    // The canonical text of the address (a resolver of the user's may write
    // "2001:DB8:0::1"): what static endpoints and the carried-over state are keyed by.
    char buf[INET6_ADDRSTRLEN];
    in_addr a4;
    in6_addr a6;
    if (inet_pton(AF_INET, r.ip.c_str(), &a4) == 1) {
      inet_ntop(AF_INET, &a4, buf, sizeof(buf));
    } else if (inet_pton(AF_INET6, r.ip.c_str(), &a6) == 1) {
      inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
    } else {
      continue;
    }
    out.push_back(srv ? DnsEndpoint{buf, r.port, srv_endpoint_weight(r.weight)}
                      : DnsEndpoint{buf, name.port, name.weight});
    priority.push_back(r.priority);
  }
  if (srv && !out.empty()) {  // the lowest priority among the usable records only
    const uint16_t lowest = *std::min_element(priority.begin(), priority.end());
    size_t kept = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (priority[i] != lowest) continue;
      if (kept != i) out[kept] = std::move(out[i]);  // (a self-move would empty the ip)
      ++kept;
    }
    out.resize(kept);
  }
  std::sort(out.begin(), out.end(), [](const DnsEndpoint& a, const DnsEndpoint& b) {
    return less(a, b) || (!less(b, a) && a.weight > b.weight);  // the largest weight first
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const DnsEndpoint& a, const DnsEndpoint& b) {
                          return a.ip == b.ip && a.port == b.port;
                        }),
            out.end());
  if (out.empty()) {
    return absl::NotFoundError(absl::StrCat("\"", name.query.name, "\": the answer has no usable ",
                                            srv ? "record (an IP address and a port)" : "address"));
  }
  if (out.size() > kMaxDnsEndpointsPerName) {
    return absl::ResourceExhaustedError(
        absl::StrCat("\"", name.query.name, "\": the answer gives ", out.size(),
                     " endpoints, at most ", kMaxDnsEndpointsPerName, " are taken from one name"));
  }
  return out;
}

// Answers reach the manager through the gate, which stop() closes first: a resolver
// shared with others (or slow to die) may answer after the manager is gone.
struct DnsManager::Gate {
  absl::Mutex mu;
  DnsManager* manager ABSL_GUARDED_BY(mu) = nullptr;
  EventCallback on_event;  // set once, before any lookup; called with the gate released
};

struct DnsManager::Name {
  DnsName name;
  std::vector<DnsEndpoint> good;  // the last good answer's endpoints
  bool resolved = false;          // `good` is an answer (maybe held back from applying)
  std::vector<DnsEndpoint> held;  // an answer removing too many, awaiting the next one
  bool holding = false;
  // The question changed (type or family) since `good` was answered: the next good answer
  // replaces it whatever it removes (they are not comparable).
  bool new_question = false;
  uint64_t token = 0;  // of the lookup in flight (0: none)
  absl::Time started;  // of the lookup in flight
  absl::Time next;     // when the next lookup is due
  DnsNameStats stats;  // counts; the rest is filled in by stats()
  absl::Status last_error;
};

struct DnsManager::Service {
  std::string name;
  uint64_t version = 0;
  DestinationPolicy policy;  // names are in `names`
  std::vector<Name> names;
};

DnsManager::DnsManager(Options options)
    : options_(std::move(options)), gate_(std::make_shared<Gate>()) {
  random_ =
      options_.seed != 0 ? options_.seed : static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  resolver_ = options_.resolver;
  gate_->on_event = options_.on_event;
  absl::MutexLock lock(&gate_->mu);
  gate_->manager = this;
}

void DnsManager::stop() {
  Executor::TaskId task = 0;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    std::swap(task, task_);
  }
  if (task != 0) options_.executor->cancel(task);  // waits for a tick running
  absl::MutexLock lock(&gate_->mu);                // waits for an answer being handled
  gate_->manager = nullptr;
}

DnsManager::~DnsManager() {
  stop();
  // A resolver made here goes now: its destructor answers what is pending with CANCELLED,
  // which the closed gate drops.
  std::shared_ptr<Resolver> resolver;
  {
    absl::MutexLock lock(&resolver_mu_);
    resolver = std::move(resolver_);
  }
  resolver.reset();
}

std::shared_ptr<Resolver> DnsManager::resolver() {
  absl::MutexLock lock(&resolver_mu_);
  if (resolver_ != nullptr) return resolver_;
  const absl::Time now = options_.clock->now();
  if (!resolver_error_.ok() && now - resolver_failed_at_ < kResolverRetry) return nullptr;
  if (!options_.make_resolver) {
    resolver_error_ = absl::FailedPreconditionError("no resolver configured");
  } else if (absl::StatusOr<std::shared_ptr<Resolver>> r = options_.make_resolver(); r.ok()) {
    resolver_ = *std::move(r);
    resolver_error_ = absl::OkStatus();
  } else {
    resolver_error_ = r.status();  // tried again after kResolverRetry
  }
  resolver_failed_at_ = now;
  return resolver_;
}

DnsServiceId DnsManager::add_service(std::string name) {
  absl::MutexLock lock(&mu_);
  const DnsServiceId id = next_id_++;
  auto s = std::make_unique<Service>();
  s->name = std::move(name);
  services_.emplace(id, std::move(s));
  // The schedule runs only in clients that have DNS destinations. Under mu_: the first
  // run waits for it in tick().
  if (task_ == 0 && !stopped_) {
    task_ = options_.executor->run_every(options_.tick, [this] { tick(); });
  }
  return id;
}

void DnsManager::update_service(DnsServiceId id, const DestinationPolicy& policy,
                                uint64_t version) {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(id);
  if (it == services_.end()) return;
  Service& s = *it->second;
  const absl::Time now = options_.clock->now();
  std::vector<Name> names;
  names.reserve(policy.names.size());
  for (const DnsName& n : policy.names) {
    const std::string key = n.key();
    auto old = std::find_if(s.names.begin(), s.names.end(),
                            [&](const Name& o) { return o.name.key() == key; });
    if (old == s.names.end()) {
      Name fresh;
      fresh.name = n;
      fresh.next = now;
      fresh.stats.name = n.query.name;
      fresh.stats.type = type_name(n.query.type);
      names.push_back(std::move(fresh));
      continue;
    }
    Name kept = std::move(*old);
    const bool same_query = kept.name.query.name == n.query.name &&
                            kept.name.query.type == n.query.type &&
                            kept.name.query.family == n.query.family;
    // The last good endpoints stay until the next answer: an address name re-ported and
    // re-weighed as the new version says (an SRV name's records give both).
    if (n.query.type == DnsRecordType::kAddress && kept.name.query.type == n.query.type) {
      for (std::vector<DnsEndpoint>* list : {&kept.good, &kept.held}) {
        for (DnsEndpoint& e : *list) {
          e.port = n.port;
          e.weight = n.weight;
        }
        std::sort(list->begin(), list->end(), less);
      }
    }
    if (!same_query) {
      kept.holding = false;  // an answer to another question
      kept.held.clear();
      kept.new_question = kept.resolved;
      kept.token = 0;  // its answer, if one is in flight, is dropped
      kept.next = now;
    }
    kept.name = n;
    kept.stats.name = n.query.name;
    kept.stats.type = type_name(n.query.type);
    kept.next = std::min(kept.next, now + policy.refresh_interval);
    names.push_back(std::move(kept));
  }
  s.names = std::move(names);
  s.policy = policy;
  s.policy.names.clear();
  s.version = version;
}

void DnsManager::remove_service(DnsServiceId id) {
  absl::MutexLock lock(&mu_);
  services_.erase(id);  // answers in flight find no service and are dropped
}

std::vector<std::vector<DnsEndpoint>> DnsManager::endpoints(DnsServiceId id) const {
  std::vector<std::vector<DnsEndpoint>> out;
  absl::MutexLock lock(&mu_);
  auto it = services_.find(id);
  if (it == services_.end()) return out;
  for (const Name& n : it->second->names) out.push_back(n.good);
  return out;
}

std::string DnsManager::unresolved_reason(DnsServiceId id) const {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(id);
  if (it == services_.end()) return "";
  std::string out;
  for (const Name& n : it->second->names) {
    if (!n.good.empty()) return "";
    absl::StrAppend(&out, out.empty() ? "" : "; ", n.name.query.name, ": ",
                    n.last_error.ok() ? "not answered yet" : n.last_error.message());
  }
  return out;
}

std::vector<DnsNameStats> DnsManager::stats(DnsServiceId id) const {
  std::vector<DnsNameStats> out;
  absl::MutexLock lock(&mu_);
  auto it = services_.find(id);
  if (it == services_.end()) return out;
  const absl::Time now = options_.clock->now();
  for (const Name& n : it->second->names) {
    DnsNameStats s = n.stats;
    s.state = n.holding                 ? "held"
              : n.stats.failures_in_row ? "failing"
              : n.resolved              ? "ok"
                                        : "resolving";
    s.endpoints = n.good.size();
    s.last_error = n.last_error.ok() ? "" : std::string(n.last_error.ToString());
    s.next_lookup_in_ms =
        n.token != 0 ? 0 : std::max<int64_t>(0, absl::ToInt64Milliseconds(n.next - now));
    out.push_back(std::move(s));
  }
  return out;
}

void DnsManager::tick() {
  std::vector<Lookup> lookups;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = options_.clock->now();
    for (auto& [id, s] : services_) collect_due_locked(id, *s, now, lookups);
  }
  start(std::move(lookups));
}

void DnsManager::collect_due_locked(DnsServiceId id, Service& s, absl::Time now,
                                    std::vector<Lookup>& out) {
  for (Name& n : s.names) {
    const bool lost = n.token != 0 && now - n.started >= options_.lookup_grace;
    if ((n.token != 0 && !lost) || now < n.next) continue;
    n.token = next_token_++;
    n.started = now;
    out.push_back(Lookup{id, n.token, n.name.query});
  }
}

void DnsManager::start(std::vector<Lookup> lookups) {
  if (lookups.empty()) return;
  std::shared_ptr<Resolver> r = resolver();
  for (Lookup& l : lookups) {
    std::weak_ptr<Gate> weak = gate_;
    auto done = [weak, id = l.service, token = l.token](DnsAnswer answer) {
      std::shared_ptr<Gate> gate = weak.lock();
      if (gate == nullptr) return;
      std::vector<Event> events;
      {
        absl::MutexLock lock(&gate->mu);
        if (gate->manager == nullptr) return;
        gate->manager->on_answer(id, token, std::move(answer), events);
      }
      // With no lock of ours held: a callback may destroy the client.
      if (gate->on_event) {
        for (const Event& e : events) gate->on_event(e);
      }
    };
    if (r != nullptr) {
      r->resolve(l.query, std::move(done));
      continue;
    }
    absl::Status why;
    {
      absl::MutexLock lock(&resolver_mu_);
      why = resolver_error_;
    }
    // Answered from the executor, as a resolver would from its thread: never inside
    // update_service, which the owner calls under its own lock.
    options_.executor->run_after(
        absl::ZeroDuration(), [done = std::move(done), why = std::move(why)]() mutable {
          done(DnsAnswer{absl::UnavailableError(absl::StrCat("no resolver: ", why.message())),
                         {},
                         absl::InfiniteDuration()});
        });
  }
}

absl::Duration DnsManager::jittered_locked(const Service& s, absl::Duration d) {
  if (s.policy.jitter <= 0) return d;
  const double u = static_cast<double>(splitmix(random_) >> 11) * 0x1.0p-53;
  return d * (1.0 - s.policy.jitter * u);
}

Event DnsManager::make_event(EventType type, const Service& s, std::string detail) {
  Event e;
  e.type = type;
  e.service = s.name;
  e.version = s.version;
  e.detail = std::move(detail);
  e.wall_time = options_.clock->wall_now();
  return e;
}

void DnsManager::on_answer(DnsServiceId id, uint64_t token, DnsAnswer answer,
                           std::vector<Event>& events) {
  std::string changed;  // the service to rebuild
  {
    absl::MutexLock lock(&mu_);
    auto it = services_.find(id);
    if (it == services_.end()) return;
    Service& s = *it->second;
    auto n = std::find_if(s.names.begin(), s.names.end(),
                          [&](const Name& x) { return x.token == token; });
    if (n == s.names.end()) return;  // abandoned, or its name left the config
    const absl::Time now = options_.clock->now();
    const DestinationPolicy& p = s.policy;
    const std::string& name = n->name.query.name;
    n->token = 0;
    ++n->stats.lookups;
    std::vector<DnsEndpoint> got;
    if (answer.status.ok()) {
      absl::StatusOr<std::vector<DnsEndpoint>> usable = endpoints_of(n->name, answer.records);
      if (usable.ok()) {
        got = *std::move(usable);
      } else {
        answer.status = usable.status();  // as bad as a failed lookup
      }
    }
    if (!answer.status.ok()) {
      ++n->stats.failures;
      ++n->stats.failures_in_row;
      n->last_error = answer.status;
      const uint64_t row = std::min<uint64_t>(n->stats.failures_in_row, 30);
      const absl::Duration backoff = std::min(
          p.min_refresh * static_cast<double>(uint64_t{1} << (row - 1)), p.refresh_interval);
      n->next = now + jittered_locked(s, backoff);
      if (n->stats.failures_in_row == 1) {
        events.push_back(make_event(
            EventType::kDnsFailed, s,
            absl::StrCat(name, ": ", answer.status.ToString(), "; ",
                         n->resolved
                             ? absl::StrCat("keeping the last good ", n->good.size(), " endpoints")
                             : std::string("no endpoints from it yet"))));
      }
    } else {
      if (n->stats.failures_in_row > 0) {
        events.push_back(make_event(EventType::kDnsRecovered, s,
                                    absl::StrCat(name, ": answers again after ",
                                                 n->stats.failures_in_row, " failed lookups")));
      }
      n->stats.failures_in_row = 0;
      n->stats.last_ok_unix_ms = absl::ToUnixMillis(options_.clock->wall_now());
      const absl::Duration ttl =
          std::clamp(answer.ttl, p.min_refresh, p.refresh_interval);  // infinite: interval
      n->next = now + jittered_locked(s, ttl);
      if (got == n->good && n->resolved) {
        n->holding = false;  // the held change did not recur
        n->new_question = false;
      } else {
        std::vector<const DnsEndpoint*> removed = minus(n->good, got);
        const double share =
            n->good.empty() ? 0 : static_cast<double>(removed.size()) / n->good.size();
        const bool too_many = n->resolved && !n->new_question && share > p.max_removal_share + 1e-9;
        if (too_many && !(n->holding && n->held == got)) {
          n->holding = true;
          n->held = got;
          ++n->stats.holds;
          events.push_back(make_event(
              EventType::kDnsHeld, s,
              absl::StrCat(name, ": the answer would remove ", removed.size(), " of ",
                           n->good.size(), " endpoints (more than max_removal_share ",
                           p.max_removal_share, "); held until the next lookup confirms it")));
        } else {
          std::vector<const DnsEndpoint*> added = minus(got, n->good);
          std::string detail =
              absl::StrCat(name, ": ", got.size(), " endpoints (", n->good.size(), " before;");
          append_list(detail, '+', added);
          append_list(detail, '-', removed);
          if (added.empty() && removed.empty()) absl::StrAppend(&detail, " weights changed");
          if (n->holding) absl::StrAppend(&detail, "; confirmed by a second lookup");
          absl::StrAppend(&detail, ")");
          n->good = std::move(got);
          n->resolved = true;
          n->new_question = false;
          n->holding = false;
          n->held.clear();
          ++n->stats.changes;
          events.push_back(make_event(EventType::kDnsChanged, s, std::move(detail)));
          changed = s.name;
        }
      }
    }
  }
  if (!changed.empty() && options_.listener != nullptr) {
    options_.listener->on_destinations_changed(changed, events);
  }
}

}  // namespace ufc::internal
