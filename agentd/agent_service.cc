// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/agent_service.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/json_util.h"
#include "src/common/listen_security.h"
#include "src/stats/prometheus_text.h"
#include "ufc/deadline.h"
#include "ufc/refusal.h"

namespace ufc::agentd {
namespace {

constexpr size_t kMaxQueuedResponses = 64;
constexpr size_t kMaxBatch = 4096;  // picks + reports in one Session request

grpc::Status to_grpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

Priority priority_of(v1::AgentPriority p) {
  switch (p) {
    case v1::AGENT_PRIORITY_CRITICAL:
      return Priority::kCritical;
    case v1::AGENT_PRIORITY_LOW:
      return Priority::kLow;
    case v1::AGENT_PRIORITY_OFFLINE:
      return Priority::kOffline;
    default:
      return Priority::kNormal;
  }
}

// A duration in whole ms for the wire, or nothing for "no limit".
std::optional<uint32_t> wire_ms(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return std::nullopt;
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, UINT32_MAX));
}

absl::StatusOr<Outcome> outcome_of(const v1::AgentOutcome& o) {
  Outcome out;
  if (o.transport() < v1::AGENT_TRANSPORT_OK || o.transport() > v1::AGENT_TRANSPORT_READ_FAILED) {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome.transport: ", o.transport(), " is not an AgentTransport"));
  }
  out.transport = static_cast<Transport>(o.transport());
  switch (o.status_kind()) {
    case v1::AGENT_STATUS_NONE:
      out.status_kind = StatusKind::kNone;
      break;
    case v1::AGENT_STATUS_HTTP:
      if (o.status_code() < 100 || o.status_code() > 599) {
        return absl::InvalidArgumentError(absl::StrCat("outcome.status_code: HTTP status ",
                                                       o.status_code(), " is not in [100, 599]"));
      }
      out.status_kind = StatusKind::kHttp;
      break;
    case v1::AGENT_STATUS_GRPC:
      if (o.status_code() < 0 || o.status_code() > 16) {
        return absl::InvalidArgumentError(
            absl::StrCat("outcome.status_code: gRPC code ", o.status_code(), " is not in [0, 16]"));
      }
      out.status_kind = StatusKind::kGrpc;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("outcome.status_kind: ", o.status_kind(), " is not an AgentStatusKind"));
  }
  out.status_code = o.status_code();
  // A day at most: a latency beyond that is a caller's bug, not a measurement.
  out.latency = absl::Microseconds(
      static_cast<int64_t>(std::min<uint64_t>(o.latency_us(), uint64_t{86400} * 1000000)));
  return out;
}

}  // namespace

// A Session: batches of picks and reports in, one response per batch out.
class AgentService::SessionReactor
    : public grpc::ServerBidiReactor<v1::AgentSessionRequest, v1::AgentSessionResponse> {
 public:
  SessionReactor(AgentService& service, bool authorized) : service_(service) {
    service_.sessions_.fetch_add(1, std::memory_order_relaxed);
    service_.sessions_open_.fetch_add(1, std::memory_order_relaxed);
    if (!authorized) {
      Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Session: bad or missing token"));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the caller half-closed, or the stream broke
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      maybe_finish();
      return;
    }
    auto response = std::make_unique<v1::AgentSessionResponse>();
    if (static_cast<size_t>(request_.picks_size() + request_.reports_size()) > kMaxBatch) {
      // The stream ends with this error once the answers already queued are written
      // (nothing may be written after Finish).
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      end_status_ = grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("Session: more than ", kMaxBatch, " picks and reports in one request"));
      maybe_finish();
      return;
    }
    const MonotonicTime arrival = service_.clock_->monotonic_now();
    for (const v1::AgentPickRequest& pick : request_.picks()) {
      v1::AgentPickResponse* out = response->add_picks();
      service_.do_pick(pick, Deadline::none(), arrival, out);
    }
    for (const v1::AgentReportRequest& report : request_.reports()) {
      if (absl::Status s = service_.do_report(report, arrival); !s.ok()) {
        v1::AgentReportError* e = response->add_report_errors();
        e->set_id(report.id());
        e->set_code(static_cast<int32_t>(s.code()));
        e->set_message(std::string(s.message()));
      }
    }
    request_.Clear();
    absl::MutexLock lock(&mu_);
    if (response->picks_size() > 0 || response->report_errors_size() > 0) {
      queue_.push_back(std::move(response));
      if (!writing_) {
        writing_ = true;
        StartWrite(queue_.front().get());
      }
    }
    if (queue_.size() < kMaxQueuedResponses) {
      StartRead(&request_);
    } else {
      read_paused_ = true;  // resumed by OnWriteDone
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok) {
      // The stream is broken; reads fail too. Drop what is queued.
      queue_.clear();
      writing_ = false;
      if (read_paused_) {
        read_paused_ = false;
        reads_done_ = true;
      }
      maybe_finish();
      return;
    }
    if (!queue_.empty() && !finished_) {
      StartWrite(queue_.front().get());
    } else {
      writing_ = false;
    }
    if (read_paused_ && queue_.size() < kMaxQueuedResponses) {
      read_paused_ = false;
      StartRead(&request_);
    }
    maybe_finish();
  }

  void OnDone() override {
    service_.sessions_open_.fetch_sub(1, std::memory_order_relaxed);
    delete this;
  }

 private:
  void maybe_finish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reads_done_ && !writing_ && !finished_) {
      finished_ = true;
      Finish(end_status_);
    }
  }

  AgentService& service_;
  v1::AgentSessionRequest request_;  // one read in flight at a time
  absl::Mutex mu_;
  std::deque<std::unique_ptr<v1::AgentSessionResponse>> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);  // what Finish sends; OK unless refused
};

