// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/client.h: the UFC client, linked into the caller's process.
//
// Bypass mode, the main way to use UFC: ask `pick()` for a backend of a service, talk to it
// with any protocol, then tell `report()` how it went.
//
//   auto client = ufc::Client::create({.config_path = "ufc.json"}).value();
//   absl::StatusOr<ufc::Pick> pick = client->pick({.service = "echo"});
//   if (!pick.ok()) return pick.status();          // NOT_FOUND, UNAVAILABLE, ...
//   ... connect to pick->address(), send, receive ...
//   client->report(*pick, ufc::Outcome::http(200, elapsed));
//
// Everything runs in-process: there is no network hop on the request path, and pick/report
// take no lock that callers contend on, do no I/O and do not allocate. (Two exceptions, both
// off the steady state: an error status carries a message, which allocates; and a thread's
// first call registers the thread, one small allocation and one read of the random device.) Config
// arrives from a JSON file, from `apply()`, and from control servers (ufc/sync.h); each
// update is validated, built into an immutable per-service snapshot, and swapped in
// atomically.

#ifndef UFC_CLIENT_H_
#define UFC_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ufc/clock.h"
#include "ufc/event.h"
#include "ufc/executor.h"
#include "ufc/outcome.h"
#include "ufc/pick.h"
#include "ufc/prober.h"
#include "ufc/random.h"
#include "ufc/refusal.h"
#include "ufc/resolver.h"
#include "ufc/service_handle.h"
#include "ufc/sync.h"
#include "ufc/v1/config.pb.h"

namespace ufc {

namespace internal {
class ClientCore;
}  // namespace internal

// ApplyOptions: how much of the client's config one complete update may take away.
//
// A complete update (apply(ClientConfig), a config file attached as a source, later the
// control server's snapshots) removes every configured service it does not list. One that
// lists none, or few, is far more often a broken or hostile config than a decision (an
// empty file, a truncated snapshot), and since every client gets the same config it would
// take the fleet down; so it is refused (FAILED_PRECONDITION, nothing changes, a
// config_rejected event says why) unless these limits allow it. Both limits apply.
struct ApplyOptions {
  // Whether the update may remove every configured service: an empty ClientConfig
  // clearing the client, or one replacing all services with others. Default false.
  bool allow_removing_all = false;
  // The largest share of the configured services the update may remove, in [0, 1]:
  // removing more than max_removed_share x configured is refused, even with
  // allow_removing_all. Default 1: no limit besides allow_removing_all. Example: 0.5 lets
  // an update remove 2 of 4 services, not 3.
  double max_removed_share = 1.0;
};

// MetricsOptions: what Client::metrics_text() writes.
struct MetricsOptions {
  // A latency histogram per endpoint (true), or one per service, the sum of its endpoints'
  // (false: 18 lines per endpoint fewer; the series lose their `endpoint` label, so rules
  // that sum by service read either). docs/metrics.md has the sizes.
  bool endpoint_histograms = true;
  // Whether endpoints never picked (no report, nothing in flight, not out of rotation) get
  // their per-endpoint series, all zeros (true), or none until their first pick (false:
  // as Prometheus clients create a child at its first use). An agent holding a fleet of
  // 200,000 endpoints, ten services of it in use, then writes what is in use, not 800,000
  // lines of zeros per scrape. The per-service series are always written.
  bool unused_endpoints = false;
};

// BackupOptions: the backup cluster (ufc-agentd instances, usually in backup mode) for the
// services this client has no config for: at a cold start before the cache or the control
// server delivered, or with the control plane down. Needs the library built with gRPC.
//
// A pick for such a service is asked of a backup agent, as ufc::AgentClient does: the
// agents are balanced round robin and banned by an in-process ufc::Client over this list
// (two failures in a row, a TCP probe before one is used again), and a pick no agent
// answers goes to the next one. The agent's choice comes back as an ordinary Pick, and
// report() of it reaches that agent. As soon as the service's config arrives (from sync,
// a file, apply), its picks are made in-process again, without a network hop.
//
// Cost: only such picks pay: a blocking call to an agent (at most agents.size() x
// `timeout`; bounded by the request's deadline too), and a report that reaches the agent
// within about a millisecond, from a background thread (report() itself stays a few
// stores). The agent learns each outcome's class, not its exact status: an HTTP 404 is
// forwarded as a 4xx, which is all banning and fusing read. A Pick released unreported
// is not forwarded (the agent counts its ticket as unreported when it expires). The agent
// uses the service's timeouts (PickRequest::timeouts is not sent). A pick made inside
// another epoch section of the library's (from a RandomSource of yours, say) would make
// the agent call in it and hold memory reclamation up meanwhile: pick from outside them.
// Errors: the agents' refusals as from a pick (shed, deadline spent...) and their own
// errors (UNAUTHENTICATED for a wrong token); "not configured" there too, or no agent
// answering, is this client's NOT_FOUND / Refusal::kNotConfigured, saying why.
struct BackupOptions {
  // "host:port" of each backup agent. Empty (the default): no forwarding.
  std::vector<std::string> agents;
  // Bearer token the agents require (backup mode off loopback needs one). Empty: none.
  std::string token;
  // PEM CA bundle (a file): reach the agents over TLS. Empty: plaintext.
  std::string tls_ca_file;
  // An agent that has not answered within this is taken for down. [1ms, 1min].
  absl::Duration timeout = absl::Milliseconds(200);
};

// ClientOptions: how to build a Client. Every field has a usable default.
struct ClientOptions {
  // The caller's own service name and IDC (routing and per-caller policies use them).
  std::string self_service;
  std::string self_idc;

