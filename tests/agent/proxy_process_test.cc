// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc-agentd's HTTP proxy as a real process between real peers: a raw-socket client and
// curl in front; scripted backends, the example backend and Debian's nginx behind. Every
// policy: headers stripped and the budget passed on, UFC's refusals as 404/503/504, a
// banned backend, a fused service, a POST never sent twice once its body started, 10 MB
// chunked bodies both ways with bounded memory, smuggling refused, and the agent-to-agent
// hop refusing requests whose budget ran out while they waited.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/agent/http_test_peers.h"
#include "tests/metad/metad_process.h"
#include "ufc/v1/agent.grpc.pb.h"

namespace ufc {
namespace {

using testing::DeadPort;
using testing::HttpMessage;
using testing::ServerProcess;
using testing::service_json;
using testing::TempDir;
using testing::TestBackend;

// An agent with the given services, its proxy on an ephemeral port.
class Agent {
 public:
  explicit Agent(const std::vector<std::string>& services, std::vector<std::string> flags = {}) {
    std::string list;
    for (const std::string& s : services) absl::StrAppend(&list, list.empty() ? "" : ",", s);
    const std::string config = dir_.path() + "/ufc.json";
    std::ofstream(config) << "{\"services\":[" << list << "]}";
    flags.push_back("--config=" + config);
    ok_ = process_.start(flags);
  }
  bool ok() const { return ok_; }
  int proxy_port() const { return process_.port_from("proxy.port"); }
  pid_t pid() const { return process_.pid(); }
  std::string log() const { return process_.log(); }
  const ServerProcess& process() const { return process_; }

 private:
  TempDir dir_;
  ServerProcess process_{UFC_AGENTD_BIN};
  bool ok_ = false;
};

std::string to(const std::string& service, const std::string& more = "") {
  return "x-ufc-service-name: " + service + "\r\n" + more;
}

TEST(ProxyProcessTest, ForwardsWithUfcHeadersStrippedAndTheBudgetPassedOn) {
  std::atomic<int> seen_budget{-1};
  std::string seen_head;
  std::mutex mu;
  TestBackend backend([&](TestBackend::Request& r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen_head.clear();
      for (const auto& [k, v] : r.message.headers) seen_head += k + ": " + v + "\n";
    }
    const std::string budget = r.message.header("x-ufc-timeout-ms");
    seen_budget = budget.empty() ? -1 : std::atoi(budget.c_str());
    return testing::respond(r.fd, 201, "path=" + r.message.start_line, "X-Backend: b1\r\n");
  });
  Agent agent({service_json("echo", {backend.address()})});
  ASSERT_TRUE(agent.ok()) << agent.log();

  HttpMessage m = testing::http_request(
      agent.proxy_port(),
      testing::get_request("/a?b=1", to("echo",
                                        "x-ufc-self-service-name: web\r\n"
                                        "x-ufc-timeout-ms: 800\r\nX-Custom: yes\r\n")));
  EXPECT_EQ(m.status, 201);
  EXPECT_EQ(m.body, "path=GET /a?b=1 HTTP/1.1");
  EXPECT_EQ(m.header("x-backend"), "b1");
  EXPECT_GT(seen_budget.load(), 700);
  EXPECT_LE(seen_budget.load(), 800);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(seen_head.find("x-ufc-service-name"), std::string::npos) << seen_head;
    EXPECT_EQ(seen_head.find("x-ufc-self-service-name"), std::string::npos) << seen_head;
    EXPECT_NE(seen_head.find("x-custom: yes"), std::string::npos) << seen_head;
    EXPECT_NE(seen_head.find("host: test"), std::string::npos) << seen_head;
  }
  // No budget in: none out.
  testing::http_request(agent.proxy_port(), testing::get_request("/", to("echo")));
  EXPECT_EQ(seen_budget.load(), -1);