absl::StatusOr<std::unique_ptr<AgentService>> AgentService::create(Client& client,
                                                                   const Options& options) {
  absl::StatusOr<std::unique_ptr<TicketTable>> tickets = TicketTable::create(options.tickets);
  if (!tickets.ok()) return tickets.status();
  if (options.expire_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("expire_interval: must be positive");
  }
  return std::unique_ptr<AgentService>(new AgentService(client, options, *std::move(tickets)));
}

AgentService::AgentService(Client& client, const Options& options,
                           std::unique_ptr<TicketTable> tickets)
    : client_(client), options_(options), tickets_(std::move(tickets)) {}

AgentService::~AgentService() { stop(); }

void AgentService::start() {
  if (expirer_.joinable()) return;
  expirer_ = std::thread([this] {
    while (!stopping_.WaitForNotificationWithTimeout(options_.expire_interval)) {
      tickets_->expire(clock_->monotonic_now());
    }
  });
}

void AgentService::stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (expirer_.joinable()) expirer_.join();
}

bool AgentService::authorized(grpc::CallbackServerContext* context, bool needs_token) const {
  if (options_.token.empty() || !needs_token) return true;
  const auto& md = context->client_metadata();
  const auto it = md.find("authorization");
  const bool ok =
      it != md.end() && internal::bearer_matches(
                            std::string_view(it->second.data(), it->second.size()), options_.token);
  if (!ok) unauthenticated_.fetch_add(1, std::memory_order_relaxed);
  return ok;
}

