// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc-agentd as real processes on loopback: its safety (tokens, non-loopback refusal,
// forged and reused tickets, Session batches), a cold start from its cache with the
// control server gone, and AgentClient's fallback under a 1,000 requests/s load while
// agents are killed with SIGKILL and restarted — real HTTP backends behind it all.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "examples/http_get.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/agent/http_test_peers.h"
#include "tests/dns/dnsmasq_process.h"
#include "tests/metad/metad_process.h"
#include "tests/testing/tls_cert.h"
#include "ufc/agent_client.h"
#include "ufc/client.h"
#include "ufc/refusal.h"
#include "ufc/v1/agent.grpc.pb.h"
#include "ufc/v1/meta.grpc.pb.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;
using testing::TempDir;

// Two healthy example backends and a ClientConfig file naming them as service "echo".
class World {
 public:
  World() {
    for (int i = 0; i < 2; ++i) {
      backends_.push_back(
          std::make_unique<ServerProcess>(UFC_BACKEND_BIN, ServerProcess::PortFlag::kPort));
      EXPECT_TRUE(backends_.back()->start({"--mode=healthy", absl::StrCat("--name=b", i)}));
    }
    config_ = dir_.path() + "/ufc.json";
    std::ofstream(config_) << config_json();
  }
  std::string config_json() const {
    std::string endpoints;
    for (const auto& b : backends_) {
      if (!endpoints.empty()) endpoints += ",";
      absl::StrAppend(&endpoints, "{\"address\":\"", b->address(), "\"}");
    }
    return absl::StrCat("{\"services\":[{\"name\":\"echo\",\"version\":\"1\",\"endpoints\":[",
                        endpoints, "]}]}");
  }
  const std::string& config() const { return config_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::vector<std::unique_ptr<ServerProcess>> backends_;
  std::string config_;
};

std::unique_ptr<v1::Agent::Stub> stub(const std::string& address) {
  return v1::Agent::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

void set_deadline(grpc::ClientContext& context, int ms = 5000) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
}

// Puts the world's "echo" into the control server at `metad`.
bool put_echo(const std::string& metad, const World& world) {
  v1::ClientConfig config;
  if (!google::protobuf::util::JsonStringToMessage(world.config_json(), &config).ok()) return false;
  auto admin = v1::Meta::NewStub(grpc::CreateChannel(metad, grpc::InsecureChannelCredentials()));
  v1::PutServiceRequest req;
  *req.mutable_service() = config.services(0);
  req.mutable_service()->set_version(0);
  v1::PutServiceResponse resp;
  grpc::ClientContext c;
  set_deadline(c);
  return admin->PutService(&c, req, &resp).ok();
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& s) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << s;
  return path;
}

TEST(AgentProcess, RefusesNonLoopbackWithoutToken) {
  World world;
  ServerProcess backup(UFC_AGENTD_BIN);
  EXPECT_FALSE(backup.start({"--mode=backup", "--listen=0.0.0.0:0", "--config=" + world.config()}));
  EXPECT_THAT(backup.log(), HasSubstr("not loopback: set --token_file"));
  ServerProcess local(UFC_AGENTD_BIN);
  EXPECT_FALSE(local.start({"--listen=0.0.0.0:0", "--config=" + world.config()}));
  EXPECT_THAT(local.log(), HasSubstr("local mode serves this host only"));
  // With a token, backup mode may listen on any address.
  const std::string token = write_file(world.dir(), "token", "s3cret\n");
  ServerProcess ok(UFC_AGENTD_BIN);
  EXPECT_TRUE(ok.start({"--mode=backup", "--listen=0.0.0.0:0", "--token_file=" + token,
                        "--config=" + world.config()}))
      << ok.log();
}

// The agent's callers get DNS destinations too: a service named by a real dnsmasq, its
// answer resolved by the agent's own resolver (--dns_servers); a bad server list fails the
// start.
TEST(AgentProcess, ServesAServiceFromDnsAndRefusesABadResolverFlag) {
  absl::StatusOr<std::unique_ptr<testing::Dnsmasq>> dns =
      testing::Dnsmasq::start({{{"127.0.0.81", "web.ufc.test"}, {"127.0.0.82", "web.ufc.test"}}});
  ASSERT_TRUE(dns.ok()) << dns.status();
  TempDir dir;
  const std::string config = write_file(
      dir.path(), "ufc.json",
      R"({"services":[{"name":"web","version":"1","destinations":{"dns":[{"name":"web.ufc.test",)"
      R"("port":9090}],"refreshInterval":"0.2s","minRefresh":"0.2s"}}]})");
  ServerProcess bad(UFC_AGENTD_BIN);
  EXPECT_FALSE(bad.start({"--config=" + config, "--dns_servers=dns.example"}));
  EXPECT_THAT(bad.log(), HasSubstr("--dns_servers"));
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start({"--config=" + config, "--dns_servers=" + (*dns)->server()}))
      << agent.log();
  auto a = stub(agent.address());
  std::set<std::string> seen;
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (seen.size() < 2 && absl::Now() < until) {
    v1::AgentPickRequest p;
    p.set_service("web");
    v1::AgentPickResponse pr;
    grpc::ClientContext c;
    set_deadline(c);
    ASSERT_TRUE(a->Pick(&c, p, &pr).ok());
    if (pr.has_endpoint()) {
      seen.insert(absl::StrCat(pr.endpoint().host(), ":", pr.endpoint().port()));
    } else {
      // Before the first answer: refused, saying why (not an RPC error).
      EXPECT_EQ(pr.refusal().reason(), "no_endpoints");
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"127.0.0.81:9090", "127.0.0.82:9090"}));
}