  // A JSON ClientConfig file to load at creation (see ufc/config.h). Optional.
  std::string config_path;
  // A config to apply at creation, after the file. A service may not appear in both.
  std::optional<v1::ClientConfig> initial_config;

  // Injected time, randomness, background execution and unban probes. Empty means the
  // real clock, fast per-thread generators, one background thread owned by the Client and
  // real TCP connect probes (make_tcp_prober()).
  std::shared_ptr<Clock> clock;
  std::shared_ptr<RandomSource> random;
  std::shared_ptr<Executor> executor;
  std::shared_ptr<Prober> prober;

  // How often the cached clock the request path reads is refreshed. [100us, 1s].
  absl::Duration clock_tick = absl::Milliseconds(1);

  // The removal limits of complete updates that bring none of their own: every config
  // source's, and apply(ClientConfig) without ApplyOptions. max_removed_share in [0, 1].
  ApplyOptions apply_defaults;

  // Config from control servers (ufc-metad) and the on-disk cache: see ufc/sync.h.
  // Default: none.
  SyncOptions sync;

  // Backup agents asked for the services this client has no config for (see
  // BackupOptions). Default: none, and such picks are refused as not configured.
  BackupOptions backup;

  // How DNS destinations (ServiceConfig.destinations) are resolved: `resolver` if set
  // (shared with other clients, or your own naming system), else a c-ares resolver made
  // with `dns` when the first service with destinations arrives (one thread, shared by
  // every service of this client). See ufc/resolver.h.
  std::shared_ptr<Resolver> resolver;
  ResolverOptions dns;

  // Whether reports fill a per-endpoint latency histogram (metrics_text()'s
  // ufc_request_duration_seconds): a store per report, and CPU shards x 128 bytes per
  // endpoint of a service in use. Default on.
  bool latency_histograms = true;

  // Memory follows use. A service's endpoints get their per-CPU records (CPU shards x
  // 48 B, and x 128 B more with latency_histograms) at its first pick, which allocates
  // once (and takes an allocator lock); every later pick is lock- and allocation-free.
  // After this long without a pick or a report they are folded into one record per
  // endpoint (48 B, 176 B with the histogram: counts, latency and bans carry over) and
  // given back. Zero or less: never given back.
  absl::Duration idle_release = absl::Minutes(10);

  // Receives config, ban, IDC affinity, fuse, sync and DNS events (see ufc/event.h), on
  // the thread that caused them (the caller of apply/remove, the background executor, the
  // prober, the sync thread, the resolver's thread).
  // Optional.
  EventCallback on_event;
};

// Client: picks backends and learns from reports.
//
// Cost: pick + report is tens of nanoseconds (bench/pick_report_bench.cc has the figures).
// Thread-safety: every method may be called from any thread concurrently. `pick` and
// `report` are lock-free; `apply`/`remove` serialize among themselves only.
// Lifetime: destroy the Client only when no thread is inside one of its methods. Picks
// may outlive it (destroying them stays safe) but may not be reported after it.
class Client {
 public:
  // create() builds a client: loads `config_path`, applies `initial_config`, and starts
  // its background work. Fails with the validation error when either config is invalid.
  static absl::StatusOr<std::unique_ptr<Client>> create(const ClientOptions& options);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // pick() chooses a backend of `request.service` with the service's balancing policy.
  // Errors, each with a Refusal payload that ufc::refusal_of() reads (ufc/refusal.h):
  // NOT_FOUND for a service this client has no config for (kNotConfigured);
  // DEADLINE_EXCEEDED when the request's deadline has passed (kDeadlineSpent, counted as
  // deadline_skipped); UNAVAILABLE when the request is shed by fusing (kShed), is a retry
  // while fusing (kRetryWhileFusing) or beyond the retry budget (kRetryBudgetSpent), or
  // has tried every backend it may go to (kEveryBackendTried), or when its candidate set
  // has no endpoint because the service's DNS names have not resolved yet
  // (kNoEndpoints). INVALID_ARGUMENT, with no
  // Refusal, for an empty service name.
  // Fault injection (ServiceConfig.faults): a first attempt may come back OK with a fault
  // to honour (Pick::fault(): an abort without a backend, or a delay before sending). Cost
  // for a service without fault rules: one well-predicted branch.
  absl::StatusOr<Pick> pick(const PickRequest& request);

