// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/client_core.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/common/cpu_shard.h"
#include "src/common/duration.h"
#include "src/common/strings.h"
#include "src/common/thread_executor.h"
#include "src/common/thread_shard.h"
#include "src/source/file_source.h"
#include "src/source/parsed_update.h"
#include "src/source/removal_limits.h"
#include "ufc/config.h"
#include "ufc/refusal.h"
#include "ufc/resolver.h"

namespace ufc::internal {
namespace {

// Departed endpoints, reclamation and the endpoint graveyard are looked at this often.
constexpr absl::Duration kHousekeepingPeriod = absl::Milliseconds(100);

// Refusals are hot paths under overload: a status with a message allocates, so each
// thread builds them once (message and Refusal payload) and copies one (a reference count
// on a thread-local object).
enum RefusalIndex {
  kDeadlinePassed,
  kShed,
  kNoRetriesWhileFusing,
  kRetryBudgetSpent,
  kEveryBackendTried,
  kNoEndpoints
};
const absl::Status& refusal(RefusalIndex which) {
  thread_local const absl::Status statuses[] = {
      with_refusal(absl::DeadlineExceededError(
                       "the request's deadline has passed (or is within the margin)"),
                   Refusal::kDeadlineSpent),
      with_refusal(
          absl::UnavailableError("fused: the service is overloaded and this request was shed"),
          Refusal::kShed),
      with_refusal(absl::UnavailableError("fused: no retries while the service is overloaded"),
                   Refusal::kRetryWhileFusing),
      with_refusal(absl::UnavailableError("retry budget spent: too many retries in the window"),
                   Refusal::kRetryBudgetSpent),
      with_refusal(absl::UnavailableError("every candidate backend was already tried"),
                   Refusal::kEveryBackendTried),
      with_refusal(absl::UnavailableError(
                       "no endpoints: the service's DNS destinations have not resolved yet "
                       "(query the service for each name's error)"),
                   Refusal::kNoEndpoints),
  };
  return statuses[which];
}

RemovalLimits removal_limits(const ApplyOptions& options) {
  return RemovalLimits{options.allow_removing_all, options.max_removed_share};
}

absl::Status validate_options(const ClientOptions& options) {
  if (options.clock_tick < absl::Microseconds(100) || options.clock_tick > absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ClientOptions: clock_tick: must be in [100us, 1s], got ",
                     absl::FormatDuration(options.clock_tick)));
  }
  // The resolver is made when a service first has DNS destinations: its options are
  // checked now, so that a bad one fails here, not every lookup later.
  if (options.resolver == nullptr) {
    if (absl::Status s = validate_resolver_options(options.dns); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("ClientOptions: dns: ", s.message()));
    }
  }
  return validate_removal_limits(removal_limits(options.apply_defaults),
                                 "ClientOptions: apply_defaults");
}

std::shared_ptr<const RoutingEnv> make_env(
    const std::string& self_service, const std::string& self_idc,
    const google::protobuf::Map<std::string, std::string>& idc_map) {
  auto env = std::make_shared<RoutingEnv>();
  env->idc_map = idc_map;
  env->caller.service = self_service;
  env->caller.idc = self_idc;
  env->caller.logical_idc = logical_idc(idc_map, self_idc);
  return env;
}

}  // namespace

ClientCore::ClientCore(const ClientOptions& options)
    : settings_(options),
      clock_(options.clock ? options.clock : Clock::system()),
      random_(options.random),
      executor_(options.executor ? options.executor
                                 : std::make_shared<ThreadExecutor>("ufc-client")),
      coarse_(*clock_),
      domain_(EpochDomain::global()),
      registry_(new ServiceTable({})) {
  bans_ = std::make_unique<BanManager>(BanManager::Options{
      clock_.get(), executor_.get(),
      options.prober ? options.prober : std::shared_ptr<Prober>(make_tcp_prober()), this,
      options.on_event, options.clock_tick});
  fuses_ = std::make_unique<FuseManager>(
      FuseManager::Options{clock_.get(), executor_.get(), options.on_event, options.clock_tick});
  DnsManager::Options dns;
  dns.clock = clock_.get();
  dns.executor = executor_.get();
  dns.resolver = options.resolver;
  dns.make_resolver = [servers = options.dns]() -> absl::StatusOr<std::shared_ptr<Resolver>> {
    absl::StatusOr<std::unique_ptr<Resolver>> r = make_cares_resolver(servers);
    if (!r.ok()) return r.status();
    return std::shared_ptr<Resolver>(*std::move(r));
  };
  dns.listener = this;
  dns.on_event = options.on_event;
  if (options.resolver == nullptr) {  // c-ares' worst case: the timeout doubles each round
    const absl::Duration worst =
        options.dns.timeout *
        static_cast<double>((int64_t{1} << std::clamp(options.dns.tries, 1, 10)) - 1);
    dns.lookup_grace = std::max(absl::Seconds(60), worst + absl::Seconds(5));
  }
  dns_ = std::make_unique<DnsManager>(std::move(dns));
}

absl::StatusOr<std::unique_ptr<ClientCore>> ClientCore::create(const ClientOptions& options) {
  if (absl::Status s = validate_options(options); !s.ok()) return s;
  ConfigUpdate initial;
  initial.all_or_nothing = true;
  if (!options.config_path.empty()) {
    absl::StatusOr<ConfigUpdate> file = FileSource(options.config_path).read();
    if (!file.ok()) return file.status();
    initial = *std::move(file);
  }
  if (options.initial_config.has_value() && options.config_path.empty()) {
    initial.lent = &*options.initial_config;  // nothing to merge: no copy of a big config
  } else if (options.initial_config.has_value()) {
    for (const v1::ServiceConfig& s : options.initial_config->services()) {
      *initial.config.add_services() = s;
    }
    for (const auto& [physical, logical] : options.initial_config->idc_map()) {
      (*initial.config.mutable_idc_map())[physical] = logical;
    }
  }
  UpdateResult result;
  ParsedUpdate parsed = parse_update(initial, result);
  if (!result.status.ok()) {
    // A bad file is named as such (its own errors, not the merged config's indices).
    if (!options.config_path.empty()) {
      if (absl::StatusOr<v1::ClientConfig> c = load_config_file(options.config_path); !c.ok()) {
        return c.status();
      }
    }
    return result.status;
  }
  std::unique_ptr<ClientCore> core(new ClientCore(options));
  std::vector<Event> events;
  {
    absl::MutexLock lock(&core->mu_);
    core->env_ = make_env(options.self_service, options.self_idc, initial.content().idc_map());
    initial.complete = false;  // nothing to remove, and the IDC map is in place already
    core->install_locked(initial, parsed, result, events).IgnoreError();  // new: cannot fail
  }
  core->dns_->tick();
  core->emit(events);
  ClientCore* self = core.get();
  core->tasks_.push_back(
      core->executor_->run_every(options.clock_tick, [self] { self->coarse_.refresh(); }));
  core->tasks_.push_back(
      core->executor_->run_every(kHousekeepingPeriod, [self] { self->housekeeping(); }));
  if (!options.backup.agents.empty()) {  // before sync starts: a bad option fails first
    absl::StatusOr<std::unique_ptr<BackupAgents>> agents = BackupAgents::create(options.backup);
    if (!agents.ok()) return agents.status();
    core->remote_ = std::make_unique<RemotePicks>(*std::move(agents));
  }
  if (!options.sync.servers.empty() || !options.sync.cache_dir.empty()) {
    SyncSource::Options sync;
    sync.sync = options.sync;
    sync.self_service = options.self_service;
    sync.self_idc = options.self_idc;
    sync.on_event = options.on_event;
    absl::StatusOr<std::unique_ptr<SyncSource>> source = SyncSource::create(std::move(sync));
    if (!source.ok()) return source.status();
    core->sync_ = source->get();
    if (absl::Status s = core->attach(*std::move(source)); !s.ok()) return s;
  }
  return core;
}

