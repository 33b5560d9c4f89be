// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ufc/client.h"
#include "ufc/refusal.h"
#include "ufc/v1/agent.grpc.pb.h"

namespace ufc {
namespace {

// The in-process service that balances and bans the backup agents.
constexpr std::string_view kBackupService = "ufc-agent-backups";

grpc::ChannelArguments channel_args() {
  grpc::ChannelArguments args;
  // A restarted agent is used again within about half a second, not after gRPC's
  // default backoff (1 s doubling to 120 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return args;
}

// Codes that mean "this agent cannot answer": go to another one.
bool agent_failed(grpc::StatusCode code) {
  switch (code) {
    // Gone, hung, shutting down, or the connection broke mid-call. Not RESOURCE_EXHAUSTED,
    // INTERNAL or UNIMPLEMENTED: those describe this request (too big, one the agent
    // cannot handle), and one bad request must not send a process to its backups.
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

Refusal refusal_named(const std::string& name) {
  for (Refusal r : {Refusal::kShed, Refusal::kRetryWhileFusing, Refusal::kRetryBudgetSpent,
                    Refusal::kEveryBackendTried, Refusal::kDeadlineSpent, Refusal::kNotConfigured,
                    Refusal::kNoEndpoints}) {
    if (refusal_name(r) == name) return r;
  }
  return Refusal::kNone;
}

v1::AgentPriority wire_priority(Priority p) {
  switch (p) {
    case Priority::kCritical:
      return v1::AGENT_PRIORITY_CRITICAL;
    case Priority::kLow:
      return v1::AGENT_PRIORITY_LOW;
    case Priority::kOffline:
      return v1::AGENT_PRIORITY_OFFLINE;
    default:
      return v1::AGENT_PRIORITY_NORMAL;
  }
}

absl::Duration from_ms(bool has, uint32_t ms) {
  return has ? absl::Milliseconds(static_cast<int64_t>(ms)) : absl::InfiniteDuration();
}

absl::Status from_grpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace

class AgentClient::Impl {
 public:
  struct Agent {
    std::string name;  // "local" or the address
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Agent::Stub> stub;
  };

  Impl(const AgentClientOptions& options) : options_(options) {}

  absl::Status init() {
    if (options_.agent_timeout < absl::Milliseconds(1) ||
        options_.agent_timeout > absl::Minutes(1)) {
      return absl::InvalidArgumentError("agent_timeout: not in [1ms, 1min]");
    }
    if (options_.local_recheck < absl::Milliseconds(1) ||
        options_.local_recheck > absl::Minutes(1)) {
      return absl::InvalidArgumentError("local_recheck: not in [1ms, 1min]");
    }
    if (options_.local.empty() && options_.backups.empty()) {
      return absl::InvalidArgumentError("local, backups: no agent at all");
    }
    const grpc::ChannelArguments args = channel_args();
    if (!options_.local.empty()) {
      local_ = std::make_unique<Agent>();
      local_->name = "local";
      local_->channel =
          grpc::CreateCustomChannel(options_.local, grpc::InsecureChannelCredentials(), args);
      local_->stub = v1::Agent::NewStub(local_->channel);
    }
    if (options_.backups.empty()) return absl::OkStatus();

    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!options_.tls_ca_file.empty()) {
      std::ifstream in(options_.tls_ca_file, std::ios::binary);
      if (!in)
        return absl::InvalidArgumentError(
            absl::StrCat("tls_ca_file: cannot read ", options_.tls_ca_file));
      std::stringstream pem;
      pem << in.rdbuf();
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = pem.str();
      credentials = grpc::SslCredentials(ssl);
    }
    v1::ServiceConfig service;
    service.set_name(std::string(kBackupService));
    for (const std::string& address : options_.backups) {
      if (backups_.contains(address)) {
        return absl::InvalidArgumentError(absl::StrCat("backups: ", address, " is listed twice"));
      }
      service.add_endpoints()->set_address(address);
      auto agent = std::make_unique<Agent>();
      agent->name = address;
      agent->channel = grpc::CreateCustomChannel(address, credentials, args);
      agent->stub = v1::Agent::NewStub(agent->channel);
      backups_.emplace(address, std::move(agent));
    }
    service.mutable_balancing()->set_policy("round_robin");
    v1::Ban* ban = service.mutable_ban();
    ban->mutable_by_request()->set_consecutive(2);
    ban->mutable_by_request()->set_compare_peers(false);
    ban->mutable_by_business()->set_enabled(false);
    ban->set_max_ratio(1.0);
    ban->mutable_base_time()->set_seconds(1);
    service.mutable_fuse()->set_enabled(false);
    ClientOptions client_options;
    client_options.self_service = "ufc-agent-client";
    v1::ClientConfig config;
    *config.add_services() = std::move(service);
    client_options.initial_config = std::move(config);
    absl::StatusOr<std::unique_ptr<Client>> balancer = Client::create(client_options);
    if (!balancer.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("backups: ", balancer.status().message()));
    }
    balancer_ = *std::move(balancer);
    return absl::OkStatus();
  }

  absl::StatusOr<AgentPick> pick(const PickRequest& request) {
    if (request.deadline.expired()) {
      return with_refusal(absl::DeadlineExceededError("the request's deadline has passed"),
                          Refusal::kDeadlineSpent);
    }
    v1::AgentPickRequest wire;
    wire.set_service(std::string(request.service));
    wire.set_hash_key(std::string(request.hash_key));
    if (request.hash.has_value()) wire.set_hash(*request.hash);
    for (const Attribute& a : request.attributes) {
      v1::AgentAttribute* attribute = wire.add_attributes();
      attribute->set_key(std::string(a.first));
      attribute->set_value(std::string(a.second));
    }
    wire.set_caller_service(std::string(request.caller_service));
    wire.set_priority(wire_priority(request.priority));
    wire.set_is_retry(request.is_retry);
    for (std::string_view a : request.avoid) wire.add_avoid(std::string(a));

    std::string failures;
    std::optional<absl::Status> unconfigured;  // the local agent's "not_configured"
    if (local_ != nullptr && should_try_local()) {
      bool answered = false;
      absl::StatusOr<AgentPick> got = call_pick(*local_, wire, request.deadline, &answered);
      if (got.ok() || !is_agent_failure(got.status(), answered)) {
        local_down_.store(false, std::memory_order_relaxed);
        if (got.ok()) local_picks_.fetch_add(1, std::memory_order_relaxed);
        // A local agent without the service's config yet (cold start, control plane
        // down), or whose DNS names have not resolved yet: a backup agent may have them.
        // Any other answer is final.
        const Refusal why = refusal_of(got.status());
        if (got.ok() || (why != Refusal::kNotConfigured && why != Refusal::kNoEndpoints) ||
            balancer_ == nullptr) {
          return got;
        }
        unconfigured = got.status();
      } else {
        local_down_.store(true, std::memory_order_relaxed);
        local_failures_.fetch_add(1, std::memory_order_relaxed);
        absl::StrAppend(&failures, "local: ", got.status().message());
      }
    } else if (local_ != nullptr) {
      absl::StrAppend(&failures, "local: down");
    }

    if (balancer_ != nullptr) {
      std::vector<std::string_view> tried;
      for (size_t i = 0; i < backups_.size(); ++i) {
        PickRequest choose;
        choose.service = kBackupService;
        choose.avoid = tried;
        absl::StatusOr<Pick> backup = balancer_->pick(choose);
        if (!backup.ok()) break;
        const std::string_view address = backup->address();
        const auto found = backups_.find(absl::string_view(address.data(), address.size()));
        if (found == backups_.end()) break;  // cannot happen: the config is ours
        Agent& agent = *found->second;
        const absl::Time start = absl::Now();
        bool answered = false;
        absl::StatusOr<AgentPick> got = call_pick(agent, wire, request.deadline, &answered);
        const absl::Duration took = absl::Now() - start;
        if (got.ok() || !is_agent_failure(got.status(), answered)) {
          balancer_->report(*backup, Outcome::grpc(0, took));
          if (got.ok()) backup_picks_.fetch_add(1, std::memory_order_relaxed);
          return got;  // the backup's answer decides, a refusal included
        }
        backup_failures_.fetch_add(1, std::memory_order_relaxed);
        balancer_->report(*backup, Outcome::transport_error(
                                       got.status().code() == absl::StatusCode::kDeadlineExceeded
                                           ? Transport::kReadTimeout
                                           : Transport::kConnectRefused,
                                       took));
        absl::StrAppend(&failures, "; ", agent.name, ": ", got.status().message());
        tried.push_back(agent.name);  // the map's key outlives the loop
      }
    }
    if (unconfigured.has_value()) return *unconfigured;  // and no backup answered
    unanswered_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnavailableError(absl::StrCat("no agent answered (", failures, ")"));
  }

  absl::Status report(const AgentPick& pick, const Outcome& outcome) {
    // An injected abort: the agent holds nothing for it.
    if (pick.fault.abort_status != 0) return absl::OkStatus();
    Agent* agent = nullptr;
    if (pick.agent == "local") {
      agent = local_.get();
    } else if (auto it = backups_.find(pick.agent); it != backups_.end()) {
      agent = it->second.get();
    }
    if (agent == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("pick.agent: no agent \"", pick.agent, "\""));
    }
    v1::AgentReportRequest wire;
    wire.set_ticket(pick.ticket);
    v1::AgentOutcome* o = wire.mutable_outcome();
    o->set_transport(static_cast<v1::AgentTransport>(outcome.transport));
    o->set_status_kind(static_cast<v1::AgentStatusKind>(outcome.status_kind));
    o->set_status_code(outcome.status_code);
    o->set_latency_us(
        static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Microseconds(outcome.latency))));
    grpc::ClientContext context;
    prepare(context, *agent, Deadline::none());
    v1::AgentReportResponse response;
    return from_grpc(agent->stub->Report(&context, wire, &response));
  }

  absl::StatusOr<std::string> query(std::string_view what) {
    v1::AgentQueryRequest wire;
    wire.set_what(std::string(what));
    std::vector<Agent*> order;
    if (local_ != nullptr) order.push_back(local_.get());
    for (auto& [name, agent] : backups_) order.push_back(agent.get());
    absl::Status last = absl::UnavailableError("no agent");
    for (Agent* agent : order) {
      grpc::ClientContext context;
      prepare(context, *agent, Deadline::none());
      v1::AgentQueryResponse response;
      const grpc::Status s = agent->stub->Query(&context, wire, &response);
      if (s.ok()) return response.json();
      last = from_grpc(s);
      if (!agent_failed(s.error_code())) return last;
    }
    return last;
  }

  Stats stats() const {
    Stats s;
    s.local_picks = local_picks_.load(std::memory_order_relaxed);
    s.backup_picks = backup_picks_.load(std::memory_order_relaxed);
    s.local_failures = local_failures_.load(std::memory_order_relaxed);
    s.backup_failures = backup_failures_.load(std::memory_order_relaxed);
    s.unanswered = unanswered_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // A call that got no answer from the agent (an answer, a refusal included, is final).
  static bool is_agent_failure(const absl::Status& s, bool answered) {
    return !answered && agent_failed(static_cast<grpc::StatusCode>(s.code()));
  }

  // While the local agent is down: its channel must be connected again, and at most one
  // pick per local_recheck finds out whether it answers.
  bool should_try_local() {
    if (!local_down_.load(std::memory_order_relaxed)) return true;
    if (local_->channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) return false;
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();  // never the wall clock: it may step back
    int64_t last = last_local_try_ns_.load(std::memory_order_relaxed);
    if (now - last < absl::ToInt64Nanoseconds(options_.local_recheck)) return false;
    return last_local_try_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed);
  }

  void prepare(grpc::ClientContext& context, const Agent& /*agent*/, const Deadline& deadline) {
    if (!deadline.is_none()) {
      context.AddMetadata(std::string(kTimeoutHeader), encode_timeout(deadline));
    }
    // No longer than the request has left: past its deadline nobody waits for the answer.
    const absl::Duration wait = std::min(options_.agent_timeout, deadline.remaining());
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::microseconds(absl::ToInt64Microseconds(wait)));
    if (!options_.token.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
    }
  }

  absl::StatusOr<AgentPick> call_pick(Agent& agent, const v1::AgentPickRequest& wire,
                                      const Deadline& deadline, bool* answered) {
    grpc::ClientContext context;
    prepare(context, agent, deadline);
    v1::AgentPickResponse response;
    const grpc::Status s = agent.stub->Pick(&context, wire, &response);
    // Whether the agent answered (a pick, a refusal, an error of its own) rather than the
    // call failing in transport or in time.
    *answered = s.ok() || !agent_failed(s.error_code());
    if (!s.ok()) return from_grpc(s);
    if (response.has_refusal()) {
      const v1::AgentRefusal& r = response.refusal();
      // A code of 0 (OK) or out of range from a confused agent is still a refusal.
      const int code = r.code() > 0 && r.code() <= 16 ? r.code() : 2;  // 2: UNKNOWN
      return with_refusal(absl::Status(static_cast<absl::StatusCode>(code), r.message()),
                          refusal_named(r.reason()));
    }
    const MonotonicTime now = Clock::system()->monotonic_now();
    AgentPick pick;
    pick.address = response.endpoint().address();
    pick.host = response.endpoint().host();
    pick.port = static_cast<uint16_t>(response.endpoint().port());
    for (const auto& [key, value] : response.endpoint().tags()) pick.tags.emplace_back(key, value);
    std::sort(pick.tags.begin(), pick.tags.end());
    pick.timeouts.connect =
        from_ms(response.has_connect_timeout_ms(), response.connect_timeout_ms());
    pick.timeouts.read = from_ms(response.has_read_timeout_ms(), response.read_timeout_ms());
    pick.timeouts.write = from_ms(response.has_write_timeout_ms(), response.write_timeout_ms());
    pick.retry_allowed = response.retry_allowed();
    pick.max_attempts = response.max_attempts();
    pick.deadline =
        response.has_deadline_remaining_ms()
            ? Deadline::at(
                  now + absl::Milliseconds(static_cast<int64_t>(response.deadline_remaining_ms())))
            : Deadline::none();
    pick.ticket = std::move(*response.mutable_ticket());
    pick.agent = agent.name;
    // Saturated, not truncated: a confused agent's 65536 must not read as "no abort".
    pick.fault.abort_status =
        static_cast<uint16_t>(std::min<uint32_t>(response.fault().abort_status(), 65535));
    pick.fault.delay = absl::Milliseconds(response.fault().delay_ms());
    return pick;
  }

  const AgentClientOptions options_;
  std::unique_ptr<Agent> local_;
  absl::flat_hash_map<std::string, std::unique_ptr<Agent>> backups_;  // fixed after init
  std::unique_ptr<Client> balancer_;
  std::atomic<bool> local_down_{false};
  std::atomic<int64_t> last_local_try_ns_{0};
  std::atomic<uint64_t> local_picks_{0}, backup_picks_{0}, local_failures_{0}, backup_failures_{0},
      unanswered_{0};
};

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::create(
    const AgentClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (absl::Status s = impl->init(); !s.ok()) return s;
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(impl)));
}

AgentClient::AgentClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AgentClient::~AgentClient() = default;

absl::StatusOr<AgentPick> AgentClient::pick(const PickRequest& request) {
  return impl_->pick(request);
}
absl::Status AgentClient::report(const AgentPick& pick, const Outcome& outcome) {
  return impl_->report(pick, outcome);
}
absl::StatusOr<std::string> AgentClient::query(std::string_view what) { return impl_->query(what); }
AgentClient::Stats AgentClient::stats() const { return impl_->stats(); }

}  // namespace ufc
