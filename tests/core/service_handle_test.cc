// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ServiceHandle: a service resolved once; the same decisions as pick() by name, across
// config swaps, removal and the client's end.

#include "ufc/service_handle.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"
#include "ufc/client.h"
#include "ufc/refusal.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::make_service;
using testing::SimClient;

absl::Duration ms(int n) { return absl::Milliseconds(n); }

v1::ClientConfig one(const v1::ServiceConfig& s) {
  v1::ClientConfig c;
  *c.add_services() = s;
  return c;
}

TEST(ServiceHandleTest, FollowsTheServiceThroughApplyRemoveAndReturn) {
  SimClient c;
  absl::StatusOr<ServiceHandle> echo = c.client->service("echo");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->name(), "echo");
  EXPECT_TRUE(static_cast<bool>(*echo));

  // Not configured yet: the same refusal as by name.
  absl::StatusOr<Pick> early = c.client->pick(*echo);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(refusal_of(early.status()), Refusal::kNotConfigured);
  EXPECT_EQ(early.status().message(), "service \"echo\" is not configured");

  v1::ServiceConfig v1 = make_service("echo", 2, "round_robin");
  v1.set_version(1);
  ASSERT_TRUE(c.client->apply(v1).ok());
  absl::StatusOr<Pick> first = c.client->pick(*echo);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(std::string(first->address()), ::testing::StartsWith("10.0.0."));

  // A new version with other endpoints: the handle picks from it, no new handle needed.
  v1::ServiceConfig v2 = make_service("echo", 1, "round_robin");
  v2.set_version(2);
  v2.mutable_endpoints(0)->set_address("10.9.9.9:80");
  ASSERT_TRUE(c.client->apply(v2).ok());
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<Pick> p = c.client->pick(*echo, {.hash_key = "k"});
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->address(), "10.9.9.9:80");
  }

  ASSERT_TRUE(c.client->remove("echo").ok());
  absl::StatusOr<Pick> gone = c.client->pick(*echo);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(refusal_of(gone.status()), Refusal::kNotConfigured);

  // Back again: the old handle works again.
  ASSERT_TRUE(c.client->apply(v1).ok());
  absl::StatusOr<Pick> back = c.client->pick(*echo);
  ASSERT_TRUE(back.ok()) << back.status();
  // A Pick taken before the removal stays readable (its endpoint is kept alive).
  EXPECT_THAT(std::string(first->address()), ::testing::StartsWith("10.0.0."));
}

TEST(ServiceHandleTest, MakesTheSameDecisionsAsTheName) {
  v1::ServiceConfig s = make_service("echo", 3, "round_robin");
  SimClient c(one(s));
  const ServiceHandle echo = c.client->service("echo").value();
  // One rotation, whichever way each pick asks: by name, through the handle with a
  // request, through the handle with none.
  std::map<std::string, int> seen;
  for (int i = 0; i < 9; ++i) {
    absl::StatusOr<Pick> p = i % 3 == 0   ? c.client->pick({.service = "echo"})
                             : i % 3 == 1 ? c.client->pick(echo, {})
                                          : c.client->pick(echo);
    ASSERT_TRUE(p.ok()) << p.status();
    ++seen[std::string(p->address())];
    c.client->report(*p, Outcome::http(200, ms(3)));
  }
  EXPECT_EQ(seen, (std::map<std::string, int>{
                      {"10.0.0.1:80", 3}, {"10.0.0.2:80", 3}, {"10.0.0.3:80", 3}}));
  // Reports through handle picks count like any other.
  EXPECT_THAT(c.client->query("request_info^echo"), HasSubstr("\"request_cnt\":9"));

  // What the request asks for still holds through a handle: a spent deadline, backends
  // to avoid, the caller's own timeouts.
  EXPECT_EQ(c.client->pick(echo, {.deadline = Deadline::at(MonotonicTime::infinite_past())})
                .status()
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  const std::string_view tried[] = {"10.0.0.1:80", "10.0.0.2:80"};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Pick> p = c.client->pick(echo, {.avoid = tried});
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->address(), "10.0.0.3:80");
  }
  const Timeouts mine{ms(7), ms(8), ms(9)};
  absl::StatusOr<Pick> own = c.client->pick(echo, {.timeouts = &mine});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->timeouts().read, ms(8));
  // request.service is the handle's business: ignored.
  EXPECT_TRUE(c.client->pick(echo, {.service = "something else"}).ok());
}