ClientCore::~ClientCore() {
  remote_.reset();  // forwards the reports made by now, then lets its endpoints go
  {
    absl::MutexLock lock(&sources_mu_);
    sources_.clear();
  }
  // The managers call back into this client from their timers and the prober: stop them
  // first, with no lock of ours held, while they are still reachable from the callbacks.
  dns_->stop();  // first: its answers rebuild into the other two
  bans_->stop();
  fuses_->stop();
  for (Executor::TaskId id : tasks_) executor_->cancel(id);
  bans_.reset();  // nothing calls back any more; their endpoint sets go now
  fuses_.reset();
  dns_.reset();  // and the resolver it made
  {
    absl::MutexLock lock(&mu_);
    // Unpublish first, then retire: the usual order, even though no pick may run now.
    domain_.retire(const_cast<ServiceTable*>(registry_.exchange(nullptr)));
    for (auto& [name, slot] : slots_) {  // handles may outlive the client, not its use
      slot->state.store(nullptr, std::memory_order_relaxed);
      slot->owner = nullptr;
      unref_slot(slot);
    }
    slots_.clear();
    for (auto& [name, state] : services_) domain_.retire(state.release());
    services_.clear();
  }
  domain_.synchronize();  // frees what this client retired, without waiting on others
  Endpoint::sweep_graveyard();
}

namespace {

// The deadline of `request` as pick() reads it: `deadline_ns` (kInfiniteNs: none) and the
// budget `left_ns` an attempt has after the service's margin. False when it is spent.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool budget(const PickRequest& request,
                                                const ServiceSnapshot& snapshot, int64_t now_ns,
                                                int64_t& deadline_ns, int64_t& left_ns) {
  deadline_ns = kInfiniteNs;
  left_ns = kInfiniteNs;
  if (request.deadline.is_none()) return true;
  // The budget left for this attempt, after the margin the caller needs afterwards. With
  // nothing left, no backend is worth the request: refuse before choosing one.
  // Saturating: a deadline in the distant past (absl::InfinitePast()) is INT64_MIN here,
  // and plain subtraction would wrap it around into a budget of centuries. One beyond
  // int64 nanoseconds (~292 years) saturates to kInfiniteNs: no deadline.
  deadline_ns = to_nanos(request.deadline.instant().reading());
  if (__builtin_expect(deadline_ns != kInfiniteNs, 1)) {
    left_ns = sub_sat(sub_sat(deadline_ns, now_ns), snapshot.attempt.deadline_margin_ns);
  }
  return __builtin_expect(left_ns > 0, 1);
}

}  // namespace

// The request path once the service's snapshot is loaded, for a pick with `fault` (the
// Pick's fault word; 0 for none). Always inline: pick() runs it with 0, which folds every
// fault test away, and pick_with_faults() with the decision.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::StatusOr<Pick> ClientCore::pick_in(
    const PickRequest& request, ServiceState& service, const ServiceSnapshot& snapshot,
    uint32_t fault) {
  const int64_t now_ns = coarse_.now_ns();
  const Random random(random_.get());

  // 1. Deadline: a spent budget is refused before anything else.
  int64_t deadline_ns, left_ns;
  if (!budget(request, snapshot, now_ns, deadline_ns, left_ns)) {
    service.deadline_skipped.fetch_add(1, std::memory_order_relaxed);
    return refusal(kDeadlinePassed);
  }

  // 2. An injected abort (decided by pick_with_faults()): no backend, never offered to
  // the service (no fusing demand, retry token or in-flight slot; nothing to report).
  if (__builtin_expect(fault != 0, 0) && Pick::is_abort(fault)) {
    const AttemptPolicy& a = snapshot.attempt;
    const bool own = request.timeouts != nullptr;
    Pick aborted(nullptr, nullptr, 0,
                 std::min(own ? to_nanos(request.timeouts->connect) : a.connect_ns, left_ns),
                 std::min(own ? to_nanos(request.timeouts->read) : a.read_ns, left_ns),
                 std::min(own ? to_nanos(request.timeouts->write) : a.write_ns, left_ns),
                 deadline_ns, /*retry_allowed=*/false, a.max_attempts, fault);
    aborted.reported_ = true;  // nothing to report: report() returns at once
    return aborted;
  }

  // 3. Fusing: drop this request with its class's probability; strict timeouts, no retries.
  const bool fusing = service.fuse.fusing.load(std::memory_order_relaxed);
  bool retry_allowed = snapshot.attempt.max_attempts > 1;
  int64_t connect_ns, read_ns, write_ns;
  if (__builtin_expect(fusing, 0)) {
    const int cls = traffic_class(request.priority, request.is_retry);
    service.fuse.count_demand(cls);
    if (request.is_retry) return refusal(kNoRetriesWhileFusing);
    if (service.fuse.pacing.load(std::memory_order_relaxed)
            ? !service.fuse.admit_paced(static_cast<int>(request.priority), now_ns)
            : random.next() < service.fuse.drop[cls].load(std::memory_order_relaxed)) {
      service.fuse.count_fused();
      return refusal(kShed);
    }
    connect_ns = snapshot.attempt.strict_connect_ns;
    read_ns = snapshot.attempt.strict_read_ns;
    write_ns = snapshot.attempt.strict_write_ns;
    retry_allowed = false;
  } else if (request.timeouts != nullptr) {
    connect_ns = to_nanos(request.timeouts->connect);
    read_ns = to_nanos(request.timeouts->read);
    write_ns = to_nanos(request.timeouts->write);
  } else {
    connect_ns = snapshot.attempt.connect_ns;
    read_ns = snapshot.attempt.read_ns;
    write_ns = snapshot.attempt.write_ns;
  }
  // The retry budget: tokens granted each tick from the service's recent requests.
  if (__builtin_expect(request.is_retry, 0) && !service.fuse.take_retry_token()) {
    return refusal(kRetryBudgetSpent);
  }
  connect_ns = std::min(connect_ns, left_ns);
  read_ns = std::min(read_ns, left_ns);
  write_ns = std::min(write_ns, left_ns);

  // 4. Routing: the candidate set.
  const CandidateSet* set = &snapshot.route(request, settings_.self_service, random);
  // A set is empty only while the DNS names it draws on have never resolved.
  if (__builtin_expect(set->size == 0, 0)) {
    if (request.is_retry) service.fuse.return_retry_token();
    return refusal(kNoEndpoints);
  }
  // Only now the CPU shard: a set with endpoints means their records were sized by
  // CpuShards::count(), so ready() reads the final config (see cpu_shard.h).
  const uint32_t thread = thread_shard();
  PickContext context{
      random, cpu_shard(thread), thread,
      now_ns, request.hash_key,  request.hash.has_value() ? &*request.hash : nullptr,
      0};
  if (__builtin_expect(set->panic, 0)) {
    service.panic_picks.fetch_add(1, std::memory_order_relaxed);
  }

  // 5. Balancing, avoiding backends this request already tried (and any a report took
  // out since the snapshot was built: pick_admitted).
  Endpoint* endpoint = pick_admitted(*set->balancer, context, set->size);
  if (__builtin_expect(!request.avoid.empty(), 0)) {
    auto tried = [&](const Endpoint* e) {
      for (std::string_view a : request.avoid) {
        if (a == e->address()) return true;
      }
      return false;
    };
    const uint32_t tries = 2 * static_cast<uint32_t>(set->size) + 8;
    while (tried(endpoint) && ++context.attempt < tries) {
      endpoint = pick_admitted(*set->balancer, context, set->size);
    }
    if (tried(endpoint)) {
      // No retry leaves: the budget token it took goes back.
      if (request.is_retry) service.fuse.return_retry_token();
      return refusal(kEveryBackendTried);
    }
  }
  return Pick(endpoint, endpoint->on_pick(context.shard), context.shard, connect_ns, read_ns,
              write_ns, deadline_ns, retry_allowed, snapshot.attempt.max_attempts, fault);
}

