// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/client_core.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/common/cpu_shard.h"
#include "src/common/duration.h"
#include "src/common/epoch.h"
#include "src/common/strings.h"
#include "src/common/thread_executor.h"
#include "src/common/thread_shard.h"
#include "src/config/address.h"
#include "src/config/config_validator.h"
#include "src/routing/router.h"
#include "ufc/config.h"

namespace ufc::internal {
namespace {

// Ban expiry, business-signal intervals, departed endpoints and reclamation run this often.
constexpr absl::Duration kHousekeepingPeriod = absl::Milliseconds(100);
// How long reports to an endpoint that left the config still reach the service totals.
constexpr absl::Duration kDepartedGrace = absl::Seconds(60);

// Refusals are hot paths under overload: a status with a message allocates, so each
// thread builds each once and copies it (a reference count on a thread-local object).
const absl::Status& deadline_exceeded() {
  thread_local const absl::Status status =
      absl::DeadlineExceededError("the request's deadline has passed (or is within the margin)");
  return status;
}
const absl::Status& fused() {
  thread_local const absl::Status status =
      absl::UnavailableError("fused: the service is overloaded and this request was shed");
  return status;
}
const absl::Status& retries_off() {
  thread_local const absl::Status status =
      absl::UnavailableError("fused: no retries while the service is overloaded");
  return status;
}
const absl::Status& retry_budget_spent() {
  thread_local const absl::Status status =
      absl::UnavailableError("retry budget spent: too many retries in the window");
  return status;
}
const absl::Status& no_untried_backend() {
  thread_local const absl::Status status =
      absl::UnavailableError("every candidate backend was already tried");
  return status;
}

absl::Status validate_options(const ClientOptions& options) {
  ValidationErrors errors;
  if (options.clock_tick < absl::Microseconds(100) || options.clock_tick > absl::Seconds(1)) {
    ValidationErrors::Scope field(errors, "clock_tick");
    errors.add(
        absl::StrCat("must be in [100us, 1s], got ", absl::FormatDuration(options.clock_tick)));
  }
  return errors.status();
}

}  // namespace

ClientCore::ClientCore(const ClientOptions& options)
    : options_(options),
      clock_(options.clock ? options.clock : Clock::system()),
      random_(options.random),
      executor_(options.executor ? options.executor
                                 : std::make_shared<ThreadExecutor>("ufc-client")),
      prober_(options.prober ? options.prober : std::shared_ptr<Prober>(make_tcp_prober())),
      probe_gate_(std::make_shared<ProbeGate>()),
      coarse_(*clock_),
      domain_(EpochDomain::global()),
      registry_(new ServiceTable({})) {
  absl::MutexLock lock(&probe_gate_->mu);
  probe_gate_->core = this;
}

absl::StatusOr<std::unique_ptr<ClientCore>> ClientCore::create(const ClientOptions& options) {
  if (absl::Status s = validate_options(options); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("ClientOptions: ", s.message()));
  }
  v1::ClientConfig initial;
  if (!options.config_path.empty()) {
    absl::StatusOr<v1::ClientConfig> loaded = load_config_file(options.config_path);
    if (!loaded.ok()) return loaded.status();
    initial = *std::move(loaded);
  }
  if (options.initial_config.has_value()) {
    for (const v1::ServiceConfig& s : options.initial_config->services())
      *initial.add_services() = s;
    for (const auto& [physical, logical] : options.initial_config->idc_map()) {
      (*initial.mutable_idc_map())[physical] = logical;
    }
  }
  if (absl::Status s = validate_config(initial); !s.ok()) return s;

  std::unique_ptr<ClientCore> core(new ClientCore(options));
  core->options_.initial_config.reset();  // applied below; not worth a second copy
  std::vector<Event> events;
  {
    absl::MutexLock lock(&core->mu_);
    core->env_ = core->make_env(initial.idc_map());
    for (const v1::ServiceConfig& s : initial.services()) {
      // Validated as a whole above, and new: cannot fail.
      core->apply_locked(s, events, /*publish=*/false).IgnoreError();
    }
    core->publish_registry_locked();
  }
  core->emit(events);
  ClientCore* self = core.get();
  core->tasks_.push_back(core->executor_->run_every(options.clock_tick, [self] {
    self->coarse_.refresh();
    if (!self->suspects_.empty()) self->process_suspects();
  }));
  core->tasks_.push_back(
      core->executor_->run_every(kHousekeepingPeriod, [self] { self->housekeeping(); }));
  return core;
}