void AgentService::do_pick(const v1::AgentPickRequest& request, Deadline deadline,
                           MonotonicTime arrival, v1::AgentPickResponse* response) {
  picks_.fetch_add(1, std::memory_order_relaxed);
  response->set_id(request.id());
  absl::InlinedVector<Attribute, 8> attributes;
  for (const v1::AgentAttribute& a : request.attributes()) {
    attributes.emplace_back(a.key(), a.value());
  }
  absl::InlinedVector<std::string_view, 4> avoid(request.avoid().begin(), request.avoid().end());
  PickRequest r;
  r.service = request.service();
  r.hash_key = request.hash_key();
  if (request.has_hash()) r.hash = request.hash();
  r.attributes = attributes;
  r.caller_service = request.caller_service();
  r.priority = priority_of(request.priority());
  r.is_retry = request.is_retry();
  r.avoid = avoid;
  if (request.has_timeout_ms()) {
    // 0 is spent, whatever the client's cached clock says (as decode_timeout's "0").
    deadline = deadline.earliest(
        request.timeout_ms() == 0
            ? Deadline::at(MonotonicTime::infinite_past())
            : Deadline::at(arrival +
                           absl::Milliseconds(static_cast<int64_t>(request.timeout_ms()))));
  }
  r.deadline = deadline;
  absl::StatusOr<ufc::Pick> pick = client_.pick(r);
  if (!pick.ok()) {
    refusals_.fetch_add(1, std::memory_order_relaxed);
    const Refusal why = refusal_of(pick.status());
    v1::AgentRefusal* refusal = response->mutable_refusal();
    refusal->set_code(static_cast<int32_t>(pick.status().code()));
    refusal->set_reason(why == Refusal::kNone ? "invalid_argument"
                                              : std::string(refusal_name(why)));
    refusal->set_message(std::string(pick.status().message()));
    return;
  }
  const InjectedFault fault = pick->fault();
  if (fault.abort_status != 0 || fault.delay > absl::ZeroDuration()) {
    v1::AgentFault* f = response->mutable_fault();
    f->set_abort_status(fault.abort_status);
    // Rounded up: a sub-millisecond delay is still a delay (at most 1h: fits).
    f->set_delay_ms(static_cast<uint32_t>(
        absl::ToInt64Milliseconds(absl::Ceil(fault.delay, absl::Milliseconds(1)))));
  }
  if (fault.abort_status != 0) {
    // No backend and nothing held: the caller answers with the status, reports nothing.
    injected_aborts_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  v1::AgentEndpoint* endpoint = response->mutable_endpoint();
  endpoint->set_address(std::string(pick->address()));
  endpoint->set_host(std::string(pick->host()));
  endpoint->set_port(pick->port());
  for (const Tag& tag : pick->tags()) (*endpoint->mutable_tags())[tag.first] = tag.second;
  Timeouts t = pick->timeouts();
  if (const Deadline d = pick->deadline(); !d.is_none()) {
    // The pick capped the timeouts by its cached clock, which may lag (a busy machine
    // delays its refresh); what goes on the wire is capped again by a fresh reading.
    const absl::Duration left = d.remaining(*clock_);
    t.connect = std::min(t.connect, left);
    t.read = std::min(t.read, left);
    t.write = std::min(t.write, left);
    if (auto ms = wire_ms(left)) response->set_deadline_remaining_ms(*ms);
  }
  if (auto ms = wire_ms(t.connect)) response->set_connect_timeout_ms(*ms);
  if (auto ms = wire_ms(t.read)) response->set_read_timeout_ms(*ms);
  if (auto ms = wire_ms(t.write)) response->set_write_timeout_ms(*ms);
  response->set_retry_allowed(pick->retry_allowed());
  response->set_max_attempts(pick->max_attempts());
  char ticket[kTicketSize];
  if (options_.on_report) {
    tickets_->put(*std::move(pick), arrival, ticket, request.caller_service(), request.service());
  } else {
    tickets_->put(*std::move(pick), arrival, ticket);
  }
  response->set_ticket(ticket, kTicketSize);
}

absl::Status AgentService::do_report(const v1::AgentReportRequest& request, MonotonicTime now,
                                     std::string_view trace_id) {
  reports_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<Outcome> outcome = outcome_of(request.outcome());
  if (!outcome.ok()) {
    report_errors_.fetch_add(1, std::memory_order_relaxed);
    return outcome.status();
  }
  std::string caller, service;
  const bool record = static_cast<bool>(options_.on_report);
  absl::StatusOr<ufc::Pick> pick = tickets_->take(request.ticket(), now, record ? &caller : nullptr,
                                                  record ? &service : nullptr);
  if (!pick.ok()) {
    report_errors_.fetch_add(1, std::memory_order_relaxed);
    return pick.status();
  }
  client_.report(*pick, *outcome);
  if (options_.on_report) {
    const ufc_agent::AccessAttempt attempt{
        pick->address(), outcome->classify(),
        outcome->transport == Transport::kOk ? outcome->status_code : 0, outcome->latency};
    ufc_agent::AccessRecord rec;
    rec.via = "grpc";
    rec.caller = caller;
    rec.service = service;
    rec.trace_id = trace_id;
    rec.duration = outcome->latency;
    rec.attempts = absl::MakeConstSpan(&attempt, 1);
    options_.on_report(rec);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AgentService::Pick(grpc::CallbackServerContext* context,
                                             const v1::AgentPickRequest* request,
                                             v1::AgentPickResponse* response) {
  const MonotonicTime arrival = clock_->monotonic_now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!authorized(context, options_.token_for_picks)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Pick: bad or missing token"));
    return reactor;
  }
  if (request->service().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "service: empty"));
    return reactor;
  }
  // The request's budget is x-ufc-timeout-ms, counted from arrival. The call's own gRPC
  // deadline is how long the caller waits for the agent, not the request's budget.
  Deadline deadline;
  const auto& md = context->client_metadata();
  if (const auto it = md.find(grpc::string_ref(kTimeoutHeader.data(), kTimeoutHeader.size()));
      it != md.end()) {
    absl::StatusOr<Deadline> d =
        decode_timeout(std::string_view(it->second.data(), it->second.size()), arrival);
    if (!d.ok()) {
      reactor->Finish(to_grpc(d.status()));
      return reactor;
    }
    deadline = *d;
  }
  do_pick(*request, deadline, arrival, response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::Report(grpc::CallbackServerContext* context,
                                               const v1::AgentReportRequest* request,
                                               v1::AgentReportResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!authorized(context, options_.token_for_picks)) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Report: bad or missing token"));
    return reactor;
  }
  std::string_view trace_id;
  const auto& md = context->client_metadata();
  for (const char* key : {"traceparent", "x-request-id", "x-b3-traceid"}) {
    if (auto it = md.find(key); it != md.end()) {
      trace_id = std::string_view(it->second.data(), it->second.size());
      break;
    }
  }
  reactor->Finish(to_grpc(do_report(*request, clock_->monotonic_now(), trace_id)));
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::Query(grpc::CallbackServerContext* context,
                                              const v1::AgentQueryRequest* request,
                                              v1::AgentQueryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!authorized(context, /*needs_token=*/true)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Query: bad or missing token"));
    return reactor;
  }
  std::string json = request->what() == "agent" ? agent_view() : client_.query(request->what());
  if (json.rfind("{\"error\"", 0) == 0) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, json));
    return reactor;
  }
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, response->mutable_view());
  if (!parsed.ok()) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INTERNAL,
                     absl::StrCat("Query: the view is not a JSON object: ", parsed.ToString())));
    return reactor;
  }
  response->set_json(std::move(json));
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerBidiReactor<v1::AgentSessionRequest, v1::AgentSessionResponse>* AgentService::Session(
    grpc::CallbackServerContext* context) {
  return new SessionReactor(*this, authorized(context, options_.token_for_picks));
}

