// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/remote_picks.h: picks a backup agent made for this client (ClientOptions::backup),
// held until their outcome has been forwarded to the agent.
//
// A remote pick becomes an ordinary Pick: RemotePicks gives the agent's choice an Endpoint
// of its own (live, listed in no snapshot), and the Pick holds it as any other. So
// report() of it is the usual few stores into that endpoint's record, and the request
// path has no test for "remote" anywhere. A background thread watches the endpoints of the
// picks still out (every `poll` while there are any; asleep otherwise): one that has been
// reported is forwarded to the agent that made it (its outcome class and latency, read
// back from the record once the Pick is let go, or kLatePolls after the report while it
// is held), one released unreported is forgotten. Either way the endpoint's
// reference goes; it is deleted once no Pick holds it (Endpoint's graveyard).
//
// Thread-safety: thread-safe. Cost: pick() is the agent's round trip and two allocations
// (the endpoint and its per-CPU records); a forwarded report is a call to the agent from
// the background thread, typically within 1-2 polls of report().

#ifndef UFC_CORE_REMOTE_PICKS_H_
#define UFC_CORE_REMOTE_PICKS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "src/core/backup_agents.h"
#include "src/endpoint/endpoint.h"
#include "ufc/agent_client.h"
#include "ufc/outcome.h"
#include "ufc/pick.h"

namespace ufc::internal {

class RemotePicks {
 public:
  explicit RemotePicks(std::unique_ptr<BackupAgents> agents,
                       absl::Duration poll = absl::Milliseconds(1));
  // Stops the thread after forwarding what was reported by then (for at most
  // kFinalForwarding); picks still out are dropped (their Picks stay safe to use and destroy;
  // reporting them does nothing more).
  ~RemotePicks();
  RemotePicks(const RemotePicks&) = delete;
  RemotePicks& operator=(const RemotePicks&) = delete;

  // What an agent chose: `endpoint` (counted once on `shard`: `hold` is the word, as
  // Endpoint::on_pick returns it) for the caller's Pick, or nullptr for an injected abort.
  // The endpoint stays alive while the Pick holds it.
  struct Choice {
    Endpoint* endpoint = nullptr;
    std::atomic<uint64_t>* hold = nullptr;
    uint32_t shard = 0;
    AgentPick pick;
  };
  // Asks an agent for `request` (its service set). The agents' refusals and failures as
  // BackupAgents::pick returns them; UNAVAILABLE when an agent's endpoint is malformed.
  absl::StatusOr<Choice> pick(const PickRequest& request, uint32_t shard);

  struct Stats {
    uint64_t picks = 0;       // answered with a backend (or an injected abort)
    uint64_t refused = 0;     // refused by an agent (not configured there, shed, ...)
    uint64_t unanswered = 0;  // no agent answered
    uint64_t forwarded = 0;   // reports the agent took
    uint64_t lost = 0;        // reports the agent did not take (gone, ticket expired)
    uint64_t unreported = 0;  // Picks released without a report
    uint64_t out = 0;         // picks not yet reported or released
  };
  Stats stats() const;
  // {"backup":{"picks":N,...}}: stats() as JSON (Client::query("backup")).
  std::string status_json() const;

 private:
  struct Out {
    EndpointRef endpoint;
    AgentPick pick;          // the ticket and the agent, for the report
    int polls_reported = 0;  // polls that found it reported while its Pick is still held
  };
  // A report whose Pick is still held is forwarded this many polls after it was made.
  static constexpr int kLatePolls = 50;
  // The destructor forwards what was reported for at most this long.
  static constexpr absl::Duration kFinalForwarding = absl::Seconds(1);
  void run();
  bool woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !out_.empty(); }
  // One pass over the picks out: what to forward and what to forget. Reports due after
  // `give_up` are counted lost; the `last` pass forwards every report made.
  void poll_once(absl::Time give_up = absl::InfiniteFuture(), bool last = false);

  const std::unique_ptr<BackupAgents> agents_;
  const absl::Duration poll_;
  mutable absl::Mutex mu_;
  std::vector<Out> out_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> picks_{0}, refused_{0}, unanswered_{0}, forwarded_{0}, lost_{0},
      unreported_{0};
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace ufc::internal

#endif  // UFC_CORE_REMOTE_PICKS_H_
