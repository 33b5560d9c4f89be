// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Integration, real sockets on 127.0.0.1: a deadline travelling A -> B -> {C, D} as
// x-ufc-timeout-ms, and a handler skipping work for a client that already left.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "tests/testing/http_test_server.h"
#include "ufc/client.h"
#include "ufc/deadline.h"
#include "ufc/request_guard.h"

namespace ufc {
namespace {

using testing::http_get;
using testing::HttpRequest;
using testing::HttpServer;

// A leaf service: counts requests and remembers the budgets they arrived with.
struct Leaf {
  std::mutex mu;
  std::vector<int64_t> budgets_ms;
  HttpServer server{[this](const HttpRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    int64_t ms = -1;
    auto it = r.headers.find(std::string(kTimeoutHeader));
    if (it != r.headers.end()) (void)absl::SimpleAtoi(it->second, &ms);
    budgets_ms.push_back(ms);
    return std::string("leaf");
  }};
  std::vector<int64_t> budgets() {
    std::lock_guard<std::mutex> lock(mu);
    return budgets_ms;
  }
};

// B: receives A's request, works for `spend`, then calls C and D through UFC with the
// deadline it was given, passing the remaining budget on.
struct Middle {
  explicit Middle(absl::Duration spend, Leaf& c, Leaf& d) : spend(spend) {
    ClientOptions options;
    options.initial_config.emplace();
    for (auto [name, leaf] : {std::pair<const char*, Leaf*>{"c", &c}, {"d", &d}}) {
      v1::ServiceConfig* s = options.initial_config->add_services();
      s->set_name(name);
      s->add_endpoints()->set_address(leaf->server.address());
    }
    client = *Client::create(options);
  }

  std::string handle(const HttpRequest& r) {
    auto it = r.headers.find(std::string(kTimeoutHeader));
    absl::StatusOr<Deadline> deadline =
        it == r.headers.end() ? Deadline::none() : decode_timeout(it->second, r.arrival);
    if (!deadline.ok()) return "bad deadline";
    absl::SleepFor(spend);  // B's own work before it needs C and D
    for (const char* service : {"c", "d"}) {
      absl::StatusOr<Pick> pick = client->pick({.service = service, .deadline = *deadline});
      if (!pick.ok()) {
        ++skipped;
        continue;
      }
      const std::string body = http_get(
          pick->port(), "/", {{std::string(kTimeoutHeader), encode_timeout(pick->deadline())}},
          pick->timeouts().read);
      client->report(*pick, body.empty() ? Outcome::transport_error(Transport::kReadTimeout,
                                                                    absl::ZeroDuration())
                                         : Outcome::ok(absl::Milliseconds(1)));
    }
    return "middle";
  }

  absl::Duration spend;
  std::unique_ptr<Client> client;
  std::atomic<int> skipped{0};
  HttpServer server{[this](const HttpRequest& r) { return handle(r); }};
};

TEST(DeadlineChainTest, BudgetSpentInBMeansCAndDReceiveNothing) {
  Leaf c, d;
  Middle b(absl::Milliseconds(320), c, d);
  // A gives the whole chain 300 ms.
  EXPECT_EQ(http_get(b.server.port(), "/", {{std::string(kTimeoutHeader), "300"}}), "middle");
  EXPECT_TRUE(c.budgets().empty());
  EXPECT_TRUE(d.budgets().empty());
  EXPECT_EQ(b.skipped.load(), 2);
  EXPECT_NE(b.client->query("request_info^c").find("\"deadline_skipped\":1"), std::string::npos);
}

TEST(DeadlineChainTest, BudgetLeftInBTravelsOnToCAndD) {
  Leaf c, d;
  Middle b(absl::Milliseconds(100), c, d);
  EXPECT_EQ(http_get(b.server.port(), "/", {{std::string(kTimeoutHeader), "300"}}), "middle");
  ASSERT_EQ(c.budgets().size(), 1u);
  ASSERT_EQ(d.budgets().size(), 1u);
  // 300 - 100 spent = at most 200 left; scheduling and the call to C eat a little more.
  for (int64_t budget : {c.budgets()[0], d.budgets()[0]}) {
    EXPECT_LE(budget, 200);
    EXPECT_GE(budget, 150);
  }
  EXPECT_LE(d.budgets()[0], c.budgets()[0]) << "D is called after C, from the same budget";
  EXPECT_EQ(b.skipped.load(), 0);
}

// A client sends its request and gives up (closes) while the server is still too busy to
// accept: the connection waits in the backlog with the request and the FIN behind it.
TEST(PeerClosedTest, ClientGoneBeforeAcceptIsDetectedAndTheWorkSkipped) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  auto connect_and_send = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const std::string request = "GET /expensive HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    return fd;
  };
  const int gone = connect_and_send();
  ::close(gone);                           // gives up before the server accepts
  const int waiting = connect_and_send();  // still waiting for its answer
  absl::SleepFor(absl::Milliseconds(50));  // the server is busy; both sit in the backlog

  int worked = 0, skipped = 0;
  for (int i = 0; i < 2; ++i) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(fd, 0);
    RequestGuard guard(Deadline::none(), fd);
    const absl::Status status = guard.check();
    if (status.ok()) {
      ++worked;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
      ++skipped;
    }
    ::close(fd);
  }
  EXPECT_EQ(worked, 1);
  EXPECT_EQ(skipped, 1);
  ::close(waiting);
  ::close(listener);
  EXPECT_FALSE(peer_closed(-1));
}

}  // namespace
}  // namespace ufc