  // Keep-alive on both sides: 20 requests on one client connection reuse one upstream.
  const int fd = testing::connect_loopback(agent.proxy_port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(testing::send_all(fd, testing::get_request("/k", to("echo"))));
    std::string buf;
    ASSERT_TRUE(testing::read_until(
        fd, &buf,
        [](const std::string& b) { return testing::decode_message(b, true, false).complete; },
        5000));
    EXPECT_EQ(testing::decode_message(buf, true, false).status, 201);
  }
  ::close(fd);
  EXPECT_LE(backend.connections(), 3) << "upstream connections are pooled";
}

TEST(ProxyProcessTest, RefusalsAndBadRequestsAreClearAnswers) {
  TestBackend backend([](TestBackend::Request& r) { return testing::respond(r.fd, 200, "ok"); });
  Agent agent({service_json("echo", {backend.address()})});
  ASSERT_TRUE(agent.ok()) << agent.log();
  const int port = agent.proxy_port();

  HttpMessage m = testing::http_request(port, testing::get_request("/", to("nope")));
  EXPECT_EQ(m.status, 404);
  EXPECT_EQ(m.header("x-ufc-reason"), "not_configured");
  EXPECT_NE(m.body.find("\"error\":\"not_configured\""), std::string::npos) << m.body;

  m = testing::http_request(port, testing::get_request("/", ""));
  EXPECT_EQ(m.status, 400);
  EXPECT_EQ(m.header("x-ufc-reason"), "missing_service");

  m = testing::http_request(port, testing::get_request("/", to("echo", "x-ufc-timeout-ms: 0\r\n")));
  EXPECT_EQ(m.status, 504);
  EXPECT_EQ(m.header("x-ufc-reason"), "deadline_spent");

  m = testing::http_request(port,
                            testing::get_request("/", to("echo", "x-ufc-timeout-ms: -5\r\n")));
  EXPECT_EQ(m.status, 400);
  EXPECT_EQ(m.header("x-ufc-reason"), "bad_timeout");

  m = testing::http_request(port, testing::get_request("/", to("echo", "x-ufc-priority: vip\r\n")));
  EXPECT_EQ(m.status, 400);
  EXPECT_EQ(m.header("x-ufc-reason"), "bad_priority");
  EXPECT_EQ(backend.requests(), 0) << "nothing refused reached the backend";

  // Pipelined on one connection: a refusal, then a request that goes through, then one for
  // an unknown service; answered in order, the connection kept.
  const int fd = testing::connect_loopback(port);
  ASSERT_TRUE(testing::send_all(
      fd, testing::get_request("/1", to("echo", "x-ufc-timeout-ms: x\r\n")) +
              testing::get_request("/2", to("echo")) + testing::get_request("/3", to("nope"))));
  std::string buf;
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(testing::read_until(
        fd, &buf,
        [](const std::string& b) { return testing::decode_message(b, true, false).complete; },
        5000))
        << i;
    HttpMessage one = testing::decode_message(buf, true, false);
    statuses.push_back(one.status);
    buf.erase(0, one.wire_bytes);
  }
  ::close(fd);
  EXPECT_EQ(statuses, (std::vector<int>{400, 200, 404}));
  EXPECT_EQ(backend.requests(), 1);
}

TEST(ProxyProcessTest, SmugglingAttemptsGet400AndTheConnectionCloses) {
  TestBackend backend([](TestBackend::Request& r) { return testing::respond(r.fd, 200, "ok"); });
  Agent agent({service_json("echo", {backend.address()})});
  ASSERT_TRUE(agent.ok()) << agent.log();
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nx-ufc-service-name: echo\r\n";
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {head + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
       "conflicting_framing"},
      {head + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
       "conflicting_framing"},
      {head + "Content-Length: 0\r\nContent-Length: 44\r\n\r\n", "duplicate_content_length"},
      {head + "Transfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n",
       "duplicate_transfer_encoding"},
      {head + "Transfer-Encoding:\tchunked, identity\r\n\r\n", "unsupported_transfer_encoding"},
      {head + "Content-Length : 5\r\n\r\nhello", "bad_header_name"},
      {head + "X: a\r\n Transfer-Encoding: chunked\r\n\r\n", "obs_fold"},
      {"GET / HTTP/1.1\r\nHost: x\nx-ufc-service-name: echo\r\n\r\n", "bad_line_ending"},
      {head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", "bad_chunk_size"},
      {"GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", "head_too_large"},
  };
  for (const auto& [raw, reason] : attacks) {
    bool closed = false;
    HttpMessage m = testing::http_request(agent.proxy_port(), raw, 5000, &closed);
    EXPECT_EQ(m.status, 400) << reason;
    EXPECT_EQ(m.header("x-ufc-reason"), reason);
    EXPECT_TRUE(closed) << reason << ": the connection must close after a 400";
  }
  // The chunked one with a bad size started an exchange; nothing else reached the backend.
  EXPECT_LE(backend.requests(), 1);
}