ClientCore::~ClientCore() {
  {
    absl::MutexLock lock(&probe_gate_->mu);  // waits for an answer being handled
    probe_gate_->core = nullptr;
  }
  for (Executor::TaskId id : tasks_) executor_->cancel(id);
  for (Endpoint* e = suspects_.take_all(); e != nullptr;) {
    Endpoint* next = e->meta().next_suspect;
    e->unref();
    e = next;
  }
  EpochDomain& domain = EpochDomain::global();
  {
    absl::MutexLock lock(&mu_);
    // Unpublish first, then retire: the usual order, even though no pick may run now.
    domain.retire(const_cast<ServiceTable*>(registry_.exchange(nullptr)));
    for (auto& [name, state] : services_) domain.retire(state.release());
    services_.clear();
  }
  domain.synchronize();  // frees what this client retired, without waiting on others
  Endpoint::sweep_graveyard();
}

absl::StatusOr<Pick> ClientCore::pick(const PickRequest& request) {
  EpochDomain::Guard guard(domain_);
  ServiceState* service = registry_.load(std::memory_order_acquire)->find(request.service);
  if (__builtin_expect(service == nullptr, 0)) {
    if (request.service.empty()) return absl::InvalidArgumentError("PickRequest.service is empty");
    return absl::NotFoundError(
        absl::StrCat("service \"", av(request.service), "\" is not configured"));
  }
  const ServiceSnapshot& snapshot = *service->snapshot.load(std::memory_order_acquire);
  const int64_t now_ns = coarse_.now_ns();
  const Random random(random_.get());

  // 1. Deadline: a spent budget is refused before anything else.
  int64_t deadline_ns = kInfiniteNs;
  int64_t left_ns = kInfiniteNs;
  if (!request.deadline.is_none()) {
    // The budget left for this attempt, after the margin the caller needs afterwards. With
    // nothing left, no backend is worth the request: refuse before choosing one.
    deadline_ns = to_nanos(request.deadline.instant());
    left_ns = deadline_ns - now_ns - snapshot.deadline_margin_ns;
    if (__builtin_expect(left_ns <= 0, 0)) {
      service->deadline_skipped.fetch_add(1, std::memory_order_relaxed);
      return deadline_exceeded();
    }
  }

  // 2. Fusing: drop this request with its class's probability; strict timeouts, no retries.
  const bool fusing = service->fuse_gate.fusing.load(std::memory_order_relaxed);
  bool retry_allowed = snapshot.retry.max_attempts > 1;
  int64_t connect_ns, read_ns, write_ns;
  if (__builtin_expect(fusing, 0)) {
    const int cls = traffic_class(request.priority, request.is_retry);
    service->fusing_demand[cls].add();
    if (request.is_retry) return retries_off();
    if (random.next() < service->fuse_gate.drop[cls].load(std::memory_order_relaxed)) {
      service->fused.add();
      return fused();
    }
    connect_ns = snapshot.strict_connect_ns;
    read_ns = snapshot.strict_read_ns;
    write_ns = snapshot.strict_write_ns;
    retry_allowed = false;
  } else if (request.timeouts != nullptr) {
    connect_ns = to_nanos(request.timeouts->connect);
    read_ns = to_nanos(request.timeouts->read);
    write_ns = to_nanos(request.timeouts->write);
  } else {
    connect_ns = snapshot.connect_ns;
    read_ns = snapshot.read_ns;
    write_ns = snapshot.write_ns;
  }
  if (__builtin_expect(request.is_retry, 0)) {
    // The retry budget: tokens granted each tick from the service's recent requests.
    if (service->retry_tokens.fetch_sub(1, std::memory_order_relaxed) <= 0) {
      service->retry_tokens.fetch_add(1, std::memory_order_relaxed);
      service->retries_refused.add();
      return retry_budget_spent();
    }
  }
  connect_ns = std::min(connect_ns, left_ns);
  read_ns = std::min(read_ns, left_ns);
  write_ns = std::min(write_ns, left_ns);

  // 3. Routing: the candidate set.
  PickContext context{random,
                      cpu_shard(),
                      now_ns,
                      request.hash_key,
                      request.hash.has_value() ? &*request.hash : nullptr,
                      0,
                      thread_shard()};
  const CandidateSet* set = &snapshot.all;
  if (!snapshot.routes.empty()) {
    // First matching rule wins; the last counter counts requests no rule matched.
    const std::string_view caller = request.caller_service.empty()
                                        ? std::string_view(options_.self_service)
                                        : request.caller_service;
    size_t r = 0;
    while (r < snapshot.routes.size() && !snapshot.routes[r].matches(request, caller, random)) ++r;
    snapshot.route_counters->at(r).add();
    if (r < snapshot.routes.size()) set = &snapshot.routes[r].choose(random);
  }
  if (__builtin_expect(set->panic, 0)) {
    service->panic_picks.fetch_add(1, std::memory_order_relaxed);
  }

  // 4. Balancing, avoiding backends this request already tried.
  Endpoint* endpoint = set->balancer->pick(context);
  if (__builtin_expect(!request.avoid.empty(), 0)) {
    auto tried = [&](const Endpoint* e) {
      for (std::string_view a : request.avoid) {
        if (a == e->address()) return true;
      }
      return false;
    };
    const uint32_t tries = 2 * static_cast<uint32_t>(set->members.size()) + 8;
    while (tried(endpoint) && ++context.attempt < tries) endpoint = set->balancer->pick(context);
    if (tried(endpoint)) {
      // No retry leaves: the budget token it took goes back.
      if (request.is_retry) service->retry_tokens.fetch_add(1, std::memory_order_relaxed);
      return no_untried_backend();
    }
  }
  endpoint->on_pick(context.shard);
  return Pick(endpoint, context.shard, connect_ns, read_ns, write_ns, deadline_ns, retry_allowed);
}