  // service() resolves a service name once, for pick() and call() through the handle
  // (ufc/service_handle.h): the same decisions without the name's lookup on every call. The
  // service need not be configured yet (with sync, this subscribes to it). INVALID_ARGUMENT
  // for a name no config could have (empty, over 255 bytes, a space, '^', a control or
  // non-ASCII character). Takes the config mutex: call it at start-up, not per request.
  absl::StatusOr<ServiceHandle> service(std::string_view name);

  // pick() through a handle: as above for the handle's service (`request.service` is
  // ignored). NOT_FOUND (kNotConfigured) while the client has no config for it;
  // INVALID_ARGUMENT for an empty handle or one made by another Client.
  absl::StatusOr<Pick> pick(const ServiceHandle& service, const PickRequest& request);
  // The same for a request that asks for nothing special (PickRequest's defaults: no hash
  // key, normal priority, not a retry, no deadline): the shortest request path there is.
  absl::StatusOr<Pick> pick(const ServiceHandle& service);

  // call() runs one request with the service's retry policy, for bypass callers: pick,
  // `attempt(pick)` (talk to pick.address() within pick.timeouts(), return the outcome),
  // report; and again, to a backend not yet tried, after a transport failure (never after
  // an application status) while the pick allows a retry, up to the service's max
  // attempts — and no more attempts than the service has backends. Returns the last
  // attempt's outcome, or the first pick's error (a refused retry ends the loop with the
  // failure before it). An injected abort (Pick::fault()) is the answer: call() returns
  // Outcome::http(status, 0) without calling `attempt`; an injected delay is for `attempt`
  // to honour (wait pick.fault().delay, then send). It blocks in `attempt`; an event-loop
  // caller runs the same loop itself, keeping what `avoid` points to alive across the
  // asynchronous attempts:
  //
  //   struct Request {                      // lives until the request completes
  //     ufc::PickRequest base;              // service, priority, deadline, ...
  //     std::vector<ufc::Pick> tried;       // keeps each tried address alive
  //     std::vector<std::string_view> avoid;
  //   };
  //   void start(Request& r) {
  //     ufc::PickRequest req = r.base;
  //     req.is_retry = !r.tried.empty();
  //     req.avoid = r.avoid;
  //     absl::StatusOr<ufc::Pick> pick = client->pick(req);
  //     if (!pick.ok()) return finish(r, pick.status());  // refusal_of() says why
  //     send_async(*pick, [&r, p = *std::move(pick)](ufc::Outcome o) mutable {
  //       client->report(p, o);
  //       if (o.transport == ufc::Transport::kOk || !p.retry_allowed() ||
  //           r.tried.size() + 1 >= p.max_attempts()) {
  //         return finish(r, o);
  //       }
  //       r.tried.push_back(std::move(p));  // keeps its address alive while held
  //       r.avoid.clear();                  // (the vector may have moved the Picks)
  //       for (const ufc::Pick& t : r.tried) r.avoid.push_back(t.address());
  //       start(r);                         // a retry, elsewhere; pick() refuses it when
  //     });                                 // fusing, budget or backends say so
  //   }
  absl::StatusOr<Outcome> call(const PickRequest& request,
                               absl::FunctionRef<Outcome(const Pick&)> attempt);
  // call() through a handle (`request.service` is ignored).
  absl::StatusOr<Outcome> call(const ServiceHandle& service, const PickRequest& request,
                               absl::FunctionRef<Outcome(const Pick&)> attempt);

  // report() records the outcome of the attempt made with `pick` (ufc/outcome.h says how
  // to map a real client's errors to Outcome). Call it once per Pick;
  // later calls with the same Pick are ignored. A report for an endpoint that left the
  // config meanwhile still counts in the service totals (for 60 s after it left).
  void report(const Pick& pick, const Outcome& outcome);