TEST(AgentProcess, TokensGuardQueryAndBackupPicks) {
  World world;
  const std::string token = write_file(world.dir(), "token", "s3cret");
  ServerProcess local(UFC_AGENTD_BIN), backup(UFC_AGENTD_BIN);
  ASSERT_TRUE(local.start({"--config=" + world.config(), "--token_file=" + token})) << local.log();
  ASSERT_TRUE(
      backup.start({"--mode=backup", "--config=" + world.config(), "--token_file=" + token}))
      << backup.log();

  auto l = stub(local.address());
  v1::AgentQueryRequest q;
  q.set_what("agent");
  v1::AgentQueryResponse qr;
  {
    grpc::ClientContext c;
    set_deadline(c);
    EXPECT_EQ(l->Query(&c, q, &qr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext c;
    set_deadline(c);
    c.AddMetadata("authorization", "Bearer wrong");
    EXPECT_EQ(l->Query(&c, q, &qr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext c;
    set_deadline(c);
    c.AddMetadata("authorization", "Bearer s3cret");
    ASSERT_TRUE(l->Query(&c, q, &qr).ok());
    EXPECT_EQ(qr.view().fields().at("agent").struct_value().fields().at("mode").string_value(),
              "local");
    EXPECT_THAT(qr.json(), HasSubstr("\"unauthenticated\":2"));
  }
  // A local agent's picks need no token; a backup agent's do.
  v1::AgentPickRequest p;
  p.set_service("echo");
  v1::AgentPickResponse pr;
  {
    grpc::ClientContext c;
    set_deadline(c);
    EXPECT_TRUE(l->Pick(&c, p, &pr).ok());
    EXPECT_FALSE(pr.ticket().empty());
  }
  auto b = stub(backup.address());
  {
    grpc::ClientContext c;
    set_deadline(c);
    EXPECT_EQ(b->Pick(&c, p, &pr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext c;
    set_deadline(c);
    c.AddMetadata("authorization", "Bearer s3cret");
    EXPECT_TRUE(b->Pick(&c, p, &pr).ok());
  }
}

TEST(AgentProcess, TicketsAreSingleUseAndUnforgeable) {
  World world;
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start({"--config=" + world.config()})) << agent.log();
  auto a = stub(agent.address());
  v1::AgentPickRequest p;
  p.set_service("echo");
  v1::AgentPickResponse pr;
  {
    grpc::ClientContext c;
    set_deadline(c);
    ASSERT_TRUE(a->Pick(&c, p, &pr).ok());
  }
  auto report = [&](const std::string& ticket) {
    v1::AgentReportRequest r;
    r.set_ticket(ticket);
    r.mutable_outcome()->set_status_kind(v1::AGENT_STATUS_HTTP);
    r.mutable_outcome()->set_status_code(200);
    v1::AgentReportResponse rr;
    grpc::ClientContext c;
    set_deadline(c);
    return a->Report(&c, r, &rr).error_code();
  };
  std::string forged = pr.ticket();
  forged[10] = static_cast<char>(forged[10] ^ 1);
  EXPECT_EQ(report(forged), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(report("garbage"), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(report(std::string(16, '\xff')), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(report(pr.ticket()), grpc::StatusCode::OK);
  EXPECT_EQ(report(pr.ticket()), grpc::StatusCode::NOT_FOUND);  // reused
  // A bad outcome is refused before the ticket is spent.
  {
    grpc::ClientContext c;
    set_deadline(c);
    ASSERT_TRUE(a->Pick(&c, p, &pr).ok());
    v1::AgentReportRequest r;
    r.set_ticket(pr.ticket());
    r.mutable_outcome()->set_status_kind(v1::AGENT_STATUS_HTTP);
    r.mutable_outcome()->set_status_code(99999);
    v1::AgentReportResponse rr;
    grpc::ClientContext c2;
    set_deadline(c2);
    EXPECT_EQ(a->Report(&c2, r, &rr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(report(pr.ticket()), grpc::StatusCode::OK);
  }
  // Unknown services and spent deadlines are answers, not errors.
  {
    v1::AgentPickRequest unknown;
    unknown.set_service("nope");
    grpc::ClientContext c;
    set_deadline(c);
    ASSERT_TRUE(a->Pick(&c, unknown, &pr).ok());
    EXPECT_EQ(pr.refusal().reason(), "not_configured");
    EXPECT_EQ(pr.refusal().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  }
  {
    grpc::ClientContext c;
    set_deadline(c);
    c.AddMetadata("x-ufc-timeout-ms", "0");
    ASSERT_TRUE(a->Pick(&c, p, &pr).ok());
    EXPECT_EQ(pr.refusal().reason(), "deadline_spent");
  }
  {
    grpc::ClientContext c;
    set_deadline(c);
    c.AddMetadata("x-ufc-timeout-ms", "-5");
    EXPECT_EQ(a->Pick(&c, p, &pr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST(AgentProcess, SessionAnswersBatchesInOrder) {
  World world;
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start({"--config=" + world.config()})) << agent.log();
  auto a = stub(agent.address());
  grpc::ClientContext c;
  set_deadline(c, 10000);
  auto stream = a->Session(&c);
  std::vector<std::string> tickets;
  for (int round = 0; round < 10; ++round) {
    v1::AgentSessionRequest req;
    for (int i = 0; i < 50; ++i) {
      v1::AgentPickRequest* p = req.add_picks();
      p->set_service(i == 7 ? "nope" : "echo");
      p->set_id(round * 100 + i);
      if (i == 9) p->set_timeout_ms(0);
    }
    for (size_t i = 0; i < tickets.size(); ++i) {
      v1::AgentReportRequest* r = req.add_reports();
      r->set_ticket(tickets[i]);
      r->set_id(i);
      r->mutable_outcome()->set_status_kind(v1::AGENT_STATUS_HTTP);
      r->mutable_outcome()->set_status_code(200);
    }
    v1::AgentReportRequest* bad = req.add_reports();
    bad->set_ticket("forged-forged-ff");
    bad->set_id(999);
    ASSERT_TRUE(stream->Write(req));
    v1::AgentSessionResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    ASSERT_EQ(resp.picks_size(), 50);
    tickets.clear();
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(resp.picks(i).id(), static_cast<uint64_t>(round * 100 + i));
      if (i == 7) {
        EXPECT_EQ(resp.picks(i).refusal().reason(), "not_configured");
      } else if (i == 9) {
        EXPECT_EQ(resp.picks(i).refusal().reason(), "deadline_spent");
      } else {
        EXPECT_FALSE(resp.picks(i).has_refusal());
        tickets.push_back(resp.picks(i).ticket());
      }
    }
    ASSERT_EQ(resp.report_errors_size(), 1);  // only the forged one
    EXPECT_EQ(resp.report_errors(0).id(), 999u);
  }
  // A batch over the limit ends the stream with INVALID_ARGUMENT (the agent stays up).
  v1::AgentSessionRequest huge;
  for (int i = 0; i < 5000; ++i) huge.add_picks()->set_service("echo");
  stream->Write(huge);
  v1::AgentSessionResponse ignored;
  while (stream->Read(&ignored)) {
  }
  const grpc::Status end = stream->Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << end.error_message();
  EXPECT_THAT(end.error_message(), HasSubstr("more than 4096"));
  v1::AgentPickRequest p;
  p.set_service("echo");
  v1::AgentPickResponse pr;
  grpc::ClientContext after;
  set_deadline(after);
  EXPECT_TRUE(a->Pick(&after, p, &pr).ok());
}

TEST(AgentProcess, ColdStartFromCacheWithTheControlServerDown) {
  World world;
  ServerProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + world.dir() + "/metad"})) << metad.log();
  ASSERT_TRUE(put_echo(metad.address(), world));
  const std::string cache = world.dir() + "/cache";
  const std::vector<std::string> flags = {"--metad=" + metad.address(), "--cache_dir=" + cache};
  auto picks_echo = [](const std::string& address) {
    auto a = stub(address);
    for (int i = 0; i < 500; ++i) {
      v1::AgentPickRequest p;
      p.set_service("echo");
      v1::AgentPickResponse pr;
      grpc::ClientContext c;
      set_deadline(c);
      if (a->Pick(&c, p, &pr).ok() && !pr.has_refusal()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  {
    ServerProcess agent(UFC_AGENTD_BIN);
    ASSERT_TRUE(agent.start(flags)) << agent.log();
    ASSERT_TRUE(picks_echo(agent.address())) << agent.log();
    // The agent is in the control plane's freshness table, holding every service.
    auto admin =
        v1::Meta::NewStub(grpc::CreateChannel(metad.address(), grpc::InsecureChannelCredentials()));
    bool listed = false;
    for (int i = 0; i < 200 && !listed; ++i) {
      v1::ListClientsRequest req;
      v1::ListClientsResponse resp;
      grpc::ClientContext c;
      set_deadline(c);
      ASSERT_TRUE(admin->ListClients(&c, req, &resp).ok());
      for (const v1::ClientStatus& client : resp.clients()) {
        if (client.client().client_id().rfind("agentd/", 0) == 0 && client.all_services() &&
            client.client().self_service() == "ufc-agentd" && client.last_ack_unix_ms() > 0) {
          listed = true;
        }
      }
      if (!listed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(listed);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the cache is written
    agent.kill(SIGKILL);
  }
  metad.kill(SIGKILL);
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start(flags)) << agent.log();
  auto a = stub(agent.address());
  v1::AgentPickRequest p;
  p.set_service("echo");
  v1::AgentPickResponse pr;
  grpc::ClientContext c;
  set_deadline(c);
  ASSERT_TRUE(a->Pick(&c, p, &pr).ok());
  EXPECT_FALSE(pr.has_refusal()) << pr.refusal().message();
}

// AgentClient's call timeout bounds the wait for the agent; only the request's own deadline
// reaches the pick (a 200 ms agent_timeout must not become every request's budget).
TEST(AgentProcess, AgentClientSendsTheRequestDeadlineNotItsCallTimeout) {
  World world;
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start({"--config=" + world.config()})) << agent.log();
  AgentClientOptions options;
  options.local = agent.address();
  options.agent_timeout = absl::Milliseconds(200);
  std::unique_ptr<AgentClient> agents = AgentClient::create(options).value();
  absl::StatusOr<AgentPick> none = agents->pick({.service = "echo"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->deadline.is_none());
  EXPECT_EQ(none->timeouts.read, absl::InfiniteDuration());
  absl::StatusOr<AgentPick> budget =
      agents->pick({.service = "echo", .deadline = Deadline::after(absl::Seconds(3))});
  ASSERT_TRUE(budget.ok()) << budget.status();
  EXPECT_GT(budget->deadline.remaining(), absl::Milliseconds(2500));
  EXPECT_LE(budget->timeouts.read, absl::Seconds(3));
  EXPECT_GT(budget->timeouts.read, absl::Milliseconds(2500));
  EXPECT_TRUE(agents->report(*budget, Outcome::http(200, absl::Milliseconds(1))).ok());
  absl::StatusOr<AgentPick> spent =
      agents->pick({.service = "echo", .deadline = Deadline::at(MonotonicTime::infinite_past())});
  EXPECT_EQ(refusal_of(spent.status()), Refusal::kDeadlineSpent);
  absl::StatusOr<AgentPick> unknown = agents->pick({.service = "nope"});
  EXPECT_EQ(refusal_of(unknown.status()), Refusal::kNotConfigured);
  EXPECT_EQ(agents->stats().unanswered, 0u);
}

// Injected faults through the agent: an abort comes without endpoint or ticket and its
// report is a no-op; a delay comes with its endpoint, rounded up to a millisecond.
TEST(AgentProcess, AgentClientCarriesInjectedFaults) {
  World world;
  std::string faulty = world.config_json();
  faulty.replace(faulty.size() - 3, 3,
                 ",\"faults\":["
                 "{\"attributes\":[{\"key\":\"x-chaos\",\"value\":\"abort\"}],"
                 "\"abort\":{\"httpStatus\":503}},"
                 "{\"attributes\":[{\"key\":\"x-chaos\",\"value\":\"slow\"}],"
                 "\"delay\":{\"fixed\":\"0.0405s\"}}]}]}");
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start({"--config=" + write_file(world.dir(), "faulty.json", faulty)}))
      << agent.log();
  AgentClientOptions options;
  options.local = agent.address();
  std::unique_ptr<AgentClient> agents = AgentClient::create(options).value();
  const Attribute abort[] = {{"x-chaos", "abort"}};
  absl::StatusOr<AgentPick> aborted = agents->pick({.service = "echo", .attributes = abort});
  ASSERT_TRUE(aborted.ok()) << aborted.status();
  EXPECT_EQ(aborted->fault.abort_status, 503);
  EXPECT_EQ(aborted->fault.delay, absl::ZeroDuration());
  EXPECT_EQ(aborted->address, "");
  EXPECT_EQ(aborted->ticket, "");
  EXPECT_TRUE(agents->report(*aborted, Outcome::http(503, absl::ZeroDuration())).ok());
  const Attribute slow[] = {{"x-chaos", "slow"}};
  absl::StatusOr<AgentPick> delayed = agents->pick({.service = "echo", .attributes = slow});
  ASSERT_TRUE(delayed.ok()) << delayed.status();
  EXPECT_EQ(delayed->fault.abort_status, 0);
  EXPECT_EQ(delayed->fault.delay, absl::Milliseconds(41));
  EXPECT_NE(delayed->address, "");
  EXPECT_TRUE(agents->report(*delayed, Outcome::http(200, absl::Milliseconds(1))).ok());
  absl::StatusOr<AgentPick> plain = agents->pick({.service = "echo"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->fault.abort_status, 0);
  EXPECT_EQ(plain->fault.delay, absl::ZeroDuration());
  EXPECT_TRUE(agents->report(*plain, Outcome::http(200, absl::Milliseconds(1))).ok());
  absl::StatusOr<std::string> info = agents->query("request_info^echo");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(*info, HasSubstr("\"request_cnt\":2,"));
  EXPECT_THAT(*info, HasSubstr("\"faults\":{\"aborts\":1,\"delays\":1}"));
}

// A local agent that has no config for a service yet (cold start, control plane down)
// refuses it as not configured; a backup agent that has it answers instead.
TEST(AgentProcess, AServiceTheLocalAgentLacksIsAskedOfABackup) {
  World world;
  std::string other = world.config_json();
  other.replace(other.find("\"echo\""), 6, "\"else\"");
  const std::string other_config = write_file(world.dir(), "other.json", other);
  ServerProcess local(UFC_AGENTD_BIN), backup(UFC_AGENTD_BIN);
  ASSERT_TRUE(local.start({"--config=" + other_config})) << local.log();
  ASSERT_TRUE(backup.start({"--config=" + world.config()})) << backup.log();
  AgentClientOptions options;
  options.local = local.address();
  options.backups = {backup.address()};
  // The 5 MB request below takes longer than the default 200 ms on a loaded machine (a
  // parallel CI run): a timeout would count as the local agent's failure.
  options.agent_timeout = absl::Seconds(5);
  std::unique_ptr<AgentClient> agents = AgentClient::create(options).value();
  absl::StatusOr<AgentPick> echo = agents->pick({.service = "echo"});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->agent, backup.address());
  EXPECT_TRUE(agents->report(*echo, Outcome::http(200, absl::Milliseconds(1))).ok());
  absl::StatusOr<AgentPick> mine = agents->pick({.service = "else"});
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->agent, "local");
  // Known to nobody: the refusal stands.
  EXPECT_EQ(refusal_of(agents->pick({.service = "nope"}).status()), Refusal::kNotConfigured);
  // A request the agent refuses as too big is this request's problem, not the agent's:
  // no failover, and the local agent stays in use.
  const std::string big(5 << 20, 'x');
  const Attribute attribute{"k", big};
  absl::StatusOr<AgentPick> too_big =
      agents->pick({.service = "else", .attributes = absl::MakeConstSpan(&attribute, 1)});
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted) << too_big.status();
  EXPECT_EQ(agents->stats().local_failures, 0u);
  absl::StatusOr<AgentPick> again = agents->pick({.service = "else"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->agent, "local");
}

// A thick client (libufc in-process) with no config for "echo" yet: its control server
// has none. Its picks are made by a backup agent, and its reports reach that agent; once
// the control server delivers the config, picks are made in-process.
TEST(AgentProcess, AThickClientWithoutConfigUsesTheBackupClusterThenGoesInProcess) {
  World world;
  const std::string token = write_file(world.dir(), "token", "s3cret");
  ServerProcess backup(UFC_AGENTD_BIN), metad(UFC_METAD_BIN);
  ASSERT_TRUE(
      backup.start({"--mode=backup", "--config=" + world.config(), "--token_file=" + token}))
      << backup.log();
  ASSERT_TRUE(metad.start({"--data_dir=" + world.dir() + "/metad"})) << metad.log();

  ClientOptions options;
  options.self_service = "thick";
  options.sync.servers = {{metad.address(), ""}};
  options.backup.agents = {backup.address()};
  options.backup.token = "s3cret";
  std::unique_ptr<Client> client = Client::create(options).value();

  // Picks from the backup agent, spread over both backends, and real requests to them.
  std::set<std::string> backends;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Pick> pick = client->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok()) << pick.status();
    backends.emplace(pick->address());
    EXPECT_EQ(pick->host(), "127.0.0.1");
    const Outcome outcome = ufc_examples::http_get(*pick, "/");
    EXPECT_EQ(outcome.classify(), OutcomeClass::kSuccess) << pick->address();
    client->report(*pick, outcome);
  }
  EXPECT_EQ(backends.size(), 2u);
  // call() runs its attempts on the agent's picks too.
  absl::StatusOr<Outcome> called = client->call(
      {.service = "echo"}, [](const Pick& p) { return ufc_examples::http_get(p, "/"); });
  ASSERT_TRUE(called.ok()) << called.status();
  EXPECT_EQ(called->classify(), OutcomeClass::kSuccess);
  // A pick released unreported is not forwarded.
  { ASSERT_TRUE(client->pick({.service = "echo"}).ok()); }
  bool forwarded = false;
  for (int i = 0; i < 500 && !forwarded; ++i) {
    forwarded = client->query("backup").find(
                    "\"forwarded\":21,\"lost\":0,\"unreported\":1,"
                    "\"out\":0") != std::string::npos;
    if (!forwarded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(forwarded) << client->query("backup");
  EXPECT_THAT(client->query("backup"), HasSubstr("\"picks\":22,"));
  // The agent counted them: 21 successes of its own picks.
  {
    auto b = stub(backup.address());
    v1::AgentQueryRequest q;
    q.set_what("request_info^echo");
    v1::AgentQueryResponse qr;
    grpc::ClientContext c;
    set_deadline(c);
    c.AddMetadata("authorization", "Bearer s3cret");
    ASSERT_TRUE(b->Query(&c, q, &qr).ok());
    EXPECT_THAT(qr.json(), HasSubstr("\"request_cnt\":21,\"success_cnt\":21,"));
  }
  // A wrong token is the agent's answer, not a missing config.
  {
    ClientOptions wrong = options;
    wrong.backup.token = "wrong";
    wrong.sync = SyncOptions{};
    std::unique_ptr<Client> other = Client::create(wrong).value();
    absl::StatusOr<Pick> refused = other->pick({.service = "echo"});
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated) << refused.status();
  }
  // Known to nobody: this client's own refusal, saying what the backups said.
  absl::StatusOr<Pick> nope = client->pick({.service = "nope"});
  EXPECT_EQ(refusal_of(nope.status()), Refusal::kNotConfigured);
  EXPECT_THAT(std::string(nope.status().message()), HasSubstr("backup agents"));

  // The control server gets the config; the client has subscribed on its first pick.
  ASSERT_TRUE(put_echo(metad.address(), world));
  ASSERT_TRUE(client->wait_for_config("echo", absl::Seconds(10)).ok()) << client->query("sync");
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Pick> pick = client->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok()) << pick.status();
    client->report(*pick, ufc_examples::http_get(*pick, "/"));
  }
  EXPECT_THAT(client->query("backup"), HasSubstr("\"picks\":22,"));  // no more
  EXPECT_THAT(client->query("request_info^echo"),
              HasSubstr("\"request_cnt\":20,\"success_cnt\":20,"));
}

// The closed loop around a dead agent: three hosts, each with its agent (ufc-agentd
// --host), and a service whose endpoint on each host opted into agent_watch. A host whose
// agent is killed has its endpoint drained by the control server, at most max_share of
// them; callers (a thick client synced from it) stop picking it; the weight comes back
// with the agent. The endpoints' hosts are names that are never dialled.
TEST(AgentProcess, TheControlServerDrainsTheHostOfADeadAgentAndRestoresIt) {
  TempDir dir;
  ServerProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/metad", "--agent_watch_period_ms=100"}))
      << metad.log();
  auto admin =
      v1::Meta::NewStub(grpc::CreateChannel(metad.address(), grpc::InsecureChannelCredentials()));
  const std::vector<std::string> hosts = {"host-a.test", "host-b.test", "host-c.test"};
  {
    v1::PutServiceRequest req;
    v1::ServiceConfig* s = req.mutable_service();
    s->set_name("echo");
    for (const std::string& h : hosts) s->add_endpoints()->set_address(h + ":80");
    s->mutable_agent_watch()->set_enabled(true);
    s->mutable_agent_watch()->mutable_after()->set_seconds(1);
    s->mutable_agent_watch()->set_max_share(0.34);  // one of three
    v1::PutServiceResponse resp;
    grpc::ClientContext c;
    set_deadline(c);
    ASSERT_TRUE(admin->PutService(&c, req, &resp).ok());
  }
  auto agent = [&](const std::string& host) {
    auto p = std::make_unique<ServerProcess>(UFC_AGENTD_BIN);
    EXPECT_TRUE(p->start({"--metad=" + metad.address(), "--host=" + host})) << p->log();
    return p;
  };
  std::vector<std::unique_ptr<ServerProcess>> agents;
  for (const std::string& h : hosts) agents.push_back(agent(h));
  auto agents_listed = [&] {
    v1::ListClientsRequest req;
    v1::ListClientsResponse resp;
    grpc::ClientContext c;
    set_deadline(c);
    if (!admin->ListClients(&c, req, &resp).ok()) return 0;
    int n = 0;
    for (const v1::ClientStatus& client : resp.clients()) {
      n += client.client().self_service() == "ufc-agentd" && client.last_ack_unix_ms() > 0;
    }
    return n;
  };
  for (int i = 0; i < 500 && agents_listed() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(agents_listed(), 3);

  ClientOptions options;
  options.self_service = "caller";
  options.sync.servers = {{metad.address(), ""}};
  options.sync.services = {"echo"};
  std::unique_ptr<Client> client = Client::create(options).value();
  ASSERT_TRUE(client->wait_for_config("echo", absl::Seconds(10)).ok());
  auto picked = [&] {
    std::set<std::string> seen;
    for (int i = 0; i < 30; ++i) {
      absl::StatusOr<Pick> p = client->pick({.service = "echo"});
      if (p.ok()) seen.emplace(p->host());
    }
    return seen;
  };
  EXPECT_EQ(picked().size(), 3u);
  auto stored = [&] {
    v1::GetServiceRequest req;
    req.set_name("echo");
    v1::GetServiceResponse resp;
    grpc::ClientContext c;
    set_deadline(c);
    EXPECT_TRUE(admin->GetService(&c, req, &resp).ok());
    return resp.service();
  };
  auto drained = [](const v1::ServiceConfig& s, int i) {
    return s.endpoints(i).has_agent_drain() && s.endpoints(i).weight() == 0;
  };
  // `until` holds within 10 s.
  auto eventually = [](auto until) {
    for (int i = 0; i < 1000; ++i) {
      if (until()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return until();
  };

  const absl::Time killed = absl::Now();
  agents[1]->kill(SIGKILL);
  ASSERT_TRUE(eventually([&] { return drained(stored(), 1); })) << metad.log();
  const absl::Duration took = absl::Now() - killed;
  EXPECT_GE(took, absl::Seconds(1));  // not before `after`
  EXPECT_THAT(metad.log(), HasSubstr("agent_watch: echo: drained host-b.test:80"));
  ASSERT_TRUE(eventually([&] {
    return picked() == std::set<std::string>{"host-a.test", "host-c.test"};
  }));

  // A second host gone: max_share leaves it in rotation.
  agents[2]->kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  v1::ServiceConfig now = stored();
  EXPECT_TRUE(drained(now, 1));
  EXPECT_FALSE(now.endpoints(2).has_agent_drain());
  EXPECT_FALSE(now.endpoints(2).has_weight());

  // host-b's agent is back: its endpoint is restored, which makes room to drain host-c's.
  agents[1] = agent("host-b.test");
  ASSERT_TRUE(eventually([&] {
    const v1::ServiceConfig s = stored();
    return !s.endpoints(1).has_agent_drain() && !s.endpoints(1).has_weight() && drained(s, 2);
  })) << metad.log();
  EXPECT_THAT(metad.log(), HasSubstr("agent_watch: echo: restored host-b.test:80"));
  ASSERT_TRUE(eventually([&] {
    return picked() == std::set<std::string>{"host-a.test", "host-b.test"};
  }));
  std::fprintf(stderr, "drained %.2f s after the kill (after = 1 s, pass every 100 ms)\n",
               absl::ToDoubleSeconds(took));
}

// A backup agent on TLS with a token: AgentClient verifies it against the CA and falls
// back to it; without the CA (plaintext) the backup does not answer.
TEST(AgentProcess, BackupOverTlsWithAToken) {
  World world;
  testing::TlsCert tls;
  if (!testing::make_self_signed_cert(world.dir(), "agent", tls)) {
    GTEST_SKIP() << "openssl is not installed";
  }
  const std::string& cert = tls.cert;
  const std::string& key = tls.key;
  const std::string token = write_file(world.dir(), "token", "tls-token");
  ServerProcess backup(UFC_AGENTD_BIN);
  ASSERT_TRUE(backup.start({"--mode=backup", "--config=" + world.config(), "--token_file=" + token,
                            "--tls_cert=" + cert, "--tls_key=" + key}))
      << backup.log();
  AgentClientOptions options;
  options.local = "";  // backups only
  options.backups = {backup.address()};
  options.token = "tls-token";
  options.tls_ca_file = cert;  // self-signed: the certificate is its own CA
  std::unique_ptr<AgentClient> agents = AgentClient::create(options).value();
  absl::StatusOr<AgentPick> pick = agents->pick({.service = "echo"});
  ASSERT_TRUE(pick.ok()) << pick.status();
  EXPECT_EQ(pick->agent, backup.address());
  EXPECT_TRUE(agents->report(*pick, Outcome::http(200, absl::Milliseconds(1))).ok());

  options.tls_ca_file.clear();
  std::unique_ptr<AgentClient> plaintext = AgentClient::create(options).value();
  EXPECT_EQ(plaintext->pick({.service = "echo"}).status().code(), absl::StatusCode::kUnavailable);
  options.tls_ca_file = cert;
  options.token = "wrong";
  std::unique_ptr<AgentClient> wrong = AgentClient::create(options).value();
  EXPECT_EQ(wrong->pick({.service = "echo"}).status().code(), absl::StatusCode::kUnauthenticated);
}

// One request of the load: when it was sent, how long the pick took, who answered.
struct Sample {
  absl::Time at;
  absl::Duration pick_latency;
  std::string agent;
  bool answered = false;
  bool http_ok = false;
};

absl::Duration p99(std::vector<absl::Duration> v) {
  if (v.empty()) return absl::ZeroDuration();
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * 99 / 100)];
}

TEST(AgentProcess, FallbackUnderLoadLosesNothing) {
  World world;
  ServerProcess local(UFC_AGENTD_BIN), backup1(UFC_AGENTD_BIN), backup2(UFC_AGENTD_BIN);
  const std::vector<std::string> flags = {"--config=" + world.config()};
  ASSERT_TRUE(local.start(flags)) << local.log();
  ASSERT_TRUE(backup1.start(flags)) << backup1.log();
  ASSERT_TRUE(backup2.start(flags)) << backup2.log();
  const int local_port = local.port();

  AgentClientOptions options;
  options.local = local.address();
  options.backups = {backup1.address(), backup2.address()};
  std::unique_ptr<AgentClient> agents = AgentClient::create(options).value();

  constexpr int kThreads = 10;
  constexpr int kRate = 1000;  // requests/s in all
  const absl::Duration run = absl::Seconds(5);
  const absl::Time start = absl::Now() + absl::Milliseconds(100);
  std::mutex mu;
  std::vector<Sample> samples;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Sample> mine;
      for (int i = 0;; ++i) {
        const absl::Time due = start + absl::Seconds(1) * (i * kThreads + t) / kRate;
        if (due - start > run) break;
        absl::SleepFor(due - absl::Now());
        Sample s;
        s.at = absl::Now();
        absl::StatusOr<AgentPick> pick = agents->pick({.service = "echo"});
        s.pick_latency = absl::Now() - s.at;
        if (pick.ok()) {
          s.answered = true;
          s.agent = pick->agent;
          const Outcome o = ufc_examples::http_get(
              {pick->address, pick->host, pick->port, pick->timeouts, pick->deadline}, "/");
          s.http_ok = o.transport == Transport::kOk && o.status_code == 200;
          agents->report(*pick, o).IgnoreError();  // lost with its agent: allowed
        }
        mine.push_back(std::move(s));
      }
      std::lock_guard<std::mutex> lock(mu);
      samples.insert(samples.end(), mine.begin(), mine.end());
    });
  }
  // The script: kill the local agent, then a backup; restart the local agent.
  absl::SleepFor(start + absl::Milliseconds(1500) - absl::Now());
  const absl::Time local_killed = absl::Now();
  local.kill(SIGKILL);
  absl::SleepFor(start + absl::Milliseconds(2500) - absl::Now());
  const absl::Time backup_killed = absl::Now();
  backup1.kill(SIGKILL);
  absl::SleepFor(start + absl::Milliseconds(3500) - absl::Now());
  // The local agent may answer before start() returns (which waits for its port file, long
  // on a busy machine): backup2 is alone until the restart begins.
  const absl::Time restart_begun = absl::Now();
  ASSERT_TRUE(local.start(flags, local_port)) << local.log();
  const absl::Time local_back = absl::Now();
  for (std::thread& t : threads) t.join();

  std::sort(samples.begin(), samples.end(),
            [](const Sample& a, const Sample& b) { return a.at < b.at; });
  int unanswered = 0, http_failed = 0, b2_alone = 0;
  std::vector<absl::Duration> before, switching, steady_backup;
  absl::Time first_local_after_restart = absl::InfiniteFuture();
  int on_local = 0, on_b1 = 0, on_b2 = 0;
  for (const Sample& s : samples) {
    if (!s.answered) ++unanswered;
    if (s.answered && !s.http_ok) ++http_failed;
    if (s.agent == "local") ++on_local;
    if (s.agent == options.backups[0]) ++on_b1;
    if (s.agent == options.backups[1]) ++on_b2;
    if (s.at < local_killed) before.push_back(s.pick_latency);
    if (s.at >= local_killed && s.at < local_killed + absl::Milliseconds(500)) {
      switching.push_back(s.pick_latency);
    }
    if (s.at >= local_killed + absl::Milliseconds(500) && s.at < backup_killed) {
      steady_backup.push_back(s.pick_latency);
    }
    if (s.at >= backup_killed && s.at < restart_begun && s.agent == options.backups[1]) {
      ++b2_alone;  // local and backup1 both dead: backup2 takes it all
    }
    if (s.at >= local_back && s.agent == "local" && first_local_after_restart > s.at) {
      first_local_after_restart = s.at;
    }
  }
  int local_share_late = 0, late = 0;
  for (const Sample& s : samples) {
    if (s.at >= local_back + absl::Seconds(1)) {
      ++late;
      if (s.agent == "local") ++local_share_late;
    }
  }
  const AgentClient::Stats st = agents->stats();
  std::printf(
      "fallback under %d req/s: %zu requests, unanswered %d, http failures %d\n"
      "  served by local %d, backup1 %d, backup2 %d (client: local %llu, backup %llu, "
      "local failures %llu, backup failures %llu)\n"
      "  pick p99: before the kill %.2f ms, first 500 ms after %.2f ms, on backups %.2f ms\n"
      "  local agent back: first local pick %.0f ms after its restart; %d of %d later picks "
      "local\n",
      kRate, samples.size(), unanswered, http_failed, on_local, on_b1, on_b2,
      static_cast<unsigned long long>(st.local_picks),
      static_cast<unsigned long long>(st.backup_picks),
      static_cast<unsigned long long>(st.local_failures),
      static_cast<unsigned long long>(st.backup_failures), absl::ToDoubleMilliseconds(p99(before)),
      absl::ToDoubleMilliseconds(p99(switching)), absl::ToDoubleMilliseconds(p99(steady_backup)),
      absl::ToDoubleMilliseconds(first_local_after_restart - local_back), local_share_late, late);

  EXPECT_GE(samples.size(), 4500u);
  EXPECT_EQ(unanswered, 0);
  EXPECT_EQ(http_failed, 0);
  EXPECT_GT(on_b1, 0);
  EXPECT_GT(on_b2, 0);
  EXPECT_GE(b2_alone, 800);
  EXPECT_LE(first_local_after_restart - local_back, absl::Seconds(1));
  EXPECT_GE(local_share_late, late * 95 / 100);
}

// Callers over gRPC: each report lands in the agent's per-caller series and, sampled at
// 1, in its access log with the call's x-request-id.
TEST(AgentProcess, ReportsAreCountedPerCallerAndLogged) {
  World world;
  const std::string access_log = world.dir() + "/access.jsonl";
  ServerProcess agent(UFC_AGENTD_BIN);
  ASSERT_TRUE(agent.start(
      {"--config=" + world.config(), "--access_log=" + access_log, "--access_log_sample=1"}))
      << agent.log();
  auto a = stub(agent.address());
  for (int i = 0; i < 5; ++i) {
    v1::AgentPickRequest p;
    p.set_service("echo");
    p.set_caller_service(i < 3 ? "batch-job" : "web");
    v1::AgentPickResponse pr;
    grpc::ClientContext c;
    set_deadline(c);
    ASSERT_TRUE(a->Pick(&c, p, &pr).ok());
    v1::AgentReportRequest r;
    r.set_ticket(pr.ticket());
    r.mutable_outcome()->set_status_kind(v1::AGENT_STATUS_HTTP);
    r.mutable_outcome()->set_status_code(i == 0 ? 503 : 200);
    v1::AgentReportResponse rr;
    grpc::ClientContext c2;
    set_deadline(c2);
    c2.AddMetadata("x-request-id", absl::StrCat("trace-", i));
    ASSERT_TRUE(a->Report(&c2, r, &rr).ok());
  }
  testing::HttpMessage m =
      testing::http_request(agent.port_from("admin.port"), testing::get_request("/metrics", ""));
  ASSERT_EQ(m.status, 200);
  auto total = [&](const std::string& caller, const std::string& outcome) {
    double sum = 0;
    const std::string prefix = "ufc_agent_caller_requests_total{caller=\"" + caller + "\"";
    std::istringstream in(m.body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(prefix, 0) == 0 &&
          line.find("outcome=\"" + outcome + "\"}") != std::string::npos) {
        sum += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return sum;
  };
  EXPECT_EQ(total("batch-job", "ok"), 2) << m.body;
  EXPECT_EQ(total("batch-job", "server_error"), 1) << m.body;
  EXPECT_EQ(total("web", "ok"), 2) << m.body;
  std::ifstream in(access_log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[0],
              HasSubstr("\"via\":\"grpc\",\"caller\":\"batch-job\",\"service\":\"echo\""));
  EXPECT_THAT(lines[0], HasSubstr("\"trace_id\":\"trace-0\""));
  EXPECT_THAT(lines[0], HasSubstr("\"outcome\":\"server_error\",\"status\":503"));
  EXPECT_THAT(lines[4], HasSubstr("\"caller\":\"web\""));
}

}  // namespace
}  // namespace ufc