// Out of line so that pick() stays as it was for a service without rules. The decision
// is drawn before pick_in() looks at the deadline: a request refused for its deadline may
// have spent a draw, but is not counted.
ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Pick> ClientCore::pick_with_faults(
    const PickRequest& request, ServiceState& service, const ServiceSnapshot& snapshot) {
  const std::string_view caller = request.caller_service.empty()
                                      ? std::string_view(settings_.self_service)
                                      : request.caller_service;
  const FaultDecision decided = snapshot.faults->decide(request, caller, Random(random_.get()));
  const uint32_t fault = decided.abort_status != 0 ? Pick::abort_fault(decided.abort_status)
                                                   : Pick::delay_fault(decided.delay_ms);
  absl::StatusOr<Pick> pick = pick_in(request, service, snapshot, fault);
  // Counted when the caller gets it: not for a pick refused (deadline, fusing) after all.
  if (fault != 0 && pick.ok()) {
    if (decided.abort_status != 0) {
      service.faults->count_abort();
    } else {
      service.faults->count_delay();
    }
  }
  return pick;
}

// pick_in() for a request that needs more than the short path of pick_from(): out of
// line, so that the short path stays short.
ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Pick> ClientCore::pick_full(
    const PickRequest& request, ServiceState& service, const ServiceSnapshot& snapshot) {
  // An idle service's first pick gives its endpoints their records.
  if (snapshot.checks.load() & ServiceSnapshot::kCold) activate(service, snapshot);
  // Fault injection (chaos drills) is decided out of line too.
  if (snapshot.faults != nullptr) return pick_with_faults(request, service, snapshot);
  return pick_in(request, service, snapshot, /*fault=*/0);
}

namespace {

// Whether a request asks for nothing special (no deadline, not a retry, nothing to avoid,
// no timeouts of its own) of a service that is not fusing and whose snapshot has nothing to
// check (ServiceSnapshot::checks): then pick_in() would come to no more than the
// balancer's choice from the whole set, through tests that all fail.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool plain(const PickRequest& request,
                                               const ServiceState& service,
                                               const ServiceSnapshot& snapshot) {
  // No deadline, read on the seconds alone: besides none (absl::InfiniteFuture()), only
  // instants some 292 billion years ahead have the largest, and budget() takes those for
  // none as well.
  const bool no_deadline =
      absl::time_internal::GetRepHi(absl::time_internal::ToUnixDuration(
          request.deadline.instant().reading())) == std::numeric_limits<int64_t>::max();
  return snapshot.checks.load() == 0 && !request.is_retry && request.timeouts == nullptr &&
         request.avoid.empty() && no_deadline &&
         !service.fuse.fusing.load(std::memory_order_relaxed);
}

}  // namespace