absl::StatusOr<Outcome> ClientCore::call(const PickRequest& request,
                                         absl::FunctionRef<Outcome(const Pick&)> attempt) {
  PickRequest req = request;
  // Backends tried so far; their Picks stay alive so the addresses stay valid.
  std::optional<Pick> kept[10];  // max_attempts is at most 10
  std::string_view tried[10];
  size_t n_tried = 0;
  std::optional<Outcome> last;
  for (uint32_t attempt_no = 0;; ++attempt_no) {
    req.is_retry = request.is_retry || attempt_no > 0;
    req.avoid = absl::MakeConstSpan(tried, n_tried);
    absl::StatusOr<Pick> pick = this->pick(req);
    if (!pick.ok()) {
      if (last.has_value()) return *last;  // a refused retry: the failure stands
      return pick.status();
    }
    const Outcome outcome = attempt(*pick);
    report(*pick, outcome);
    last = outcome;
    const bool transport_failure = outcome.transport != Transport::kOk;
    uint32_t max_attempts = 1;
    {
      EpochDomain::Guard guard(domain_);
      if (ServiceState* s = registry_.load(std::memory_order_acquire)->find(request.service)) {
        max_attempts = s->snapshot.load(std::memory_order_acquire)->retry.max_attempts;
      }
    }
    if (!transport_failure || !pick->retry_allowed() || attempt_no + 1 >= max_attempts ||
        n_tried >= 10) {
      return outcome;
    }
    kept[n_tried] = *std::move(pick);
    tried[n_tried] = kept[n_tried]->address();
    ++n_tried;
  }
}

void ClientCore::report(const Pick& pick, const Outcome& outcome) {
  if (pick.endpoint_ == nullptr || pick.reported_) return;
  pick.reported_ = true;
  pick.endpoint_->on_report(pick.shard_, outcome.classify(), to_micros(outcome.latency),
                            coarse_.now_ns());
}

Event ClientCore::make_event(EventType type, const std::string& service, uint64_t version,
                             std::string detail) {
  return Event{type, service, version, std::move(detail), clock_->wall_now()};
}

void ClientCore::emit(std::vector<Event>& events) {
  if (options_.on_event) {
    for (const Event& e : events) options_.on_event(e);
  }
  events.clear();
}

absl::Status ClientCore::apply(const v1::ServiceConfig& service) {
  std::vector<Event> events;
  absl::Status status = ufc::validate_service(service);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    status = apply_locked(service, events, /*publish=*/true);
  }
  if (!status.ok()) {
    events.push_back(make_event(EventType::kConfigRejected, service.name(), service.version(),
                                std::string(status.message())));
  }
  emit(events);
  EpochDomain::global().reclaim();
  return status;
}

