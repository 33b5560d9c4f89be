// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Integration: the real TCP prober, and a real client banning, probing and unbanning a
// real port, all on 127.0.0.1. Waits are bounded and wait for events, not for time.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ufc/client.h"

namespace ufc {
namespace {

constexpr auto kBound = std::chrono::seconds(10);

// A TCP listener on 127.0.0.1 (port 0 picks a free one). Never accepts.
class Listener {
 public:
  explicit Listener(uint16_t port = 0, int backlog = 16) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
          ::listen(fd_, backlog) == 0;
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  uint16_t port_ = 0;
};

// A port on 127.0.0.1 that nothing listens on.
uint16_t closed_port() {
  Listener l;
  const uint16_t port = l.port();
  l.close();
  return port;
}

std::optional<bool> probe_once(Prober& prober, uint16_t port, absl::Duration timeout) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<bool> answer;
  prober.probe("127.0.0.1", port, timeout, [&](bool reachable) {
    std::lock_guard<std::mutex> lock(mu);
    answer = reachable;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait_for(lock, kBound, [&] { return answer.has_value(); });
  return answer;
}

TEST(TcpProberTest, ListeningPortIsReachableClosedPortIsNot) {
  std::unique_ptr<Prober> prober = make_tcp_prober();
  Listener listener;
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(probe_once(*prober, listener.port(), absl::Seconds(2)), std::optional<bool>(true));
  EXPECT_EQ(probe_once(*prober, closed_port(), absl::Seconds(2)), std::optional<bool>(false));
}

TEST(TcpProberTest, ManyProbesAtOnceAllAnswer) {
  std::unique_ptr<Prober> prober = make_tcp_prober();
  Listener open_port(0, /*backlog=*/1024);  // never accepts: room for every connect
  const uint16_t shut = closed_port();
  std::mutex mu;
  std::condition_variable cv;
  int yes = 0, no = 0;
  for (int i = 0; i < 50; ++i) {
    prober->probe("127.0.0.1", i % 2 ? open_port.port() : shut, absl::Seconds(2), [&](bool r) {
      std::lock_guard<std::mutex> lock(mu);
      (r ? yes : no)++;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, kBound, [&] { return yes + no == 50; }));
  EXPECT_EQ(yes, 25);
  EXPECT_EQ(no, 25);
}

TEST(TcpProberTest, PortThatNeverAcceptsTimesOut) {
  // A listener whose accept queue is full drops further SYNs: the connect hangs until
  // the probe's timeout, like a black-holed host.
  std::unique_ptr<Prober> prober = make_tcp_prober();
  Listener full(0, /*backlog=*/0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {  // fill the queue (backlog 0 still admits one or two)
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(full.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the handshakes land
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(probe_once(*prober, full.port(), absl::Milliseconds(300)), std::optional<bool>(false));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  for (int fd : fillers) ::close(fd);
}

TEST(TcpProberTest, UnresolvableNameIsUnreachable) {
  std::unique_ptr<Prober> prober = make_tcp_prober();
  EXPECT_EQ(probe_once(*prober, 80, absl::Seconds(1)).has_value(), true);
  std::mutex mu;
  std::optional<bool> answer;
  prober->probe("no-such-host.invalid", 80, absl::Seconds(1), [&](bool r) {
    std::lock_guard<std::mutex> lock(mu);
    answer = r;
  });
  for (auto until = std::chrono::steady_clock::now() + kBound;
       std::chrono::steady_clock::now() < until;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (answer.has_value()) break;
    }
    std::this_thread::yield();
  }
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(answer, std::optional<bool>(false));
}

// The whole loop with real parts: a real clock, background thread and TCP prober. A
// backend whose port is closed is banned on refused connects, probed (still closed:
// banned again), then let back once something listens on its port.
TEST(BanIntegrationTest, RealPortIsBannedProbedAndUnbanned) {
  Listener healthy;
  const uint16_t port = closed_port();
  v1::ServiceConfig s;
  s.set_name("svc");
  s.add_endpoints()->set_address("127.0.0.1:" + std::to_string(healthy.port()));
  s.add_endpoints()->set_address("127.0.0.1:" + std::to_string(port));
  s.mutable_ban()->mutable_base_time()->set_nanos(200 * 1000 * 1000);
  s.mutable_ban()->set_max_ratio(1.0);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> events;
  ClientOptions options;
  options.initial_config.emplace();
  *options.initial_config->add_services() = s;
  options.on_event = [&](const Event& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    cv.notify_all();
  };
  auto client = Client::create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto wait_for = [&](EventType type) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kBound, [&] {
      for (const Event& e : events) {
        if (e.type == type) return true;
      }
      return false;
    });
  };

  const std::string bad = "127.0.0.1:" + std::to_string(port);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "svc"});
    ASSERT_TRUE(pick.ok());
    const bool is_bad = pick->address() == bad;
    (*client)->report(
        *pick, is_bad ? Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1))
                      : Outcome::ok(absl::Milliseconds(1)));
  }
  ASSERT_TRUE(wait_for(EventType::kBan));
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "svc"});
    ASSERT_NE(pick->address(), bad) << "banned backend picked";
  }
  ASSERT_TRUE(wait_for(EventType::kProbeFailed)) << "the real probe found the port closed";
  Listener revived(port);
  ASSERT_TRUE(revived.ok());
  ASSERT_TRUE(wait_for(EventType::kUnban)) << "the real probe found the port open";
  bool picked_again = false;
  for (int i = 0; i < 50 && !picked_again; ++i) {
    picked_again = (*client)->pick({.service = "svc"})->address() == bad;
  }
  EXPECT_TRUE(picked_again);
}

}  // namespace
}  // namespace ufc
