// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// bench/agent_bench: what a pick + report costs through ufc-agentd over loopback gRPC,
// against a plain gRPC echo service that answers the same messages (the same sizes: a
// canned AgentPickResponse of a real pick), and in-process, in one run.
//
//   agent_bench [--seconds=3] [--batch=64] [--window=8] [--quick]
//
// Both servers run in this process on 127.0.0.1 ephemeral ports with gRPC's callback API
// (the agent is agentd's AgentService over a ufc::Client with 8 endpoints, round robin);
// the callers are gRPC's synchronous stubs. Rows:
//   unary, 1 caller     Pick RPC then Report RPC, back to back: per-pair latency p50/p99
//   unary, 4 callers    the same from 4 threads: pairs/s
//   session             one stream, batches of --batch picks (+ the previous batch's
//                       reports), --window batches in flight: pairs/s
//   in-process          Client::pick + Client::report, for scale
//   thick, no config    a ufc::Client without the service's config and the agent as its
//                       backup (ClientOptions::backup): pick+report latency p50/p99
// The goal (issue 15): agent/echo latency <= 1.2, session >= 100,000 pairs/s on 2 cores.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agentd/agent_service.h"
#include "grpcpp/grpcpp.h"
#include "ufc/client.h"
#include "ufc/v1/agent.grpc.pb.h"

namespace {

using ufc::v1::AgentPickRequest;
using ufc::v1::AgentPickResponse;
using ufc::v1::AgentReportRequest;
using ufc::v1::AgentReportResponse;
using ufc::v1::AgentSessionRequest;
using ufc::v1::AgentSessionResponse;

// The echo: answers every Pick with the same canned response, every Report with nothing,
// every Session batch with one canned response per pick. No UFC inside.
class EchoAgent final : public ufc::v1::Agent::CallbackService {
 public:
  explicit EchoAgent(AgentPickResponse canned) : canned_(std::move(canned)) {}