// The request path from the service on, inside the caller's epoch section: a plain
// request (see plain()) gets the balancer's choice, everything else pick_full().
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::StatusOr<Pick> ClientCore::pick_from(
    const PickRequest& request, ServiceState& service) {
  const ServiceSnapshot& snapshot = *service.snapshot.load(std::memory_order_acquire);
  if (__builtin_expect(!plain(request, service, snapshot), 0)) {
    return pick_full(request, service, snapshot);
  }
  const CandidateSet& set = *snapshot.all;
  PickContext context = plain_context(request);
  Endpoint* endpoint = pick_admitted(*set.balancer, context, set.size);
  return make_pick(PlainPick(endpoint, context.shard, snapshot.attempt));
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline PickContext ClientCore::plain_context(
    const PickRequest& request) {
  const uint32_t thread = thread_shard();
  return PickContext{Random(random_.get()),
                     cpu_shard(thread),
                     thread,
                     coarse_.now_ns(),
                     request.hash_key,
                     request.hash.has_value() ? &*request.hash : nullptr,
                     0};
}

// The short path, in an epoch section `section` the caller entered with try_enter() for
// `service` (nullptr: not configured): a plain request of a service whose balancer shows a
// shortcut (round robin, weighted round robin, random) costs loads, the cursor's step or a
// draw, and the pick's count, and makes no call, which keeps the registers it saves few.
// Every other way out ends the section and returns what the next step makes of it:
// `slow()`, the whole path under a Guard from the start, before anything was chosen;
// pick_chosen() once the balancer is to be asked, or its shortcut's choice was not
// admitted. (GCC does not tail-call a function that returns a StatusOr in memory, so those
// are calls, made only off the short path.)
template <typename Slow>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::StatusOr<Pick> ClientCore::pick_short(
    EpochDomain::Record* section, const PickRequest& request, ServiceState* service, Slow slow) {
  if (__builtin_expect(service != nullptr, 1)) {
    const ServiceSnapshot& snapshot = *service->snapshot.load(std::memory_order_acquire);
    // Assigned: the thread has an epoch record (EpochDomain::try_enter()).
    const uint32_t thread = thread_shard_internal::shard;
    if (__builtin_expect(plain(request, *service, snapshot), 1)) {
      const Balancer& balancer = *snapshot.all->balancer;
      Endpoint* endpoint;
      if (balancer.shortcut() == Balancer::Shortcut::kCursor) {
        endpoint = balancer.pick_by_cursor(thread);
      } else {
        // Random: the thread's generator, unless a source is injected or it is not seeded
        // yet (both through pick_chosen(), which draws as Random does).
        fast_random_internal::Xoshiro256& generator = fast_random_internal::generator;
        if (balancer.shortcut() != Balancer::Shortcut::kUniform || random_.get() != nullptr ||
            !generator.seeded) {
          return pick_chosen(section, request, snapshot, nullptr);
        }
        endpoint = balancer.pick_uniform(generator.next());
      }
      if (__builtin_expect(endpoint->admission() != 0, 0)) {
        return pick_chosen(section, request, snapshot, endpoint);
      }
      const PlainPick pick(endpoint, cpu_shard(thread), snapshot.attempt);
      EpochDomain::leave(section);
      return make_pick(pick);
    }
  }
  EpochDomain::leave(section);
  return slow();
}

// pick_short() once the balancer is to be asked (`refused` nullptr) or its shortcut's
// choice `refused` was not admitted: the rest of pick_from()'s plain path, then the section
// ends.
ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Pick> ClientCore::pick_chosen(
    EpochDomain::Record* section, const PickRequest& request, const ServiceSnapshot& snapshot,
    Endpoint* refused) {
  // The section ends however this returns: drawing may throw (a RandomSource of the
  // caller's, std::random_device seeding the thread's generator).
  const EpochDomain::Leave leave(section);
  const CandidateSet& set = *snapshot.all;
  PickContext context = plain_context(request);
  Endpoint* endpoint = refused == nullptr ? pick_admitted(*set.balancer, context, set.size)
                                          : pick_again(*set.balancer, context, set.size, refused);
  return make_pick(PlainPick(endpoint, context.shard, snapshot.attempt));
}

ABSL_ATTRIBUTE_NOINLINE void ClientCore::report_unusual_latency(const Pick& pick,
                                                                const Outcome& outcome) {
  pick.reported_ = true;
  pick.endpoint_->on_report(pick.hold_, pick.shard_, outcome.classify(),
                            to_latency_micros(outcome.latency), coarse_.tick());
}

ABSL_ATTRIBUTE_NOINLINE void ClientCore::activate(ServiceState& service,
                                                  const ServiceSnapshot& seen) {
  absl::MutexLock lock(&service.activation_mu);
  const ServiceSnapshot& current = *service.snapshot.load(std::memory_order_acquire);
  // `seen` may be older than `current` (published meanwhile): the pick chooses from it.
  for (const EndpointRef& e : seen.endpoints->endpoints) e->activate(domain_);
  if (&current != &seen) {
    for (const EndpointRef& e : current.endpoints->endpoints) e->activate(domain_);
  }
  service.hot = true;
  service.fuse.idle.store(false, std::memory_order_release);  // the fuse tick reads them again
  current.checks.clear(ServiceSnapshot::kCold);
  seen.checks.clear(ServiceSnapshot::kCold);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Pick> ClientCore::not_configured(const PickRequest& request,
                                                                        std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("PickRequest.service is empty");
  if (sync_ != nullptr) sync_->want(av(name));  // subscribes in the background
  std::string backup;                           // why no backup agent chose, if one was asked
  if (remote_ != nullptr) {
    PickRequest forwarded = request;
    forwarded.service = name;
    absl::StatusOr<RemotePicks::Choice> got = remote_->pick(forwarded, cpu_shard(thread_shard()));
    if (got.ok()) return remote_pick(*got);
    // An agent's refusal stands (shed, deadline spent, ...), and so does an error of its
    // own (a wrong token, a request it finds invalid); "not configured" there too, and no
    // agent answering, leave this client's own refusal below, saying so.
    const Refusal why = refusal_of(got.status());
    if (why != Refusal::kNone && why != Refusal::kNotConfigured) return got.status();
    if (why == Refusal::kNone && got.status().code() != absl::StatusCode::kUnavailable) {
      return got.status();
    }
    backup = absl::StrCat(" (backup agents: ", got.status().message(), ")");
  }
  return with_refusal(
      absl::NotFoundError(absl::StrCat("service \"", av(name), "\" is not configured", backup)),
      Refusal::kNotConfigured);
}

Pick ClientCore::remote_pick(const RemotePicks::Choice& choice) {
  const AgentPick& p = choice.pick;
  const int64_t deadline_ns =
      p.deadline.is_none() ? kInfiniteNs : to_nanos(p.deadline.instant().reading());
  const uint32_t fault =
      p.fault.abort_status != 0
          ? Pick::abort_fault(std::clamp<uint16_t>(p.fault.abort_status, 200, 599))
          : Pick::delay_fault(static_cast<uint32_t>(std::clamp<int64_t>(
                absl::ToInt64Milliseconds(p.fault.delay), 0, (int64_t{1} << 22) - 1)));
  Pick pick(choice.endpoint, choice.hold, choice.shard, to_nanos(p.timeouts.connect),
            to_nanos(p.timeouts.read), to_nanos(p.timeouts.write), deadline_ns, p.retry_allowed,
            std::clamp<uint32_t>(p.max_attempts, 1, 10), fault);
  if (choice.endpoint == nullptr) pick.reported_ = true;  // an abort: nothing to report
  return pick;
}

// pick()'s whole path under a Guard: what pick_short() falls back to. A service this
// client lacks is handled after the section: asking a backup agent takes a round trip.
ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Pick> ClientCore::pick_named_guarded(
    const PickRequest& request) {
  {
    EpochDomain::Guard guard(domain_);
    ServiceState* service = registry_.load(std::memory_order_acquire)->find(request.service);
    if (__builtin_expect(service != nullptr, 1)) return pick_from(request, *service);
  }
  return not_configured(request, request.service);
}

ABSL_ATTRIBUTE_NOINLINE absl::StatusOr<Pick> ClientCore::pick_handle_guarded(
    const ServiceHandle& handle, const PickRequest& request) {
  const ServiceSlot* slot = handle.slot_;
  {
    EpochDomain::Guard guard(domain_);
    ServiceState* service = slot->state.load(std::memory_order_acquire);
    if (__builtin_expect(service != nullptr, 1)) return pick_from(request, *service);
  }
  return not_configured(request, slot->name);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::StatusOr<Pick> ClientCore::pick_named(
    const PickRequest& request) {
  EpochDomain::Record* section = domain_.try_enter();
  if (__builtin_expect(section == nullptr, 0)) return pick_named_guarded(request);
  return pick_short(section, request,
                    registry_.load(std::memory_order_acquire)->find(request.service),
                    [&] { return pick_named_guarded(request); });
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::StatusOr<Pick> ClientCore::pick_handle(
    const ServiceHandle& handle, const PickRequest& request) {
  const ServiceSlot* slot = handle.slot_;
  if (__builtin_expect(slot == nullptr || slot->owner != this, 0)) return bad_handle(handle);
  EpochDomain::Record* section = domain_.try_enter();
  if (__builtin_expect(section == nullptr, 0)) return pick_handle_guarded(handle, request);
  return pick_short(section, request, slot->state.load(std::memory_order_acquire),
                    [&] { return pick_handle_guarded(handle, request); });
}

// A request that asks for nothing (every field its default): a constant, so that pick_from()
// folds its tests of the request away.
inline constexpr PickRequest kNothingAsked{};

absl::StatusOr<Pick> ClientCore::pick(const PickRequest& request) { return pick_named(request); }
absl::StatusOr<Pick> ClientCore::pick(const ServiceHandle& handle, const PickRequest& request) {
  return pick_handle(handle, request);
}
absl::StatusOr<Pick> ClientCore::pick(const ServiceHandle& handle) {
  return pick_handle(handle, kNothingAsked);
}

ABSL_ATTRIBUTE_NOINLINE absl::Status ClientCore::bad_handle(const ServiceHandle& handle) const {
  if (!handle) return absl::InvalidArgumentError("pick: the ServiceHandle names no service");
  return absl::InvalidArgumentError(absl::StrCat("pick: the ServiceHandle of \"", av(handle.name()),
                                                 "\" belongs to another Client"));
}

absl::StatusOr<Outcome> ClientCore::call(const PickRequest& request,
                                         absl::FunctionRef<Outcome(const Pick&)> attempt) {
  return call_with(
      request, attempt, [&](const PickRequest& r) { return pick(r); },
      [&] { return registry_.load(std::memory_order_acquire)->find(request.service); });
}

absl::StatusOr<Outcome> ClientCore::call(const ServiceHandle& handle, const PickRequest& request,
                                         absl::FunctionRef<Outcome(const Pick&)> attempt) {
  return call_with(
      request, attempt, [&](const PickRequest& r) { return pick(handle, r); },
      [&]() -> ServiceState* {
        return handle.slot_ != nullptr ? handle.slot_->state.load(std::memory_order_acquire)
                                       : nullptr;
      });
}

template <typename PickFn, typename FindFn>
absl::StatusOr<Outcome> ClientCore::call_with(const PickRequest& request,
                                              absl::FunctionRef<Outcome(const Pick&)> attempt,
                                              PickFn pick_one, FindFn find_service) {
  PickRequest req = request;
  // Backends tried so far; their Picks stay alive so the addresses stay valid.
  std::optional<Pick> kept[10];  // max_attempts is at most 10
  std::string_view tried[10];
  size_t n_tried = 0;
  std::optional<Outcome> last;
  for (uint32_t attempt_no = 0;; ++attempt_no) {
    req.is_retry = request.is_retry || attempt_no > 0;
    req.avoid = absl::MakeConstSpan(tried, n_tried);
    absl::StatusOr<Pick> pick = pick_one(req);
    if (!pick.ok()) {
      if (last.has_value()) return *last;  // a refused retry: the failure stands
      return pick.status();
    }
    // An injected abort is the request's answer: no backend to attempt, nothing to report
    // (only first attempts are faulted, so `last` is empty here).
    if (const uint16_t status = pick->fault().abort_status; status != 0) {
      return Outcome::http(status, absl::ZeroDuration());
    }
    const Outcome outcome = attempt(*pick);
    report(*pick, outcome);
    last = outcome;
    const bool transport_failure = outcome.transport != Transport::kOk;
    // The service's current limit; a backup agent's pick (no config here) carries its own.
    uint32_t max_attempts = pick->max_attempts();
    {
      EpochDomain::Guard guard(domain_);
      if (ServiceState* s = find_service()) {
        max_attempts = s->snapshot.load(std::memory_order_acquire)->attempt.max_attempts;
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

// --- The control path ---

absl::Status ClientCore::apply(const v1::ServiceConfig& service) {
  ConfigUpdate update;
  *update.config.add_services() = service;
  const UpdateResult result = deliver(update);
  return result.rejected.empty() ? result.status : result.rejected[0].second;
}

absl::Status ClientCore::apply(const v1::ClientConfig& config) {
  ConfigUpdate update;
  update.complete = true;
  update.all_or_nothing = true;
  update.lent = &config;  // parsed where it is, not copied
  return deliver(update).status;
}

absl::Status ClientCore::apply(const v1::ClientConfig& config, const ApplyOptions& options) {
  const RemovalLimits limits = removal_limits(options);
  if (absl::Status s = validate_removal_limits(limits, "ApplyOptions"); !s.ok()) return s;
  ConfigUpdate update;
  update.complete = true;
  update.all_or_nothing = true;
  update.lent = &config;
  update.removal_limits = limits;
  return deliver(update).status;
}

absl::Status ClientCore::remove(std::string_view service) {
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    const std::string name(service);
    if (!services_.contains(name)) {
      return absl::NotFoundError(absl::StrCat("service \"", name, "\" is not configured"));
    }
    remove_locked(name, /*removed_at=*/0, events);
    publish_registry_locked();
  }
  if (sync_ != nullptr) sync_->unwant(av(service));  // not installed again until wanted
  emit(events);
  domain_.reclaim();
  return absl::OkStatus();
}

absl::Status ClientCore::wait_for_config(std::string_view service, absl::Duration timeout) {
  if (service.empty()) return absl::InvalidArgumentError("wait_for_config: empty service name");
  const absl::Time deadline = absl::Now() + timeout;
  if (sync_ != nullptr) sync_->want(av(service));
  for (;;) {
    {
      EpochDomain::Guard guard(domain_);
      if (registry_.load(std::memory_order_acquire)->find(service) != nullptr) {
        return absl::OkStatus();
      }
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "service \"", av(service), "\" not configured after ", absl::FormatDuration(timeout),
      sync_ != nullptr ? absl::StrCat("; sync: ", sync_->status_json()) : "; no sync configured"));
}

absl::StatusOr<ServiceHandle> ClientCore::service(std::string_view name) {
  if (absl::Status s = check_service_name(name); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("service: ", s.message()));
  }
  ServiceHandle handle;
  bool configured;
  {
    absl::MutexLock lock(&mu_);
    auto [it, made] = slots_.try_emplace(std::string(name), nullptr);
    if (made) {
      it->second = new ServiceSlot(this, it->first);
      auto state = services_.find(it->first);
      it->second->state.store(state != services_.end() ? state->second.get() : nullptr,
                              std::memory_order_release);
    }
    ref_slot(it->second);
    handle = ServiceHandle(it->second);
    configured = it->second->state.load(std::memory_order_relaxed) != nullptr;
  }
  if (!configured && sync_ != nullptr) sync_->want(av(name));  // subscribes in the background
  return handle;
}

absl::Status ClientCore::attach(std::unique_ptr<ConfigSource> source) {
  absl::MutexLock lock(&sources_mu_);
  ConfigSource& s = *source;
  sources_.push_back(std::move(source));
  return s.start(*this);
}

uint64_t ClientCore::global_version() const {
  absl::MutexLock lock(&mu_);
  return versions_.global();
}

std::shared_ptr<const ServicePolicy> ClientCore::policy(std::string_view service) const {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(av(service));
  if (it == services_.end()) return nullptr;
  return it->second->snapshot.load(std::memory_order_relaxed)->policy;
}

UpdateResult ClientCore::deliver(const ConfigUpdate& update) {
  UpdateResult result;
  std::vector<Event> events;
  ParsedUpdate parsed = parse_update(update, result);  // outside the lock: the slow part
  if (result.status.ok()) {
    absl::MutexLock lock(&mu_);
    result.status = install_locked(update, parsed, result, events);
  }
  dns_->tick();  // the new DNS names' first lookups, with the lock released
  if (!result.status.ok()) {
    events.push_back(
        make_event(EventType::kConfigRejected, "", 0, std::string(result.status.message())));
  }
  for (const auto& [name, status] : result.rejected) {
    uint64_t version = 0;  // the rejected config's, or the rejected removal's
    for (const v1::ServiceConfig& s : update.content().services()) {
      if (s.name() == name) version = s.version();
    }
    for (const ServiceRemoval& r : update.removals) {
      if (r.name == name) version = r.version;
    }
    events.push_back(
        make_event(EventType::kConfigRejected, name, version, std::string(status.message())));
  }
  emit(events);
  domain_.reclaim();
  return result;
}

absl::Status ClientCore::install_locked(const ConfigUpdate& update, const ParsedUpdate& parsed,
                                        UpdateResult& result, std::vector<Event>& events) {
  // Only a complete update asks which services it drops: an incremental one costs the
  // services it names, not the fleet.
  std::vector<std::string> configured;
  if (update.complete) {
    configured.reserve(services_.size());
    for (const auto& [name, state] : services_) configured.push_back(name);
  }
  const VersionBook::Verdict verdict = versions_.judge(
      update, parsed, [this](const std::string& name) { return policy_locked(name); }, configured,
      result);
  if (!verdict.status.ok()) return verdict.status;
  if (update.complete) {
    // Before anything changes: one removing too many services (removal_limits.h) is refused.
    std::vector<std::string> removing = verdict.gone;
    absl::flat_hash_set<std::string> counted(removing.begin(), removing.end());
    for (size_t i = 0; i < update.removals.size(); ++i) {
      const std::string& name = update.removals[i].name;
      if (verdict.remove[i] && services_.contains(name) && counted.insert(name).second) {
        removing.push_back(name);
      }
    }
    absl::Status allowed = check_removal_limits(
        update.removal_limits.value_or(removal_limits(settings_.apply_defaults)), services_.size(),
        std::move(removing));
    if (!allowed.ok()) return allowed;
  }
  for (size_t i = 0; i < parsed.services.size(); ++i) {
    if (!verdict.install[i]) continue;
    install_service_locked(parsed.services[i]->policy, parsed.services[i]->endpoints, events);
  }
  for (size_t i = 0; i < update.removals.size(); ++i) {
    const std::string& name = update.removals[i].name;
    if (verdict.remove[i] && services_.contains(name)) {
      remove_locked(name, update.removals[i].version, events);
    }
  }
  for (const std::string& name : verdict.gone) remove_locked(name, update.global_version, events);
  versions_.record(update, parsed, verdict);
  // Once for the whole update, and only if it added or removed a service: the table maps
  // names to states, which an update of a known service keeps.
  if (registry_stale_) publish_registry_locked();
  if (update.complete || update.replace_idc_map) {
    refresh_env_locked(update.content().idc_map(), events);
  }
  return absl::OkStatus();
}

void ClientCore::install_service_locked(std::shared_ptr<const ServicePolicy> policy,
                                        const ParsedEndpoints& parsed, std::vector<Event>& events) {
  auto it = services_.find(policy->name);
  if (it == services_.end()) {
    auto owned = std::make_unique<ServiceState>(policy->name);
    owned->fuse.idle.store(true, std::memory_order_relaxed);  // no records until picked
    registry_stale_ = true;
    owned->ban_id = bans_->add_service(policy->name, &owned->fuse.idle);
    owned->fuse_id = fuses_->add_service(policy->name, &owned->fuse);
    it = services_.emplace(policy->name, std::move(owned)).first;
    by_name_.emplace(it->first, it->second.get());
  }
  ServiceState& state = *it->second;
  const bool dns = !policy->destinations.empty();
  if (dns || state.dns_id != 0) {
    if (state.dns_id == 0) state.dns_id = dns_->add_service(policy->name);
    // Names it had keep their answers; new ones are looked up now (answered on the
    // resolver's thread, which waits for mu_ and merges them in).
    dns_->update_service(state.dns_id, policy->destinations, policy->version);
  }
  if (!dns) {
    state.configured.clear();
    compile_endpoints_locked(state, std::move(policy), parsed, /*announce=*/true, events);
    return;
  }
  state.configured = parsed.specs;
  merge_and_compile_locked(state, std::move(policy), /*announce=*/true, events);
}

void ClientCore::merge_and_compile_locked(ServiceState& state,
                                          std::shared_ptr<const ServicePolicy> policy,
                                          bool announce, std::vector<Event>& events) {
  const MergedEndpoints merged =
      merge_endpoints(*policy, state.configured, dns_->endpoints(state.dns_id));
  if (merged.dropped != 0) {
    events.push_back(
        make_event(EventType::kDnsFailed, state.name, policy->version,
                   absl::StrCat("the DNS answers do not fit the service: ", merged.dropped,
                                " of their endpoints left out (", merged.why, ")")));
  }
  compile_endpoints_locked(state, std::move(policy), merged.endpoints, announce, events);
}

void ClientCore::on_destinations_changed(const std::string& service, std::vector<Event>& events) {
  absl::MutexLock lock(&mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return;  // removed meanwhile
  ServiceState& state = *it->second;
  std::shared_ptr<const ServicePolicy> policy =
      state.snapshot.load(std::memory_order_relaxed)->policy;
  if (policy->destinations.empty()) return;  // a version without names came meanwhile
  merge_and_compile_locked(state, std::move(policy), /*announce=*/false, events);
}

void ClientCore::compile_endpoints_locked(ServiceState& state,
                                          std::shared_ptr<const ServicePolicy> policy,
                                          const ParsedEndpoints& parsed, bool announce,
                                          std::vector<Event>& events) {
  const std::vector<EndpointSpec>& endpoints = parsed.specs;
  // Before the first snapshot with fault rules is published: pick counts through it.
  if (!policy->faults.empty() && state.faults == nullptr) {
    state.faults = std::make_unique<FaultCounters>();
  }
  const ServiceSnapshot* previous = state.snapshot.load(std::memory_order_relaxed);
  EndpointUpdate update = build_endpoints(endpoints, previous ? previous->endpoints.get() : nullptr,
                                          bans_->suspects(), settings_.latency_histograms);
  bans_->update_service(state.ban_id, policy->ban, policy->version, update.set, update.replaced,
                        events);
  fuses_->update_service(state.fuse_id, policy->fuse, policy->retry, policy->version, update.set);
  const size_t n = endpoints.size();
  const uint64_t version = policy->version;
  const std::string_view name = policy->balancing.policy->name;
  // A new version counts its route matches afresh; an endpoint update keeps them.
  const bool same_version = previous != nullptr && previous->policy == policy;
  const absl::Time applied_at = same_version ? previous->applied_at : clock_->wall_now();
  publish_locked(state,
                 compile_snapshot(std::move(policy), std::move(update.set), parsed.layout, env_,
                                  bans_->out_of_rotation(state.ban_id),
                                  same_version ? previous->route_counters : nullptr, applied_at),
                 events);
  for (EndpointRef& e : update.departed) state.departed.add(std::move(e), coarse_.now_ns());
  state.departed.expire(coarse_.now_ns());
  if (!announce) return;
  events.push_back(make_event(EventType::kConfigApplied, state.name, version,
                              absl::StrCat(n, " endpoints, policy ", av(name))));
}

absl::Status ClientCore::update_endpoints(
    std::string_view service, const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints) {
  std::shared_ptr<const ServicePolicy> policy;
  {
    absl::MutexLock lock(&mu_);
    auto it = services_.find(av(service));
    if (it == services_.end()) {
      return absl::NotFoundError(absl::StrCat("service \"", av(service), "\" is not configured"));
    }
    policy = it->second->snapshot.load(std::memory_order_relaxed)->policy;
  }
  absl::StatusOr<ParsedEndpoints> specs = parse_endpoints(*policy, endpoints);
  if (!specs.ok()) return specs.status();  // outside the lock: the slow part
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    auto it = services_.find(av(service));
    if (it == services_.end() ||
        it->second->snapshot.load(std::memory_order_relaxed)->policy != policy) {
      return absl::AbortedError("the service's config changed meanwhile; read it again");
    }
    install_service_locked(std::move(policy), *specs, events);
  }
  dns_->tick();
  emit(events);
  domain_.reclaim();
  return absl::OkStatus();
}

const ServicePolicy* ClientCore::policy_locked(const std::string& name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr
                               : it->second->snapshot.load(std::memory_order_relaxed)->policy.get();
}

void ClientCore::remove_locked(const std::string& name, uint64_t removed_at,
                               std::vector<Event>& events) {
  auto it = services_.find(name);
  ServiceState* state = it->second.release();
  by_name_.erase(name);
  services_.erase(it);
  bans_->remove_service(state->ban_id);
  fuses_->remove_service(state->fuse_id);
  if (state->dns_id != 0) dns_->remove_service(state->dns_id);
  // Still reachable through the published registry: retired by the next publication.
  removed_unpublished_.push_back(state);
  registry_stale_ = true;
  const uint64_t version = state->snapshot.load(std::memory_order_relaxed)->policy->version;
  events.push_back(
      make_event(EventType::kServiceRemoved, name, removed_at != 0 ? removed_at : version, ""));
}

void ClientCore::publish_locked(ServiceState& state, std::unique_ptr<ServiceSnapshot> next,
                                std::vector<Event>& events) {
  ServiceSnapshot* before = state.snapshot.load(std::memory_order_relaxed);
  if (before != nullptr) {
    for (const AffinityChange& c : affinity_changes(named_sets(*before->all, before->routes),
                                                    named_sets(*next->all, next->routes))) {
      events.push_back(make_event(
          c.widened ? EventType::kIdcWiden : EventType::kIdcNarrow, state.name,
          next->policy->version,
          absl::StrCat(av(c.key), ": ", c.set->local_usable, " of ", c.set->local_size,
                       " endpoints usable in logical IDC \"", next->env->caller.logical_idc, "\"; ",
                       c.widened ? "using every IDC" : "back to the local IDC")));
    }
  }
  {
    // A hot service's new endpoints get their records before any pick can see them; an
    // idle service's snapshot sends its first pick to activate().
    absl::MutexLock lock(&state.activation_mu);
    if (state.hot) {
      for (const EndpointRef& e : next->endpoints->endpoints) e->activate(domain_);
    } else {
      next->checks.set(ServiceSnapshot::kCold);
    }
    state.snapshot.store(next.release(), std::memory_order_release);
  }
  ++state.publications;
  if (before != nullptr) domain_.retire(before);
}

void ClientCore::on_bans_changed(absl::Span<const std::string> services,
                                 std::vector<Event>& events) {
  // Each service's new candidate sets are built off the config mutex, from a copy of its
  // snapshot (shared pointers: it stays valid whatever is published meanwhile), and
  // published under it only if nothing was published and no ban changed in between;
  // otherwise built again. After a few lost races, built under the mutex.
  constexpr int kOptimisticTries = 3;
  for (const std::string& name : services) {
    for (int attempt = 0;; ++attempt) {
      std::optional<ServiceSnapshot> base;
      std::vector<bool> out;
      uint64_t publications = 0;
      {
        absl::MutexLock lock(&mu_);
        auto it = services_.find(name);
        if (it == services_.end()) break;  // removed meanwhile
        ServiceState& state = *it->second;
        const ServiceSnapshot& current = *state.snapshot.load(std::memory_order_relaxed);
        out = bans_->out_of_rotation(state.ban_id);
        if (out == current.out) break;  // nothing changed, or published already
        if (attempt >= kOptimisticTries) {
          publish_locked(state, recompile(current, std::move(out)), events);
          break;
        }
        base.emplace(current);
        publications = state.publications;
      }
      std::unique_ptr<ServiceSnapshot> next = recompile(*base, out);
      absl::MutexLock lock(&mu_);
      auto it = services_.find(name);
      if (it == services_.end()) break;
      ServiceState& state = *it->second;
      if (state.publications != publications || bans_->out_of_rotation(state.ban_id) != out) {
        continue;  // lost a race: build from what is in force now
      }
      publish_locked(state, std::move(next), events);
      break;
    }
  }
}

void ClientCore::refresh_env_locked(const google::protobuf::Map<std::string, std::string>& idc_map,
                                    std::vector<Event>& events) {
  std::map<std::string, std::string> now(env_->idc_map.begin(), env_->idc_map.end());
  std::map<std::string, std::string> next(idc_map.begin(), idc_map.end());
  if (now == next) return;
  env_ = make_env(settings_.self_service, settings_.self_idc, idc_map);
  // Every service's IDC affinity may change: recompile the ones not built with it yet.
  for (auto& [name, state] : services_) {
    const ServiceSnapshot& current = *state->snapshot.load(std::memory_order_relaxed);
    if (current.env == env_) continue;
    publish_locked(*state, recompile(current, bans_->out_of_rotation(state->ban_id), env_), events);
  }
}

void ClientCore::publish_registry_locked() {
  registry_stale_ = false;
  std::vector<std::pair<std::string, ServiceState*>> entries;
  entries.reserve(services_.size());
  for (const auto& [name, state] : services_) entries.emplace_back(name, state.get());
  const ServiceTable* old =
      registry_.exchange(new ServiceTable(std::move(entries)), std::memory_order_acq_rel);
  // Handles see what the registry does; a removed service's state is unpublished from
  // its slot here too, before it is retired below.
  for (const auto& [name, slot] : slots_) {
    auto it = services_.find(name);
    slot->state.store(it != services_.end() ? it->second.get() : nullptr,
                      std::memory_order_release);
  }
  // Unpublished now, so retire: the old table and the services removed since it was built.
  domain_.retire(const_cast<ServiceTable*>(old));
  for (ServiceState* state : removed_unpublished_) domain_.retire(state);
  removed_unpublished_.clear();
}

void ClientCore::housekeeping() {
  coarse_.refresh();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, state] : services_) state->departed.expire(coarse_.now_ns());
    // A slot only the map holds has no handle left, and none can appear but through
    // service(), which takes mu_: it can go.
    absl::erase_if(slots_, [](const auto& entry) {
      if (entry.second->refs.load(std::memory_order_acquire) != 1) return false;
      delete entry.second;
      return true;
    });
  }
  release_idle_services();
  domain_.reclaim();
  Endpoint::sweep_graveyard();  // endpoints the last Picks have let go of since
}

void ClientCore::release_idle_services() {
  if (settings_.idle_release <= absl::ZeroDuration()) return;
  const int64_t now = coarse_.now_ns();
  const int64_t idle_ns = absl::ToInt64Nanoseconds(settings_.idle_release);
  // The check reads every shard of every endpoint in use, under mu_: a quarter of the idle
  // time apart is precise enough (the default, 10 min: once a second; never more often
  // than housekeeping runs).
  const int64_t period_ns = std::min<int64_t>(idle_ns / 4, 1'000'000'000);
  if (now - last_idle_check_ns_ < period_ns) return;
  last_idle_check_ns_ = now;
  std::vector<std::string> cooling;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, state] : services_) {
      absl::MutexLock hot_lock(&state->activation_mu);
      if (!state->hot) {
        // Endpoints a Pick held at the release: folded once it let go. No pick can start
        // on them (kCold stays set while the service is not hot; the grace was waited).
        if (!state->fuse.idle.load(std::memory_order_relaxed)) release_held_locked(*state);
        continue;
      }
      const ServiceSnapshot& snapshot = *state->snapshot.load(std::memory_order_relaxed);
      uint64_t activity = 0;
      for (const EndpointRef& e : snapshot.endpoints->endpoints) activity += e->activity();
      if (activity != state->activity || state->active_at_ns == 0) {
        state->activity = activity;
        state->active_at_ns = now;
        continue;
      }
      if (now - state->active_at_ns < idle_ns) continue;
      // From here on a pick goes to activate(), which needs this mutex.
      state->hot = false;
      state->active_at_ns = 0;
      snapshot.checks.set(ServiceSnapshot::kCold);
      cooling.push_back(name);
    }
  }
  if (cooling.empty()) return;
  // Picks that read a snapshot before it was marked may still be on their way to the
  // records: wait until every such one has left (each is short: pick holds no lock).
  domain_.synchronize();
  absl::MutexLock lock(&mu_);
  for (const std::string& name : cooling) {
    auto it = services_.find(name);
    if (it == services_.end()) continue;  // removed meanwhile
    ServiceState& state = *it->second;
    absl::MutexLock hot_lock(&state.activation_mu);
    if (state.hot) continue;  // picked again meanwhile
    // Every snapshot published since is marked too (publish_locked); an endpoint a Pick
    // still holds keeps its records until the service is picked and goes idle again.
    release_held_locked(state);
  }
}

void ClientCore::release_held_locked(ServiceState& state) {
  const ServiceSnapshot& snapshot = *state.snapshot.load(std::memory_order_relaxed);
  bool all = true;
  for (const EndpointRef& e : snapshot.endpoints->endpoints) {
    e->release_records(domain_);
    all = all && !e->live();
  }
  if (all) state.fuse.idle.store(true, std::memory_order_release);
}

Event ClientCore::make_event(EventType type, const std::string& service, uint64_t version,
                             std::string detail) {
  return Event{type, service, version, std::move(detail), clock_->wall_now()};
}

void ClientCore::emit(std::vector<Event>& events) {
  if (settings_.on_event) {
    for (const Event& e : events) settings_.on_event(e);
  }
  events.clear();
}

}  // namespace ufc::internal

namespace ufc {

// The request path's public face, here rather than in client.cc so that each call inlines
// what it forwards to.
absl::StatusOr<Pick> Client::pick(const PickRequest& request) { return core_->pick_named(request); }
absl::StatusOr<Pick> Client::pick(const ServiceHandle& service, const PickRequest& request) {
  return core_->pick_handle(service, request);
}
absl::StatusOr<Pick> Client::pick(const ServiceHandle& service) {
  return core_->pick_handle(service, internal::kNothingAsked);
}
void Client::report(const Pick& pick, const Outcome& outcome) { core_->report(pick, outcome); }

}  // namespace ufc