  // query() returns live state as JSON:
  //   "services"               every service: version, policy, endpoints, counts
  //   "services^<after>"       the same for at most 100 services, the first ones after
  //                            <after> in name order ("services^" starts at the first),
  //                            with "next":"<name>" when more follow: ask for
  //                            "services^<name>" then. Costs what it shows, not the fleet
  //   "request_info^<service>" {"request_info":{"request_cnt":6,"success_cnt":4,
  //                             "4xx_cnt":0,"5xx_cnt":2,"transport_fail_cnt":0,
  //                             "inflight":0,"mtime":1573456024}}
  //                            a service that has had fault rules also shows the faults
  //                            injected into its picks: "faults":{"aborts":N,"delays":N}
  //                            (never in request_cnt or the other counts)
  //   "endpoints^<service>"    per endpoint: address, weight, tags, in-flight, EWMA
  //                            latency, counts by outcome class, and its ban:
  //                              "ban":{"state":"banned","streak":2,
  //                                     "reason":"5 consecutive transport failures",
  //                                     "left_ms":17350,"detector":"by_request",
  //                                     "severity":1,"last":"probe failed"}
  //                            state: "ok" (in rotation), "banned" (out for left_ms more),
  //                            "probing" (a ban by request expired; out until the TCP
  //                            probe answers) or "probation" (a ban by business signal
  //                            expired; back on a small share of its picks until judged,
  //                            with "probation":{"requests":7,"of":20}: its requests so
  //                            far and how many it is judged on). streak counts
  //                            consecutive bans (the n-th lasts base x 2^(n-1); it is
  //                            kept, and shown, after an unban). Only when not "ok":
  //                            reason (why it was banned; kept through failed probes and
  //                            probations), left_ms (0 unless "banned"), detector
  //                            ("by_request": transport failures; "by_business": status
  //                            shares or latency), severity (0..1, how much of its
  //                            traffic is bad beyond its peers'; what the max ban ratio's
  //                            slots go by), and last (the latest verdict since the ban,
  //                            e.g. "probe failed", "probation failed: ...", when any)
  //   "routes^<service>"       per rule: matches and its destination sets (endpoints,
  //                            usable, panic, IDC affinity), requests no rule matched
  //   "sync"                   the control-server sync: server, connected, global version,
  //                            services held, responses and services received, last error
  //   "backup"                 picks asked of backup agents (BackupOptions): answered,
  //                            refused by the agents, unanswered; reports forwarded,
  //                            lost (the agent was gone), picks released unreported, and
  //                            picks still out
  // Anything else returns {"error":"..."}. Safe to call while picks run; O(endpoints) of
  // what it shows.
  std::string query(std::string_view what);

  // metrics_text() renders the client's live state in Prometheus' text format (0.0.4):
  // per endpoint, reports by outcome, the latency histogram, in-flight picks and the ban
  // state; per service, fusing, refusals, bans and the config's version and age; the
  // control-server sync. Names, labels and their bounds: docs/metrics.md. Safe to call
  // while picks run (it takes the config mutex, never a request-path lock). Writes about
  // 22 lines per endpoint in use with per-endpoint histograms, 4 without, and none for an
  // endpoint never picked (MetricsOptions::unused_endpoints), but reads every endpoint's
  // counts (bench/metrics_bench: 1,000 services x 200 endpoints).
  std::string metrics_text(const MetricsOptions& options = {});

  // apply() installs or replaces one service's config. The update is validated first; on
  // any error (INVALID_ARGUMENT naming each field) or a version older than the one in
  // force (FAILED_PRECONDITION) nothing changes. Version 0 always applies; an equal
  // non-zero version is a no-op when identical and an error when not. Endpoints that stay
  // (same address and tags) keep their live state; picks in flight are unaffected.
  absl::Status apply(const v1::ServiceConfig& service);

  // apply() with a whole ClientConfig replaces everything: validated as a whole first,
  // then each service is applied as above and services not listed are removed. Each
  // service swaps atomically; the set of services does not swap as one unit. A config
  // that would remove every configured service, or more than a share of them, is refused
  // with FAILED_PRECONDITION (saying how many and how to allow it) and changes nothing,
  // unless `options` allow it (see ApplyOptions); without `options`,
  // ClientOptions::apply_defaults decide. INVALID_ARGUMENT for options out of range.
  // Cost: parsing the config, then O(services) under the config lock.
  absl::Status apply(const v1::ClientConfig& config);
  absl::Status apply(const v1::ClientConfig& config, const ApplyOptions& options);

  // remove() drops a service. NOT_FOUND if it is not configured. With sync, the client
  // also unsubscribes from it and drops it from the cache, so the control server's next
  // change does not bring it back; a later pick() or wait_for_config() subscribes again.
  // (With sync.all_services the server sends every service: it is back at its next
  // change.)
  absl::Status remove(std::string_view service);

  // wait_for_config() blocks until `service` is configured or `timeout` passes: for
  // start-up code of a client that syncs (ufc/sync.h), never for the request path. With
  // sync it subscribes to the service first. OK once configured; DEADLINE_EXCEEDED
  // (saying what the sync knows: connected or not, the server's "unknown") otherwise.
  // Polls every 5 ms.
  absl::Status wait_for_config(std::string_view service, absl::Duration timeout);

 private:
  explicit Client(std::unique_ptr<internal::ClientCore> core);
  std::unique_ptr<internal::ClientCore> core_;
};

}  // namespace ufc

#endif  // UFC_CLIENT_H_