  grpc::ServerUnaryReactor* Pick(grpc::CallbackServerContext* context,
                                 const AgentPickRequest* request,
                                 AgentPickResponse* response) override {
    *response = canned_;
    response->set_id(request->id());
    auto* r = context->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  grpc::ServerUnaryReactor* Report(grpc::CallbackServerContext* context, const AgentReportRequest*,
                                   AgentReportResponse*) override {
    auto* r = context->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

  class Echo : public grpc::ServerBidiReactor<AgentSessionRequest, AgentSessionResponse> {
   public:
    explicit Echo(const AgentPickResponse& canned) : canned_(canned) { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        absl::MutexLock lock(&mu_);
        done_ = true;
        if (!writing_) Finish(grpc::Status::OK);
        return;
      }
      auto response = std::make_unique<AgentSessionResponse>();
      for (const AgentPickRequest& p : request_.picks()) {
        AgentPickResponse* out = response->add_picks();
        *out = canned_;
        out->set_id(p.id());
      }
      request_.Clear();
      absl::MutexLock lock(&mu_);
      queue_.push_back(std::move(response));
      if (!writing_) {
        writing_ = true;
        StartWrite(queue_.front().get());
      }
      StartRead(&request_);
    }
    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      queue_.pop_front();
      if (ok && !queue_.empty()) {
        StartWrite(queue_.front().get());
        return;
      }
      writing_ = false;
      if (done_) Finish(grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    const AgentPickResponse& canned_;
    AgentSessionRequest request_;
    absl::Mutex mu_;
    std::deque<std::unique_ptr<AgentSessionResponse>> queue_;
    bool writing_ = false;
    bool done_ = false;
  };
  grpc::ServerBidiReactor<AgentSessionRequest, AgentSessionResponse>* Session(
      grpc::CallbackServerContext*) override {
    return new Echo(canned_);
  }

 private:
  const AgentPickResponse canned_;
};

std::unique_ptr<grpc::Server> serve(grpc::Service* service, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

struct Unary {
  double p50_us = 0, p99_us = 0, pairs_per_s = 0;
};

// Pick then Report (with the pick's ticket), `threads` callers, for `seconds`.
Unary run_unary(ufc::v1::Agent::Stub& stub, int threads, double seconds) {
  std::vector<std::vector<double>> lat(threads);
  std::atomic<uint64_t> pairs{0};
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      AgentPickRequest pick;
      pick.set_service("svc");
      AgentPickResponse picked;
      AgentReportRequest report;
      report.mutable_outcome()->set_status_kind(ufc::v1::AGENT_STATUS_HTTP);
      report.mutable_outcome()->set_status_code(200);
      report.mutable_outcome()->set_latency_us(800);
      AgentReportResponse reported;
      while (absl::Now() < end) {
        const absl::Time start = absl::Now();
        grpc::ClientContext c1;
        if (!stub.Pick(&c1, pick, &picked).ok()) std::abort();
        report.set_ticket(picked.ticket());
        grpc::ClientContext c2;
        if (!stub.Report(&c2, report, &reported).ok()) std::abort();
        lat[t].push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
        pairs.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : ts) t.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Unary u;
  if (!all.empty()) {
    u.p50_us = all[all.size() / 2];
    u.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  u.pairs_per_s = pairs.load() / seconds;
  return u;
}

// One Session: `window` batches in flight; each batch carries `batch` picks and the
// reports of the batch answered before it.
double run_session(ufc::v1::Agent::Stub& stub, int batch, int window, double seconds) {
  grpc::ClientContext context;
  auto stream = stub.Session(&context);
  auto make = [&](const AgentSessionResponse* answered) {
    AgentSessionRequest req;
    for (int i = 0; i < batch; ++i) {
      AgentPickRequest* p = req.add_picks();
      p->set_service("svc");
      p->set_id(i);
    }
    if (answered != nullptr) {
      for (const AgentPickResponse& p : answered->picks()) {
        AgentReportRequest* r = req.add_reports();
        r->set_ticket(p.ticket());
        r->mutable_outcome()->set_status_kind(ufc::v1::AGENT_STATUS_HTTP);
        r->mutable_outcome()->set_status_code(200);
        r->mutable_outcome()->set_latency_us(800);
      }
    }
    return req;
  };
  for (int i = 0; i < window; ++i) {
    if (!stream->Write(make(nullptr))) std::abort();
  }
  uint64_t reported = 0;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  AgentSessionResponse response;
  while (absl::Now() < end) {
    if (!stream->Read(&response)) std::abort();
    if (!stream->Write(make(&response))) std::abort();
    reported += response.picks_size();
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  stream->WritesDone();
  while (stream->Read(&response)) {
  }
  stream->Finish().IgnoreError();
  return reported / elapsed;
}

double run_in_process(ufc::Client& client, double seconds) {
  uint64_t n = 0;
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  while (absl::Now() < end) {
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<ufc::Pick> p = client.pick({.service = "svc"});
      client.report(*p, ufc::Outcome::http(200, absl::Microseconds(800)));
    }
    n += 1000;
  }
  return seconds * 1e9 / n;
}

// A thick client without the service's config: each pick is asked of the backup agent
// (ClientOptions::backup), its report forwarded in the background. Per-pair latency.
Unary run_thick(ufc::Client& thick, double seconds) {
  std::vector<double> lat;
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  while (absl::Now() < end) {
    const absl::Time start = absl::Now();
    absl::StatusOr<ufc::Pick> p = thick.pick({.service = "svc"});
    if (!p.ok()) {
      std::fprintf(stderr, "thick pick: %s\n", std::string(p.status().message()).c_str());
      std::exit(1);
    }
    thick.report(*p, ufc::Outcome::http(200, absl::Microseconds(800)));
    lat.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  std::sort(lat.begin(), lat.end());
  Unary u;
  u.p50_us = lat[lat.size() / 2];
  u.p99_us = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  u.pairs_per_s = static_cast<double>(lat.size()) / seconds;
  return u;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int batch = 64, window = 8;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) seconds = std::atof(argv[i] + 10);
    if (std::strncmp(argv[i], "--batch=", 8) == 0) batch = std::atoi(argv[i] + 8);
    if (std::strncmp(argv[i], "--window=", 9) == 0) window = std::atoi(argv[i] + 9);
    if (std::strcmp(argv[i], "--quick") == 0) seconds = 0.2;
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  ufc::ClientOptions options;
  ufc::v1::ClientConfig config;
  ufc::v1::ServiceConfig* s = config.add_services();
  s->set_name("svc");
  for (int i = 1; i <= 8; ++i) {
    ufc::v1::Endpoint* e = s->add_endpoints();
    e->set_address(absl::StrCat("10.0.0.", i, ":8080"));
    (*e->mutable_tags())["idc"] = "bj";
  }
  options.initial_config = config;
  std::unique_ptr<ufc::Client> client = ufc::Client::create(options).value();
  ufc::agentd::AgentService::Options agent_options;
  std::unique_ptr<ufc::agentd::AgentService> agent =
      ufc::agentd::AgentService::create(*client, agent_options).value();
  agent->start();

  // The echo's canned answer: a real pick's response, so both answer the same bytes.
  AgentPickResponse canned;
  {
    AgentPickRequest req;
    req.set_service("svc");
    agent->do_pick(req, ufc::Deadline::none(), ufc::Clock::system()->monotonic_now(), &canned);
    AgentReportRequest r;
    r.set_ticket(canned.ticket());
    agent->do_report(r, ufc::Clock::system()->monotonic_now()).IgnoreError();
  }
  EchoAgent echo(canned);

  int agent_port = 0, echo_port = 0;
  std::unique_ptr<grpc::Server> agent_server = serve(agent.get(), &agent_port);
  std::unique_ptr<grpc::Server> echo_server = serve(&echo, &echo_port);
  auto agent_stub = ufc::v1::Agent::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", agent_port), grpc::InsecureChannelCredentials()));
  auto echo_stub = ufc::v1::Agent::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", echo_port), grpc::InsecureChannelCredentials()));

  // A thick client that has no config for "svc": the agent is its backup.
  ufc::ClientOptions thick_options;
  thick_options.self_service = "thick";
  thick_options.backup.agents = {absl::StrCat("127.0.0.1:", agent_port)};
  std::unique_ptr<ufc::Client> thick = ufc::Client::create(thick_options).value();

  std::printf("agent_bench: %.1f s per row, session batch %d window %d, response %zu bytes\n",
              seconds, batch, window, canned.ByteSizeLong());
  // Interleaved, echo first then agent, twice; the second round is reported (warm).
  Unary ue1, ua1, ue4, ua4, thick1;
  double se = 0, sa = 0;
  for (int round = 0; round < 2; ++round) {
    ue1 = run_unary(*echo_stub, 1, seconds);
    ua1 = run_unary(*agent_stub, 1, seconds);
    ue4 = run_unary(*echo_stub, 4, seconds);
    ua4 = run_unary(*agent_stub, 4, seconds);
    se = run_session(*echo_stub, batch, window, seconds);
    sa = run_session(*agent_stub, batch, window, seconds);
    thick1 = run_thick(*thick, seconds);
  }
  const double in_process_ns = run_in_process(*client, seconds);
  std::printf("%-22s %12s %12s %12s\n", "", "echo", "agent", "agent/echo");
  std::printf("%-22s %10.1fus %10.1fus %12.2f\n", "unary 1 caller p50", ue1.p50_us, ua1.p50_us,
              ua1.p50_us / ue1.p50_us);
  std::printf("%-22s %10.1fus %10.1fus %12.2f\n", "unary 1 caller p99", ue1.p99_us, ua1.p99_us,
              ua1.p99_us / ue1.p99_us);
  std::printf("%-22s %10.0f/s %10.0f/s %12.2f\n", "unary 4 callers", ue4.pairs_per_s,
              ua4.pairs_per_s, ua4.pairs_per_s / ue4.pairs_per_s);
  std::printf("%-22s %10.0f/s %10.0f/s %12.2f\n", "session pairs", se, sa, sa / se);
  std::printf("%-22s %23.1f ns per pick+report\n", "in-process", in_process_ns);
  std::printf(
      "%-22s p50 %.1fus p99 %.1fus (%.2f of the agent's unary pair at p50): a pick "
      "asked of the backup agent, its report forwarded\n",
      "thick, no config", thick1.p50_us, thick1.p99_us, thick1.p50_us / ua1.p50_us);
  std::printf("%-22s %s\n", "", thick->query("backup").c_str());
  const ufc::agentd::TicketTable::Stats t = agent->tickets().stats();
  std::printf("tickets: issued %llu, reported %llu, outstanding %llu\n",
              static_cast<unsigned long long>(t.issued),
              static_cast<unsigned long long>(t.reported),
              static_cast<unsigned long long>(t.outstanding));
  thick.reset();  // its forwarder reports to the agent: before the server goes
  agent_server->Shutdown();
  echo_server->Shutdown();
  agent->stop();
  return 0;
}