TEST(ServiceHandleTest, CallThroughAHandleRetriesElsewhere) {
  v1::ServiceConfig s = make_service("echo", 3, "round_robin");
  s.mutable_ban()->set_enabled(false);
  SimClient c(one(s));
  const ServiceHandle echo = c.client->service("echo").value();
  std::vector<std::string> attempts;
  absl::StatusOr<Outcome> out = c.client->call(echo, {}, [&](const Pick& p) {
    attempts.emplace_back(p.address());
    return attempts.size() < 3 ? Outcome::transport_error(Transport::kConnectRefused, ms(1))
                               : Outcome::http(200, ms(2));
  });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->status_code, 200);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_NE(attempts[0], attempts[1]);
  EXPECT_NE(attempts[1], attempts[2]);
  EXPECT_NE(attempts[0], attempts[2]);
  EXPECT_EQ(c.client->call(ServiceHandle(), {}, [](const Pick&) { return Outcome::ok(ms(1)); })
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServiceHandleTest, RefusesWhatCouldNeverWork) {
  SimClient a(one(make_service("echo", 1, "round_robin")));
  SimClient b(one(make_service("echo", 1, "round_robin")));
  for (const char* bad : {"", "has space", "caret^", "tab\t"}) {
    absl::StatusOr<ServiceHandle> h = a.client->service(bad);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(h.status().message(), HasSubstr("name")) << bad;
  }
  EXPECT_EQ(a.client->service(std::string(256, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(a.client->service(std::string(255, 'x')).ok());

  const ServiceHandle none;
  EXPECT_FALSE(static_cast<bool>(none));
  EXPECT_EQ(none.name(), "");
  absl::StatusOr<Pick> p = a.client->pick(none);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("names no service"));

  // A handle belongs to the client that made it.
  const ServiceHandle of_b = b.client->service("echo").value();
  absl::StatusOr<Pick> wrong = a.client->pick(of_b, {});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), HasSubstr("another Client"));
  EXPECT_TRUE(b.client->pick(of_b).ok());
}

TEST(ServiceHandleTest, CopiesShareAndOutliveTheClient) {
  ServiceHandle kept;
  {
    SimClient c(one(make_service("echo", 2, "round_robin")));
    ServiceHandle h = c.client->service("echo").value();
    ServiceHandle copy = h;                 // one slot, two references
    ServiceHandle moved = std::move(copy);  // NOLINT: the moved-from handle is empty
    EXPECT_FALSE(static_cast<bool>(copy));  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(c.client->pick(moved).ok());
    // A second service() of the same name is the same service.
    ServiceHandle again = c.client->service("echo").value();
    EXPECT_TRUE(c.client->pick(again).ok());
    kept = h;
    // Housekeeping (every 100 ms) drops only slots no handle holds: these still work.
    c.executor->advance(absl::Seconds(1));
    EXPECT_TRUE(c.client->pick(kept).ok());
    { ServiceHandle dropped = c.client->service("other").value(); }
    c.executor->advance(absl::Seconds(1));
    EXPECT_EQ(c.client->pick(c.client->service("other").value()).status().code(),
              absl::StatusCode::kNotFound);
  }
  // The client is gone; the handle may still be read and destroyed (ASan checks this).
  EXPECT_EQ(kept.name(), "echo");
}

// Picks through a handle while another thread swaps, removes and re-adds the service:
// every pick is either an endpoint of a version that was in force or NOT_FOUND, never a
// crash or a freed snapshot (the suite runs under ASan in CI).
TEST(ServiceHandleTest, PicksStaySafeWhileTheServiceComesAndGoes) {
  ClientOptions options;
  options.initial_config = one(make_service("echo", 4, "round_robin"));
  std::unique_ptr<Client> client = *Client::create(options);
  const ServiceHandle echo = client->service("echo").value();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, not_found{0}, other{0};
  std::vector<std::thread> pickers;
  for (int t = 0; t < 2; ++t) {
    pickers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        absl::StatusOr<Pick> p = client->pick(echo);
        if (p.ok()) {
          if (p->address().substr(0, 7) != "10.0.0.") other.fetch_add(1);
          client->report(*p, Outcome::http(200, absl::Microseconds(100)));
          ok.fetch_add(1);
        } else if (p.status().code() == absl::StatusCode::kNotFound) {
          not_found.fetch_add(1);
        } else {
          other.fetch_add(1);
        }
      }
    });
  }
  for (int round = 0; round < 200; ++round) {
    // Version 0 always applies (make_service's default version would have to grow).
    v1::ServiceConfig s = make_service("echo", 1 + round % 5, "round_robin", /*version=*/0);
    EXPECT_TRUE(client->apply(s).ok());
    if (round % 3 == 0) {
      EXPECT_TRUE(client->remove("echo").ok());
    }
  }
  EXPECT_TRUE(client->apply(make_service("echo", 2, "round_robin", 0)).ok());
  while (ok.load() < 1000) std::this_thread::yield();
  stop = true;
  for (std::thread& t : pickers) t.join();
  EXPECT_EQ(other.load(), 0u);
  EXPECT_GT(ok.load(), 0u);
}

}  // namespace
}  // namespace ufc