std::string AgentService::agent_view() const {
  const TicketTable::Stats t = tickets_->stats();
  return absl::StrCat(
      "{\"agent\":{\"mode\":\"", options_.mode,
      "\",\"token\":", options_.token.empty() ? "false" : "true", ",\"picks\":", picks_.load(),
      ",\"refusals\":", refusals_.load(), ",\"fault_aborts\":", injected_aborts_.load(),
      ",\"reports\":", reports_.load(), ",\"report_errors\":", report_errors_.load(),
      ",\"sessions\":", sessions_.load(), ",\"sessions_open\":", sessions_open_.load(),
      ",\"unauthenticated\":", unauthenticated_.load(),
      ",\"tickets\":{\"capacity\":", tickets_->capacity(),
      ",\"ttl_ms\":", absl::ToInt64Milliseconds(tickets_->ttl()),
      ",\"outstanding\":", t.outstanding, ",\"issued\":", t.issued, ",\"reported\":", t.reported,
      ",\"unreported_expired\":", t.expired, ",\"unreported_evicted\":", t.evicted,
      ",\"rejected_malformed\":", t.malformed, ",\"rejected_forged\":", t.forged,
      ",\"rejected_unknown\":", t.unknown, "}}}");
}

}  // namespace ufc::agentd

namespace ufc::agentd {

std::string AgentService::metrics_text() const {
  using internal::MetricFamily;
  const TicketTable::Stats t = tickets_->stats();
  MetricFamily picks("ufc_agent_picks_total", "counter",
                     "Pick RPCs, by result: ok (a ticket), refused (a Refusal), fault_abort.");
  const uint64_t all = picks_.load(), refused = refusals_.load(), aborted = injected_aborts_.load();
  picks.add("", "result", "ok", all - std::min(all, refused + aborted));
  picks.add("", "result", "refused", refused);
  picks.add("", "result", "fault_abort", aborted);
  MetricFamily reports(
      "ufc_agent_reports_total", "counter",
      "Report RPCs, by result: ok, or error (an unknown, forged or expired ticket).");
  reports.add("", "result", "ok", reports_.load());
  reports.add("", "result", "error", report_errors_.load());
  MetricFamily tickets("ufc_agent_tickets", "gauge", "Picks held for remote callers.");
  tickets.add("", uint64_t{t.outstanding});
  MetricFamily dropped("ufc_agent_tickets_dropped_total", "counter",
                       "Picks never reported, by why they were dropped: expired, evicted.");
  dropped.add("", "reason", "expired", t.expired);
  dropped.add("", "reason", "evicted", t.evicted);
  MetricFamily rejected("ufc_agent_tickets_rejected_total", "counter",
                        "Reports whose ticket was refused: malformed, forged, unknown.");
  rejected.add("", "reason", "malformed", t.malformed);
  rejected.add("", "reason", "forged", t.forged);
  rejected.add("", "reason", "unknown", t.unknown);
  MetricFamily sessions("ufc_agent_sessions", "gauge", "Session streams open.");
  sessions.add("", sessions_open_.load());
  MetricFamily unauth("ufc_agent_unauthenticated_total", "counter",
                      "RPCs refused for a missing or wrong token.");
  unauth.add("", unauthenticated_.load());
  std::string out;
  for (const MetricFamily* m :
       {&picks, &reports, &tickets, &dropped, &rejected, &sessions, &unauth}) {
    m->append_to(out);
  }
  return out;
}

}  // namespace ufc::agentd
