// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/agent_client.h: UFC's decisions from an agent (ufc-agentd) rather than in-process,
// with fallback to the backup cluster. Needs the library built with gRPC (UFC_WITH_GRPC).
//
//   auto agent = ufc::AgentClient::create({.backups = {"10.0.0.2:8877", "10.0.0.3:8877"},
//                                          .token = "..."}).value();
//   absl::StatusOr<ufc::AgentPick> pick = agent->pick({.service = "echo"});
//   if (!pick.ok()) return pick.status();     // UFC refusals as from Client::pick
//   ... talk to pick->host:pick->port within pick->timeouts ...
//   agent->report(*pick, ufc::Outcome::http(200, elapsed)).IgnoreError();
//
// For callers that want a daemon between them and the decisions (a process that must not
// hold the config, or a test of the agent path); a C++ service that can link libufc is
// better served by ufc::Client, which has no network hop.
//
// Fallback: every pick goes to the local agent first. When the local agent cannot be
// reached (UNAVAILABLE, or no answer within `agent_timeout`) the same pick goes at once to
// a backup agent, and to the next one if that fails too. Which backup is chosen by libufc
// itself: an in-process ufc::Client over the backup list, round robin, that bans a backup
// after two failures in a row and probes it (TCP) before taking it back. While the local
// agent is down, picks go to the backups; a pick the local agent refuses as not
// configured (its config has not arrived yet), or for want of endpoints (its DNS names have
// not resolved yet), is asked of a backup too; they return to it as soon
// as its channel is connected again (its reconnect backoff is capped at 500 ms), at most one pick
// per `local_recheck` testing it meanwhile.

#ifndef UFC_AGENT_CLIENT_H_
#define UFC_AGENT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ufc/deadline.h"
#include "ufc/outcome.h"
#include "ufc/pick.h"

namespace ufc {

struct AgentClientOptions {
  // The local agent: "host:port" or "unix:/path". Empty: none (backups only).
  std::string local = "127.0.0.1:8877";
  // Backup agents, "host:port" each. Empty: no fallback.
  std::vector<std::string> backups;
  // Bearer token sent to every agent (backup agents need one). Empty: none.
  std::string token;
  // PEM CA bundle (a file): reach the backup agents over TLS. Empty: plaintext.
  std::string tls_ca_file;
  // An agent that has not answered within this is taken for down. [1ms, 1min].
  absl::Duration agent_timeout = absl::Milliseconds(200);
  // While the local agent is down, at most one pick per this tries it. [1ms, 1min].
  absl::Duration local_recheck = absl::Milliseconds(100);
};

// AgentPick: what an agent chose. A plain value (copy it freely); hand it to report() once.
struct AgentPick {
  std::string address;  // "host:port" as configured
  std::string host;     // without brackets
  uint16_t port = 0;
  std::vector<Tag> tags;  // sorted by key
  Timeouts timeouts;      // infinite where UFC sets no limit
  bool retry_allowed = false;
  uint32_t max_attempts = 1;
  Deadline deadline;   // what is left of the request's, on this process's clock
  std::string ticket;  // the agent's handle on the pick
  std::string agent;   // the agent that chose it: "local" or a backup's address
  // A fault injected by the service's fault rules, honoured as Pick::fault() says
  // (ufc/pick.h): with abort_status != 0 there is no backend (address empty) and no
  // ticket, and report() of it does nothing; a delay comes rounded up to a millisecond.
  InjectedFault fault;
};

class AgentClient {
 public:
  // INVALID_ARGUMENT for options out of range or a backup address that is not host:port;
  // no connection is made yet.
  static absl::StatusOr<std::unique_ptr<AgentClient>> create(const AgentClientOptions& options);
  ~AgentClient();
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  // pick() asks an agent, local first, then the backups. UFC's refusals come back as from
  // Client::pick (same codes, refusal_of() reads them): NOT_FOUND for a service no agent
  // knows, UNAVAILABLE when shed, DEADLINE_EXCEEDED when the deadline has passed (decided
  // here, without a call). UNAVAILABLE without a Refusal when no agent answered;
  // INVALID_ARGUMENT / UNAUTHENTICATED as the agent said. Blocks for at most about
  // (1 + backups) x agent_timeout. `request.timeouts` is not sent (agents use the
  // service's).
  absl::StatusOr<AgentPick> pick(const PickRequest& request);

  // report() tells the agent that made `pick` how the attempt went. NOT_FOUND when the
  // agent no longer holds the pick (reported, expired); UNAVAILABLE when that agent is
  // gone (the report is lost; the agent counts the pick as unreported).
  absl::Status report(const AgentPick& pick, const Outcome& outcome);

  // query() is a view of an agent's state (Client::query's views, and "agent"), as JSON:
  // the local agent's, or a backup's while the local one is down.
  absl::StatusOr<std::string> query(std::string_view what);

  struct Stats {
    uint64_t local_picks = 0;     // answered by the local agent
    uint64_t backup_picks = 0;    // answered by a backup agent
    uint64_t local_failures = 0;  // calls to the local agent that failed in transport
    uint64_t backup_failures = 0;
    uint64_t unanswered = 0;  // picks no agent answered
  };
  Stats stats() const;

 private:
  class Impl;
  explicit AgentClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ufc

#endif  // UFC_AGENT_CLIENT_H_
