// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/dns/dns_manager.h: the DNS destinations of every service of a client — when each
// name is looked up, what its last good answer is, and when an answer may change it.

#ifndef UFC_DNS_DNS_MANAGER_H_
#define UFC_DNS_DNS_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/dns/destination_policy.h"
#include "src/stats/client_stats.h"
#include "ufc/clock.h"
#include "ufc/event.h"
#include "ufc/executor.h"
#include "ufc/resolver.h"

namespace ufc::internal {

using DnsServiceId = uint32_t;  // 0: none

// The endpoints an answer gives for `name`: kAddress, each address at the name's port
// and weight; kSrv, the usable records (an IP and a port) of the lowest priority among
// them, each address at the record's port and weight (srv_endpoint_weight). Addresses are
// canonical (inet_ntop's form; what is not an IP literal is dropped), sorted by (ip, port),
// each (ip, port) once (with the largest weight given). NOT_FOUND when nothing usable is
// left; RESOURCE_EXHAUSTED past kMaxDnsEndpointsPerName.
absl::StatusOr<std::vector<DnsEndpoint>> endpoints_of(const DnsName& name,
                                                      const std::vector<DnsRecord>& records);

// DnsManager: per service, per name, the lookup schedule and the last good answer.
//
// Lookups run on the Resolver (asynchronous; its answers arrive on its thread). Each name
// is looked up when its service is installed (a name the service had before keeps its
// answer and schedule), then again after clamp(TTL, min_refresh, refresh_interval) minus
// up to `jitter` of it; a failed lookup is retried after min_refresh, doubling up to
// refresh_interval. A good answer that differs from the last good one replaces it, unless
// it would remove more than max_removal_share of the name's endpoints at once: then it is
// held until the next lookup, and applied only if that one gives the same endpoints. A
// bad answer (any status but OK) changes nothing. The Listener hears of every change, and
// rebuilds the service's endpoint set from endpoints().
//
// Events: kDnsChanged (what was added and removed), kDnsHeld, kDnsFailed (the first bad
// answer of a streak: the name keeps its last good endpoints, or has none yet),
// kDnsRecovered (a good answer after a streak).
//
// Time and timers are injected (Clock, Executor), and the resolver: tests drive it on
// simulated time with a scripted Resolver. Thread-safety: every method may be called
// from any thread; it calls out (Listener, the event callback, the resolver) without its
// mutex held. An answer reaches the Listener under the answer gate, which stop() waits
// for: call stop() (or destroy the manager) with none of the owner's locks held. Lock
// order: the owner's lock, then this manager's.
class DnsManager {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The DNS endpoints of `service` changed: rebuild its endpoint set from endpoints().
    // Called on the resolver's thread (the executor's, when no resolver could be made),
    // under the answer gate, never after stop() returns. Events it causes go to
    // `events`, after the DNS ones.
    virtual void on_destinations_changed(const std::string& service,
                                         std::vector<Event>& events) = 0;
  };

  struct Options {
    Clock* clock = nullptr;        // required
    Executor* executor = nullptr;  // runs the schedule; required
    // The resolver, or how to make one when the first name needs it (the client's
    // c-ares resolver is created only for a client that has DNS destinations). A factory
    // that fails makes every lookup fail with its status.
    std::shared_ptr<Resolver> resolver;
    std::function<absl::StatusOr<std::shared_ptr<Resolver>>()> make_resolver;
    Listener* listener = nullptr;                  // optional
    EventCallback on_event;                        // optional
    absl::Duration tick = absl::Milliseconds(50);  // how often due lookups are started
    uint64_t seed = 0;                             // the jitter's; 0: from the clock
    // A lookup that has not answered for this long is abandoned and started again (a
    // resolver that lost it must not freeze the name): longer than the resolver's own
    // worst case.
    absl::Duration lookup_grace = absl::Seconds(60);
  };

  // A factory that failed is tried again after this long.
  static constexpr absl::Duration kResolverRetry = absl::Seconds(10);

  explicit DnsManager(Options options);
  // stop() cancels the timer and closes the answer gate, waiting for an answer being
  // handled; later answers are dropped. Idempotent.
  void stop();
  ~DnsManager();  // stop(), then the resolver it made goes
  DnsManager(const DnsManager&) = delete;
  DnsManager& operator=(const DnsManager&) = delete;

  DnsServiceId add_service(std::string name);
  // update_service() installs a version of the service's destinations: names that stay
  // (DnsName::key) keep their answer, counts and schedule (a schedule past the new
  // refresh_interval is brought in; a name whose port, type or family changed keeps its
  // last good endpoints, re-ported, and is looked up again); new names are due now; the
  // rest go. It starts no lookup (the owner calls it under its lock): tick() does, which
  // the owner calls once its lock is released.
  void update_service(DnsServiceId id, const DestinationPolicy& policy, uint64_t version);
  void remove_service(DnsServiceId id);

  // The last good endpoints of each name of the service, in the order of the policy last
  // installed (empty for a name that never resolved).
  std::vector<std::vector<DnsEndpoint>> endpoints(DnsServiceId id) const;
  // Why a service with destinations has no endpoint from them, for a refusal: "" when
  // some name has resolved.
  std::string unresolved_reason(DnsServiceId id) const;
  std::vector<DnsNameStats> stats(DnsServiceId id) const;

  // Starts the lookups that are due. The executor runs it every Options::tick (from the
  // first add_service on); call it with no lock of the owner's held.
  void tick();

 private:
  struct Gate;
  struct Name;
  struct Service;
  struct Lookup {
    DnsServiceId service;
    uint64_t token;
    DnsQuery query;
  };

  // Due lookups of `s`, marked in flight, into `out`.
  void collect_due_locked(DnsServiceId id, Service& s, absl::Time now, std::vector<Lookup>& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void start(std::vector<Lookup> lookups) ABSL_LOCKS_EXCLUDED(mu_);
  // An answer, under the gate; the events it causes (delivered by the caller once the
  // gate is released) go to `events`.
  void on_answer(DnsServiceId id, uint64_t token, DnsAnswer answer, std::vector<Event>& events)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration jittered_locked(const Service& s, absl::Duration d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<Resolver> resolver();
  Event make_event(EventType type, const Service& s, std::string detail);

  Options options_;
  std::shared_ptr<Gate> gate_;
  absl::Mutex resolver_mu_;  // not mu_: making a resolver may take a while
  std::shared_ptr<Resolver> resolver_ ABSL_GUARDED_BY(resolver_mu_);
  absl::Status resolver_error_ ABSL_GUARDED_BY(resolver_mu_);
  absl::Time resolver_failed_at_ ABSL_GUARDED_BY(resolver_mu_);
  mutable absl::Mutex mu_;
  Executor::TaskId task_ ABSL_GUARDED_BY(mu_) = 0;  // the tick, from the first service on
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  DnsServiceId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t random_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<DnsServiceId, std::unique_ptr<Service>> services_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ufc::internal

#endif  // UFC_DNS_DNS_MANAGER_H_