// Reads the request, then resets the connection without answering.
bool reset_connection(TestBackend::Request& r) {
  linger l{1, 0};
  ::setsockopt(r.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  return false;
}

TEST(ProxyProcessTest, RetriesFailedGetsElsewhereAndBansTheBadBackend) {
  // Three good backends, one that resets every request, one that refuses connections:
  // the bad two are far worse than their peers, so banning takes them out.
  auto good = [](TestBackend::Request& r) { return testing::respond(r.fd, 200, "good"); };
  TestBackend g1(good), g2(good), g3(good);
  TestBackend bad(reset_connection);
  DeadPort dead;
  Agent agent({service_json(
      "svc", {g1.address(), bad.address(), g2.address(), dead.address(), g3.address()},
      ",\"fuse\":{\"enabled\":false},\"retry\":{\"budget\":1}")});
  ASSERT_TRUE(agent.ok()) << agent.log();
  int ok = 0, budget_refused = 0;
  std::string other;
  for (int i = 0; i < 40; ++i) {
    HttpMessage m = testing::http_request(agent.proxy_port(), testing::get_request("/", to("svc")));
    if (m.status == 200 && m.body == "good") {
      ++ok;
    } else if (m.body.find("retry_budget_spent") != std::string::npos) {
      ++budget_refused;  // the retry budget starts empty until its first 100 ms tick
    } else {
      absl::StrAppend(&other, m.status, " ", m.body, "; ");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(other, "") << "a GET fails only when its retry is refused";
  EXPECT_GE(ok, 32);
  EXPECT_GT(bad.requests(), budget_refused) << "GETs reset by `bad` were retried and served";
  // Both bad backends were banned (the agent logs its events on stderr).
  bool banned = false;
  for (int i = 0; i < 100 && !banned; ++i) {
    const std::string log = agent.log();
    banned = log.find("ban svc " + bad.address()) != std::string::npos &&
             log.find("ban svc " + dead.address()) != std::string::npos;
    if (!banned) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(banned) << agent.log();
}

TEST(ProxyProcessTest, FusedServiceAnswers503) {
  DeadPort dead_port;
  const std::string dead = dead_port.address();
  Agent agent({service_json("down", {dead},
                            ",\"ban\":{\"enabled\":false},\"retry\":{\"max_attempts\":1},"
                            "\"fuse\":{\"interval\":\"0.1s\",\"min_requests\":5,\"step\":0.5}")});
  ASSERT_TRUE(agent.ok()) << agent.log();
  int shed = 0, refused = 0;
  for (int i = 0; i < 300 && shed < 5; ++i) {
    HttpMessage m =
        testing::http_request(agent.proxy_port(), testing::get_request("/", to("down")));
    if (m.status == 503 && m.header("x-ufc-reason") == "shed") ++shed;
    if (m.status == 502 && m.header("x-ufc-reason") == "connect_refused") ++refused;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(refused, 0);
  EXPECT_GE(shed, 5) << "a fusing service's requests are shed with 503";
}

TEST(ProxyProcessTest, APostIsNeverSentTwiceOnceItsBodyStarted) {
  // Both backends read the whole request, then reset the connection.
  TestBackend b1(reset_connection), b2(reset_connection);
  Agent agent({service_json("pay", {b1.address(), b2.address()},
                            ",\"ban\":{\"enabled\":false},\"retry\":{\"budget\":1}")});
  ASSERT_TRUE(agent.ok()) << agent.log();
  HttpMessage m =
      testing::http_request(agent.proxy_port(),
                            "POST /pay HTTP/1.1\r\nHost: x\r\nx-ufc-service-name: pay\r\n"
                            "Content-Length: 11\r\n\r\namount=100\n");
  EXPECT_EQ(m.status, 502);
  EXPECT_TRUE(m.header("x-ufc-reason") == "reset" || m.header("x-ufc-reason") == "read_failed")
      << m.header("x-ufc-reason");
  EXPECT_EQ(b1.requests() + b2.requests(), 1) << "the POST reached exactly one backend once";

  // A GET after the same failure is retried on the other backend (and fails there too),
  // once the retry budget's first tick has granted a token.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  m = testing::http_request(agent.proxy_port(), testing::get_request("/", to("pay")));
  EXPECT_EQ(m.status, 502);
  EXPECT_EQ(b1.requests() + b2.requests(), 3) << "the idempotent GET was tried on both";
}

TEST(ProxyProcessTest, TenMegabyteChunkedBodiesStreamBothWaysInBoundedMemory) {
  constexpr size_t kBytes = 10 << 20;
  // The backend counts the request body it got and answers with 10 MB, chunked.
  TestBackend backend([&](TestBackend::Request& r) {
    std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Got: " +
                       std::to_string(r.message.body.size()) + "\r\n\r\n";
    if (!testing::send_all(r.fd, head)) return false;
    const std::string chunk(65536, 'r');
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
    for (size_t sent = 0; sent < kBytes; sent += chunk.size()) {
      if (!testing::send_all(r.fd, size_line + chunk + "\r\n")) return false;
    }
    return testing::send_all(r.fd, "0\r\n\r\n");
  });
  Agent agent({service_json("big", {backend.address()})});
  ASSERT_TRUE(agent.ok()) << agent.log();
  const long rss_before = testing::rss_kb(agent.pid());

  const int fd = testing::connect_loopback(agent.proxy_port());
  ASSERT_TRUE(testing::send_all(fd,
                                "POST /up HTTP/1.1\r\nHost: x\r\nx-ufc-service-name: big\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string piece(100000, 'q');
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
  std::thread uploader([&] {
    for (size_t sent = 0; sent + piece.size() <= kBytes; sent += piece.size()) {
      testing::send_all(fd, size_line + piece + "\r\n");
    }
    testing::send_all(fd, "0\r\n\r\n");
  });
  // Read slowly at first: the proxy must hold back, not buffer the backend's 10 MB.
  std::string buf;
  long rss_peak = 0;
  bool done = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done && std::chrono::steady_clock::now() < until) {
    testing::read_until(
        fd, &buf, [](const std::string&) { return false; }, 20);
    rss_peak = std::max(rss_peak, testing::rss_kb(agent.pid()));
    done = buf.size() >= 5 && buf.compare(buf.size() - 5, 5, "0\r\n\r\n") == 0;
  }
  uploader.join();
  HttpMessage m = testing::decode_message(buf, true, false);
  ASSERT_TRUE(m.complete);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("x-got"), std::to_string(kBytes / piece.size() * piece.size()));
  EXPECT_EQ(m.body.size(), kBytes);
  ::close(fd);
  // Both 10 MB bodies passed through; the agent grew by far less than either.
  EXPECT_LT(rss_peak - rss_before, 4096) << "RSS " << rss_before << " -> " << rss_peak << " kB";
}

TEST(ProxyProcessTest, ForwardsToARealNginx) {
  if (!testing::Nginx::available()) GTEST_SKIP() << "nginx is not installed";
  TempDir dir;
  testing::Nginx nginx(
      dir.path(), "server { listen 127.0.0.1:%PORT%; location / { return 200 \"nginx $uri\"; } }");
  ASSERT_TRUE(nginx.start());
  Agent agent({service_json("web", {"127.0.0.1:" + std::to_string(nginx.port())})});
  ASSERT_TRUE(agent.ok()) << agent.log();
  for (int i = 0; i < 5; ++i) {
    HttpMessage m = testing::http_request(
        agent.proxy_port(), testing::get_request("/p" + std::to_string(i), to("web")));
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.body, "nginx /p" + std::to_string(i));
  }
  // HEAD: a Content-Length but no body.
  HttpMessage m = testing::http_request(
      agent.proxy_port(), "HEAD /h HTTP/1.1\r\nHost: x\r\nx-ufc-service-name: web\r\n\r\n");
  EXPECT_EQ(m.status, 200);
  // And curl, a real client, through it.
  const std::string cmd = absl::StrCat(
      "curl -s -m 5 -H 'x-ufc-service-name: web' http://127.0.0.1:", agent.proxy_port(), "/curl");
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char out[256] = {0};
  const size_t n = std::fread(out, 1, sizeof(out) - 1, p);
  ::pclose(p);
  EXPECT_EQ(std::string(out, n), "nginx /curl");
}

// Host 1's agent (outbound) -> host 2's agent (inbound, at most one request at a time at
// its local service) -> a service that serves one request per 100 ms, serially. Requests
// with a 250 ms budget: those whose budget ran out while they waited at host 2 are
// refused there (504, deadline_spent), never served.
TEST(ProxyProcessTest, InboundAgentRefusesRequestsWhoseBudgetRanOutInTheQueue) {
  std::atomic<int> served{0}, served_spent{0};
  TestBackend slow(
      [&](TestBackend::Request& r) {
        // Like examples/backend's slow mode: work only for a caller that can still wait.
        const int budget = std::atoi(r.message.header("x-ufc-timeout-ms").c_str());
        if (budget <= 0) ++served_spent;
        if (budget < 100) {
          testing::respond(r.fd, 504, "no budget", "Connection: close\r\n");
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ++served;
        testing::respond(r.fd, 200, "served", "Connection: close\r\n");
        return false;
      },
      /*serial=*/true);
  TempDir dir;
  ServerProcess inbound(UFC_AGENTD_BIN);
  std::ofstream(dir.path() + "/empty.json") << "{\"services\":[]}";
  ASSERT_TRUE(inbound.start({"--config=" + dir.path() + "/empty.json",
                             "--proxy_listen=", "--inbound_listen=127.0.0.1:0",
                             "--inbound_target=" + slow.address(), "--inbound_max_active=1",
                             "--inbound_port_file=" + dir.path() + "/inbound.port"}))
      << inbound.log();
  std::ifstream in(dir.path() + "/inbound.port");
  int inbound_port = 0;
  in >> inbound_port;
  ASSERT_GT(inbound_port, 0);
  Agent outbound({service_json("remote", {"127.0.0.1:" + std::to_string(inbound_port)},
                               ",\"retry\":{\"max_attempts\":1}")});
  ASSERT_TRUE(outbound.ok()) << outbound.log();

  constexpr int kCallers = 8;
  std::vector<HttpMessage> answers(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      answers[i] = testing::http_request(
          outbound.proxy_port(),
          testing::get_request("/", to("remote", "x-ufc-timeout-ms: 250\r\n")));
    });
  }
  for (auto& t : callers) t.join();
  // 504s: refused by the inbound agent (deadline_spent), by the service (too little
  // budget left to start), or given up by the outbound agent at the same instant
  // (read_timeout: its deadline and the inbound's are the same budget).
  int ok = 0, timed_out = 0, inbound_refused = 0;
  for (const HttpMessage& m : answers) {
    ok += m.status == 200;
    timed_out += m.status == 504;
    inbound_refused += m.status == 504 && m.header("x-ufc-reason") == "deadline_spent";
  }
  std::string all;
  for (const HttpMessage& m : answers) absl::StrAppend(&all, m.status, " ", m.body, "; ");
  EXPECT_EQ(ok + timed_out, kCallers) << all;
  EXPECT_GE(ok, 1);
  EXPECT_LE(ok, 3) << "only what fits in 250 ms at 100 ms each is served";
  EXPECT_GE(inbound_refused, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(served.load(), ok) << "the refused requests never reached the service";
  EXPECT_EQ(served_spent.load(), 0);
}

// 10% aborts (503) and 10% 5 ms delays over 10,000 requests through the proxy: each within
// 1.5 points of its share; the aborted never reach the backend; and neither feeds banning
// or fusing (the backend is never banned, the service never fuses).
TEST(ProxyProcessTest, InjectedFaultsAtTheirRatesWithoutFeedingBanOrFuse) {
  TestBackend backend([](TestBackend::Request& r) { return testing::respond(r.fd, 200, "ok"); });
  Agent agent({service_json("chaos", {backend.address()},
                            ",\"faults\":[{\"abort\":{\"percent\":10,\"http_status\":503},"
                            "\"delay\":{\"percent\":10,\"fixed\":\"0.005s\"}}]")});
  ASSERT_TRUE(agent.ok()) << agent.log();
  constexpr int kThreads = 4, kPerThread = 2500;
  std::atomic<int> aborted{0}, delayed{0}, ok{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int fd = testing::connect_loopback(agent.proxy_port());
      std::string buf;
      for (int i = 0; i < kPerThread; ++i) {
        const auto start = std::chrono::steady_clock::now();
        if (!testing::send_all(fd, testing::get_request("/", to("chaos")))) break;
        if (!testing::read_until(
                fd, &buf,
                [](const std::string& b) {
                  return testing::decode_message(b, true, false).complete;
                },
                5000)) {
          break;
        }
        const HttpMessage m = testing::decode_message(buf, true, false);
        buf.erase(0, m.wire_bytes);
        const auto took = std::chrono::steady_clock::now() - start;
        if (m.status == 503 && m.header("x-ufc-reason") == "fault_abort") {
          ++aborted;
        } else if (m.status == 200) {
          ++ok;
          if (took >= std::chrono::milliseconds(5)) ++delayed;
        } else {
          ++other;
        }
        if (m.header("connection") == "close") {
          ::close(fd);
          fd = testing::connect_loopback(agent.proxy_port());
        }
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const int total = kThreads * kPerThread;
  EXPECT_EQ(aborted + ok + other, total);
  EXPECT_EQ(other.load(), 0);
  EXPECT_NEAR(aborted.load(), total / 10, total * 0.015) << "aborts";
  // The delay is drawn independently of the abort, and an abort wins: 10% of the requests
  // not aborted are delayed. The share is read from the agent's own count (request_info's
  // "faults"), not from response times, which a busy machine inflates; and every delayed
  // request took at least the delay.
  ASSERT_GT(ok.load(), 0);
  int delays = -1;
  {
    auto stub = v1::Agent::NewStub(
        grpc::CreateChannel(agent.process().address(), grpc::InsecureChannelCredentials()));
    v1::AgentQueryRequest q;
    q.set_what("request_info^chaos");
    v1::AgentQueryResponse r;
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ASSERT_TRUE(stub->Query(&c, q, &r).ok());
    const size_t at = r.json().find("\"delays\":");
    ASSERT_NE(at, std::string::npos) << r.json();
    delays = std::atoi(r.json().c_str() + at + 9);
  }
  EXPECT_NEAR(static_cast<double>(delays) / ok.load(), 0.10, 0.015) << "delays";
  EXPECT_GE(delayed.load(), delays) << "a delayed request is never faster than its delay";
  std::printf(
      "faults through the proxy: %d aborted of %d (%.2f%%), %d delayed of %d not aborted "
      "(%.2f%%; %d took >= 5 ms)\n",
      aborted.load(), total, 100.0 * aborted.load() / total, delays, ok.load(),
      100.0 * delays / ok.load(), delayed.load());
  EXPECT_EQ(backend.requests(), ok.load()) << "aborted requests never reach the backend";
  const std::string log = agent.log();
  EXPECT_EQ(log.find("ban chaos"), std::string::npos) << log;
  EXPECT_EQ(log.find("fuse_start"), std::string::npos) << log;
}

}  // namespace
}  // namespace ufc