absl::Status ClientCore::apply(const v1::ClientConfig& config) {
  std::vector<Event> events;
  absl::Status status = validate_config(config);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    // Check every version before changing anything, so one stale service rejects the
    // whole update.
    for (int i = 0; i < config.services_size() && status.ok(); ++i) {
      const v1::ServiceConfig& s = config.services(i);
      auto it = services_.find(s.name());
      if (it == services_.end()) continue;
      bool repeat = false;
      status = check_version(s, it->second->snapshot.load(std::memory_order_relaxed), repeat);
      if (!status.ok()) {
        status =
            absl::FailedPreconditionError(absl::StrCat("services[", i, "].", status.message()));
      }
    }
    if (status.ok()) {
      absl::flat_hash_set<std::string> keep;
      for (const v1::ServiceConfig& s : config.services()) {
        keep.insert(s.name());
        apply_locked(s, events, /*publish=*/false).IgnoreError();  // checked above
      }
      std::vector<std::string> gone;
      for (const auto& [name, state] : services_) {
        if (!keep.contains(name)) gone.push_back(name);
      }
      for (const std::string& name : gone) remove_locked(name, events);
      publish_registry_locked();  // once for the whole batch
      refresh_env_locked(config.idc_map(), events);
    }
  }
  if (!status.ok()) {
    events.push_back(make_event(EventType::kConfigRejected, "", 0, std::string(status.message())));
  }
  emit(events);
  EpochDomain::global().reclaim();
  return status;
}

absl::Status ClientCore::check_version(const v1::ServiceConfig& service,
                                       const ServiceSnapshot* previous, bool& repeat) {
  repeat = false;
  if (previous == nullptr || service.version() == 0) return absl::OkStatus();
  const uint64_t current = previous->version;
  if (service.version() < current) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version: ", service.version(), " is older than the applied version ", current));
  }
  if (service.version() == current) {
    if (fingerprint(service) == previous->content) {
      repeat = true;  // a repeated delivery: nothing to do
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "version: ", current, " is already applied with different content; bump the version"));
  }
  return absl::OkStatus();
}

absl::Status ClientCore::apply_locked(const v1::ServiceConfig& service, std::vector<Event>& events,
                                      bool publish) {
  auto it = services_.find(service.name());
  ServiceState* state = it == services_.end() ? nullptr : it->second.get();
  ServiceSnapshot* previous = state ? state->snapshot.load(std::memory_order_relaxed) : nullptr;
  bool repeat = false;
  if (absl::Status s = check_version(service, previous, repeat); !s.ok() || repeat) return s;

  std::unique_ptr<ServiceSnapshot> next =
      build_snapshot(service, previous, clock_->wall_now(), &suspects_, env_);
  if (state != nullptr) {
    const size_t before = events.size();
    settle_bans_locked(*state, *next, events);
    if (events.size() != before) finish_snapshot(*next);  // some were unbanned
  }
  if (state != nullptr) affinity_events(*state, previous, *next, events);
  if (state == nullptr) {
    auto owned = std::make_unique<ServiceState>(service.name());
    state = owned.get();
    for (const EndpointRef& e : next->endpoints) e->meta().owner = state;
    state->snapshot.store(next.release(), std::memory_order_release);
    services_.emplace(service.name(), std::move(owned));
    if (publish) publish_registry_locked();
  } else {
    // Endpoints not carried over (removed, or replaced because their tags changed) stay
    // in the service totals for a while (see ServiceState::departed).
    absl::flat_hash_set<const Endpoint*> kept;
    for (const EndpointRef& e : next->endpoints) kept.insert(e.get());
    for (const EndpointRef& e : previous->endpoints) {
      if (!kept.contains(e.get())) {
        e->meta().owner = nullptr;  // no longer banned or probed on this service's behalf
        state->departed.push_back(
            ServiceState::Departed{EndpointRef::share(e.get()), coarse_.now_ns()});
      }
    }
    for (const EndpointRef& e : next->endpoints) e->meta().owner = state;
    expire_departed_locked(*state);
    state->snapshot.store(next.release(), std::memory_order_release);
    EpochDomain::global().retire(previous);
  }
  events.push_back(make_event(
      EventType::kConfigApplied, service.name(), service.version(),
      absl::StrCat(
          service.endpoints_size(), " endpoints, policy ",
          policy_name(
              policy_from_name(service.balancing().policy()).value_or(PolicyKind::kRoundRobin)))));
  return absl::OkStatus();
}

absl::Status ClientCore::remove(std::string_view service) {
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    const std::string name(service);
    if (!services_.contains(name)) {
      return absl::NotFoundError(absl::StrCat("service \"", name, "\" is not configured"));
    }
    remove_locked(name, events);
    publish_registry_locked();
  }
  emit(events);
  EpochDomain::global().reclaim();
  return absl::OkStatus();
}

