// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/agent_service.h: ufc.v1.Agent (protos/ufc/v1/agent.proto) over gRPC's callback
// API, in front of one ufc::Client.
//
// Every RPC runs on gRPC's callback threads and never blocks: a Pick is Client::pick plus
// a ticket (TicketTable), a Report is a ticket lookup plus Client::report. A Session is a
// bidirectional reactor: each request (a batch of picks and reports) is answered by one
// response with the batch's pick results in order; responses queue while one write is in
// flight, and the session stops reading while 64 are queued, so a caller that does not
// read its answers is slowed, not buffered without bound. One thread of the service's own
// expires tickets once a second.
//
// Security: with a token set, Query always needs `authorization: Bearer <token>`; with
// `token_for_picks` (backup mode) every RPC does. Anything else is UNAUTHENTICATED.

#ifndef UFC_AGENTD_AGENT_SERVICE_H_
#define UFC_AGENTD_AGENT_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agentd/access_record.h"
#include "agentd/ticket_table.h"
#include "ufc/client.h"
#include "ufc/v1/agent.grpc.pb.h"

namespace ufc::agentd {

class AgentService final : public v1::Agent::CallbackService {
 public:
  struct Options {
    std::string token;             // empty: none
    bool token_for_picks = false;  // every RPC needs the token (backup mode)
    std::string mode = "local";    // shown in Query("agent")
    TicketTable::Options tickets;
    absl::Duration expire_interval = absl::Seconds(1);
    // Called for every report that lands (per-caller metrics, the access log): on the
    // RPC's thread, quick, never blocking. Optional.
    std::function<void(const ufc_agent::AccessRecord&)> on_report;
  };

  // INVALID_ARGUMENT for bad ticket options. `client` must outlive the service.
  static absl::StatusOr<std::unique_ptr<AgentService>> create(Client& client,
                                                              const Options& options);
  ~AgentService() override;

  // Starts / stops the ticket-expiry thread. stop() before the server shuts down is not
  // required; the destructor stops it too.
  void start();
  void stop();

  grpc::ServerUnaryReactor* Pick(grpc::CallbackServerContext* context,
                                 const v1::AgentPickRequest* request,
                                 v1::AgentPickResponse* response) override;
  grpc::ServerUnaryReactor* Report(grpc::CallbackServerContext* context,
                                   const v1::AgentReportRequest* request,
                                   v1::AgentReportResponse* response) override;
  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const v1::AgentQueryRequest* request,
                                  v1::AgentQueryResponse* response) override;
  grpc::ServerBidiReactor<v1::AgentSessionRequest, v1::AgentSessionResponse>* Session(
      grpc::CallbackServerContext* context) override;

  // The "agent" view: mode, tickets (TicketTable::Stats), picks, refusals, fault_aborts
  // (injected aborts: answered without a ticket), reports, sessions. JSON, like Client::query's.
  std::string agent_view() const;
  // The same counters as Prometheus text (ufc_agent_*; docs/metrics.md).
  std::string metrics_text() const;
  TicketTable& tickets() { return *tickets_; }

  // One pick / report, as both the unary RPCs and a Session run them. `deadline` is the
  // request's (a unary call's, or none for a Session pick, which carries timeout_ms).
  void do_pick(const v1::AgentPickRequest& request, Deadline deadline, MonotonicTime arrival,
               v1::AgentPickResponse* response);
  // `trace_id`: the call's traceparent / x-request-id metadata, for the access log.
  absl::Status do_report(const v1::AgentReportRequest& request, MonotonicTime now,
                         std::string_view trace_id = {});

 private:
  class SessionReactor;
  AgentService(Client& client, const Options& options, std::unique_ptr<TicketTable> tickets);
  bool authorized(grpc::CallbackServerContext* context, bool needs_token) const;

  Client& client_;
  const Options options_;
  std::unique_ptr<TicketTable> tickets_;
  std::shared_ptr<Clock> clock_ = Clock::system();

  std::atomic<uint64_t> picks_{0}, refusals_{0}, reports_{0}, report_errors_{0}, sessions_{0},
      sessions_open_{0};
  // Picks answered with an injected abort (a fault, no ticket): not refusals, not held.
  std::atomic<uint64_t> injected_aborts_{0};
  mutable std::atomic<uint64_t> unauthenticated_{0};

  absl::Notification stopping_;
  std::thread expirer_;
};

}  // namespace ufc::agentd

#endif  // UFC_AGENTD_AGENT_SERVICE_H_