void ClientCore::remove_locked(const std::string& name, std::vector<Event>& events) {
  auto it = services_.find(name);
  const uint64_t version = it->second->snapshot.load(std::memory_order_relaxed)->version;
  for (const EndpointRef& e : it->second->snapshot.load(std::memory_order_relaxed)->endpoints) {
    e->meta().owner = nullptr;
  }
  // Still reachable through the published registry: retired by the next publication.
  removed_unpublished_.push_back(it->second.release());
  services_.erase(it);
  events.push_back(make_event(EventType::kServiceRemoved, name, version, ""));
}

void ClientCore::expire_departed_locked(ServiceState& state) {
  const int64_t cutoff = coarse_.now_ns() - absl::ToInt64Nanoseconds(kDepartedGrace);
  auto& departed = state.departed;
  auto expired =
      std::partition(departed.begin(), departed.end(),
                     [cutoff](const ServiceState::Departed& d) { return d.since_ns > cutoff; });
  for (auto it = expired; it != departed.end(); ++it) {
    for (int c = 0; c < kOutcomeClassCount; ++c) {
      state.departed_counts[c] += it->endpoint->count(static_cast<OutcomeClass>(c));
    }
  }
  departed.erase(expired, departed.end());
}

std::shared_ptr<const RoutingEnv> ClientCore::make_env(
    const google::protobuf::Map<std::string, std::string>& idc_map) const {
  auto env = std::make_shared<RoutingEnv>();
  env->idc_map = idc_map;
  env->caller.service = options_.self_service;
  env->caller.idc = options_.self_idc;
  env->caller.logical_idc = logical_idc(idc_map, options_.self_idc);
  return env;
}

void ClientCore::refresh_env_locked(const google::protobuf::Map<std::string, std::string>& idc_map,
                                    std::vector<Event>& events) {
  std::map<std::string, std::string> now(env_->idc_map.begin(), env_->idc_map.end());
  std::map<std::string, std::string> next(idc_map.begin(), idc_map.end());
  if (now == next) return;
  env_ = make_env(idc_map);
  // Every service's IDC affinity may change: recompile the ones not rebuilt with it yet.
  for (auto& [name, state] : services_) {
    ServiceSnapshot* current = state->snapshot.load(std::memory_order_relaxed);
    if (current->env == env_) continue;
    std::unique_ptr<ServiceSnapshot> rebuilt = rebuild_snapshot(*current, env_);
    affinity_events(*state, current, *rebuilt, events);
    state->snapshot.store(rebuilt.release(), std::memory_order_release);
    EpochDomain::global().retire(current);
  }
}

void ClientCore::affinity_events(const ServiceState& state, const ServiceSnapshot* before,
                                 const ServiceSnapshot& after, std::vector<Event>& events) {
  absl::flat_hash_map<std::string, bool> widened_before;
  auto each_set = [](const ServiceSnapshot& s, auto&& fn) {
    fn(s.all);
    for (const CompiledRoute& r : s.routes) {
      for (const CandidateSet& set : r.destinations) fn(set);
    }
  };
  if (before != nullptr) {
    each_set(*before, [&](const CandidateSet& set) {
      if (set.affinity) widened_before[set.key] = set.widened;
    });
  }
  each_set(after, [&](const CandidateSet& set) {
    if (!set.affinity) return;
    auto it = widened_before.find(set.key);
    const bool was = it != widened_before.end() ? it->second : false;
    if (set.widened == was) return;
    Event e = make_event(
        set.widened ? EventType::kIdcWiden : EventType::kIdcNarrow, state.name, after.version,
        absl::StrCat(set.key, ": ", set.local_usable, " of ", set.local_size,
                     " endpoints usable in logical IDC \"", after.env->caller.logical_idc, "\"; ",
                     set.widened ? "using every IDC" : "back to the local IDC"));
    events.push_back(std::move(e));
  });
}

void ClientCore::publish_registry_locked() {
  std::vector<std::pair<std::string, ServiceState*>> entries;
  entries.reserve(services_.size());
  for (const auto& [name, state] : services_) entries.emplace_back(name, state.get());
  const ServiceTable* old =
      registry_.exchange(new ServiceTable(std::move(entries)), std::memory_order_acq_rel);
  // Unpublished now, so retire: the old table and the services removed since it was built.
  EpochDomain::global().retire(const_cast<ServiceTable*>(old));
  for (ServiceState* state : removed_unpublished_) EpochDomain::global().retire(state);
  removed_unpublished_.clear();
}

}  // namespace ufc::internal
