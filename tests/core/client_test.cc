// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/client.h"

#include <fstream>
#include <map>
#include <stdexcept>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/common/epoch.h"
#include "tests/testing/sim_client.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::make_service;
using testing::SimClient;

absl::Duration ms(int n) { return absl::Milliseconds(n); }

TEST(ClientTest, UnknownServiceIsNotFoundAndEmptyNameIsInvalid) {
  SimClient c;
  absl::StatusOr<Pick> unknown = c.client->pick({.service = "nope"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "service \"nope\" is not configured");
  EXPECT_EQ(c.client->pick(PickRequest{}).status().code(), absl::StatusCode::kInvalidArgument);
}

// A deadline at minus infinity saturates to INT64_MIN nanoseconds; pick() once wrapped
// `deadline - now - margin` around into a positive budget and let the request through.
TEST(ClientTest, DeadlineAtMinusInfinityIsRefusedNotLetThrough) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 2, "round_robin");
  SimClient c(config);
  for (const Deadline& d : {Deadline::at(MonotonicTime::infinite_past()),
                            Deadline::after(-absl::InfiniteDuration(), *c.clock),
                            *decode_timeout("1", MonotonicTime::infinite_past())}) {
    EXPECT_EQ(c.client->pick({.service = "echo", .deadline = d}).status().code(),
              absl::StatusCode::kDeadlineExceeded);
  }
  absl::StatusOr<Pick> unbounded = c.client->pick(
      {.service = "echo", .deadline = Deadline::at(MonotonicTime::infinite_future())});
  ASSERT_TRUE(unbounded.ok()) << unbounded.status();
  EXPECT_TRUE(unbounded->deadline().is_none());
}

TEST(ClientTest, RoundRobinPicksEveryEndpointAndPickShowsIdentity) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 3, "round_robin");
  SimClient c(config);
  std::map<std::string, int> seen;
  for (int i = 0; i < 9; ++i) ++seen[c.pick_and_report("echo", Outcome::ok(ms(1)))];
  EXPECT_EQ(seen, (std::map<std::string, int>{
                      {"10.0.0.1:80", 3}, {"10.0.0.2:80", 3}, {"10.0.0.3:80", 3}}));

  absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
  ASSERT_TRUE(pick.ok());
  EXPECT_THAT(std::string(pick->host()), ::testing::StartsWith("10.0.0."));
  EXPECT_EQ(pick->port(), 80);
  EXPECT_EQ(pick->tag("idc"), "bj");
  EXPECT_EQ(pick->tag("missing"), "");
  ASSERT_EQ(pick->tags().size(), 1u);
  EXPECT_TRUE(pick->retry_allowed());
  EXPECT_EQ(pick->timeouts().connect, absl::InfiniteDuration());
}

TEST(ClientTest, Ipv6HostIsShownWithoutBrackets) {
  v1::ServiceConfig s = make_service("v6", 1, "round_robin");
  s.mutable_endpoints(0)->set_address("[::1]:8080");
  v1::ClientConfig config;
  *config.add_services() = s;
  SimClient c(config);
  absl::StatusOr<Pick> pick = c.client->pick({.service = "v6"});
  ASSERT_TRUE(pick.ok());
  EXPECT_EQ(pick->address(), "[::1]:8080");
  EXPECT_EQ(pick->host(), "::1");
  EXPECT_EQ(pick->port(), 8080);
}

TEST(ClientTest, DrainedEndpointIsNeverPicked) {
  v1::ServiceConfig s = make_service("echo", 3, "round_robin");
  s.mutable_endpoints(1)->set_weight(0);
  v1::ClientConfig config;
  *config.add_services() = s;
  SimClient c(config);
  for (int i = 0; i < 30; ++i)
    ASSERT_NE(c.pick_and_report("echo", Outcome::ok(ms(1))), "10.0.0.2:80");
}

TEST(ClientTest, ConsistentHashSendsAKeyToOneBackend) {
  v1::ClientConfig config;
  *config.add_services() = make_service("cache", 10, "consistent_hash");
  SimClient c(config);
  for (int k = 0; k < 50; ++k) {
    const std::string key = "user-" + std::to_string(k);
    absl::StatusOr<Pick> first = c.client->pick({.service = "cache", .hash_key = key});
    ASSERT_TRUE(first.ok());
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<Pick> again = c.client->pick({.service = "cache", .hash_key = key});
      ASSERT_EQ(again->address(), first->address());
    }
  }
}

TEST(ClientTest, ReportTwiceCountsOnceAndUnreportedPickReleasesInflight) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 1, "round_robin");
  SimClient c(config);
  {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok());
    EXPECT_THAT(c.client->query("request_info^echo"), HasSubstr("\"inflight\":1"));
    c.client->report(*pick, Outcome::ok(ms(2)));
    c.client->report(*pick, Outcome::http(500, ms(2)));  // ignored
  }
  { absl::StatusOr<Pick> abandoned = c.client->pick({.service = "echo"}); }
  const std::string info = c.client->query("request_info^echo");
  EXPECT_THAT(info, HasSubstr("\"request_cnt\":1,\"success_cnt\":1,\"4xx_cnt\":0,\"5xx_cnt\":0"));
  EXPECT_THAT(info, HasSubstr("\"inflight\":0"));
}

// A latency the request path's fast conversion does not take (negative, infinite, decades)
// is reported out of line: counted once, as 0 or saturated, never lost.
TEST(ClientTest, UnusualLatenciesAreReportedOnce) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 1, "round_robin");
  SimClient c(config);
  for (absl::Duration latency : {absl::Microseconds(-5), absl::InfiniteDuration(),
                                 -absl::InfiniteDuration(), absl::Hours(24 * 365 * 40)}) {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok());
    c.client->report(*pick, Outcome::http(200, latency));
    c.client->report(*pick, Outcome::http(500, latency));  // ignored
  }
  const std::string info = c.client->query("request_info^echo");
  EXPECT_THAT(info, HasSubstr("\"request_cnt\":4,\"success_cnt\":4,\"4xx_cnt\":0,\"5xx_cnt\":0"));
  EXPECT_THAT(info, HasSubstr("\"inflight\":0"));
}

// Without an injected RandomSource the short path draws the random policy's choice from
// the thread's generator: uniform over the set; and a held endpoint it draws goes through
// pick_again() as any policy's choice does.
TEST(ClientTest, RandomFromTheThreadsGeneratorIsUniformAndSkipsAHeldEndpoint) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 4, "random");
  SimClient c(config, 1, "", [](ClientOptions& o) { o.random = nullptr; });
  const ServiceHandle echo = c.client->service("echo").value();
  std::map<std::string, int> seen;
  for (int i = 0; i < 4000; ++i) {
    absl::StatusOr<Pick> p =
        i % 2 == 0 ? c.client->pick(echo) : c.client->pick({.service = "echo"});
    ASSERT_TRUE(p.ok()) << p.status();
    ++seen[std::string(p->address())];
    c.client->report(*p, Outcome::http(200, ms(3)));
  }
  ASSERT_EQ(seen.size(), 4u);
  for (const auto& [address, n] : seen) {
    EXPECT_GT(n, 800) << address;  // 1000 expected, sd ~27
    EXPECT_LT(n, 1200) << address;
  }
  // Five refusals in a row hold 10.0.0.1 at once (the ban waits for the manager's tick,
  // which this simulated executor never runs).
  int refused = 0;
  for (int i = 0; i < 1000 && refused < 5; ++i) {
    absl::StatusOr<Pick> p = c.client->pick(echo);
    ASSERT_TRUE(p.ok());
    const bool bad = p->address() == "10.0.0.1:80";
    c.client->report(*p, bad ? Outcome::transport_error(Transport::kConnectRefused, ms(1))
                             : Outcome::http(200, ms(3)));
    refused += bad;
  }
  ASSERT_EQ(refused, 5);
  seen.clear();
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<Pick> p = c.client->pick(echo);
    ASSERT_TRUE(p.ok());
    ++seen[std::string(p->address())];
  }
  // Drawn first a quarter of the time (~500 picks if the hold were ignored); redrawn up to
  // four times (pick_again fails open after min(n, 64) draws): ~2 of 2000 keep it.
  EXPECT_LE(seen["10.0.0.1:80"], 10);
  EXPECT_GT(seen["10.0.0.2:80"] + seen["10.0.0.3:80"] + seen["10.0.0.4:80"], 1990);
}

// A RandomSource of the caller's that throws: the exception reaches the caller, and the
// epoch section the pick opened is closed on the way out (a section left open would keep
// every retired snapshot of the process alive and the client's destructor waiting).
TEST(ClientTest, AThrowingRandomSourceLeavesNoEpochSectionOpen) {
  struct Throwing : RandomSource {
    uint64_t next() override { throw std::runtime_error("no entropy"); }
  };
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 4, "random");
  SimClient c(config, 1, "", [](ClientOptions& o) { o.random = std::make_shared<Throwing>(); });
  const ServiceHandle echo = c.client->service("echo").value();
  { internal::EpochDomain::Guard registers; }  // the thread has a record: the short path
  EXPECT_THROW(c.client->pick(echo).IgnoreError(), std::runtime_error);
  EXPECT_THROW(c.client->pick({.service = "echo"}).IgnoreError(), std::runtime_error);
  internal::EpochDomain::Record* section = internal::EpochDomain::global().try_enter();
  EXPECT_NE(section, nullptr) << "the thread is still inside a section";
  if (section != nullptr) internal::EpochDomain::leave(section);
}

TEST(ClientTest, MovedPickReportsOnce) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 1, "round_robin");
  SimClient c(config);
  absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
  ASSERT_TRUE(pick.ok());
  Pick moved = *std::move(pick);
  c.client->report(moved, Outcome::ok(ms(1)));
  Pick other = *c.client->pick({.service = "echo"});
  other = std::move(moved);  // `other` was unreported: its in-flight slot is released
  EXPECT_THAT(c.client->query("request_info^echo"), HasSubstr("\"request_cnt\":1,"));
  EXPECT_THAT(c.client->query("request_info^echo"), HasSubstr("\"inflight\":0"));
}

TEST(ClientTest, PickOutlivesItsEndpointsRemovalAndTheClient) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 1, "round_robin");
  SimClient c(config);
  absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
  ASSERT_TRUE(pick.ok());
  v1::ServiceConfig replaced = make_service("echo", 1, "round_robin", 2);
  replaced.mutable_endpoints(0)->set_address("10.9.9.9:80");
  ASSERT_TRUE(c.client->apply(replaced).ok());
  ASSERT_TRUE(c.client->remove("echo").ok());
  EXPECT_EQ(pick->address(), "10.0.0.1:80");  // still readable (ASan would catch otherwise)
  c.client->report(*pick, Outcome::ok(ms(1)));
  c.client.reset();
  EXPECT_EQ(pick->tag("idc"), "bj");
}

TEST(ClientTest, CreateRejectsBadOptionsAndBadConfig) {
  ClientOptions options;
  options.clock_tick = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<Client>> bad_tick = Client::create(options);
  EXPECT_EQ(bad_tick.status().message(),
            "ClientOptions: clock_tick: must be in [100us, 1s], got 0");

  ClientOptions bad_config;
  bad_config.initial_config.emplace();
  *bad_config.initial_config->add_services() = make_service("", 1, "round_robin");
  EXPECT_EQ(Client::create(bad_config).status().message(), "services[0].name: must not be empty");

  ClientOptions missing_file;
  missing_file.config_path = "/nonexistent/ufc.json";
  EXPECT_EQ(Client::create(missing_file).status().code(), absl::StatusCode::kNotFound);
}

TEST(ClientTest, CreateLoadsTheJsonFile) {
  const std::string path = ::testing::TempDir() + "/ufc_client_test.json";
  {
    std::ofstream out(path);
    out << R"({"services": [{"name": "echo", "version": "4",
               "endpoints": [{"address": "127.0.0.1:9001"}, {"address": "127.0.0.1:9002"}],
               "balancing": {"policy": "weighted_random"}}]})";
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::create({.config_path = path});
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<Pick> pick = (*client)->pick({.service = "echo"});
  ASSERT_TRUE(pick.ok());
  EXPECT_THAT(std::string(pick->address()), ::testing::StartsWith("127.0.0.1:900"));
  EXPECT_THAT((*client)->query("services"),
              HasSubstr("\"version\":4,\"policy\":\"weighted_random\""));
  std::remove(path.c_str());
}

TEST(ClientTest, EventsReportAppliedRejectedAndRemoved) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(make_service("echo", 2, "random", 3)).ok());
  EXPECT_FALSE(c.client->apply(make_service("echo", 0, "random", 4)).ok());
  ASSERT_TRUE(c.client->remove("echo").ok());
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].type, EventType::kConfigApplied);
  EXPECT_EQ(c.events[0].version, 3u);
  EXPECT_EQ(c.events[0].detail, "2 endpoints, policy random");
  EXPECT_EQ(c.events[1].type, EventType::kConfigRejected);
  EXPECT_EQ(c.events[1].detail, "endpoints: must not be empty");
  EXPECT_EQ(c.events[2].type, EventType::kServiceRemoved);
  EXPECT_STREQ(event_type_name(c.events[2].type), "service_removed");
  EXPECT_STREQ(event_type_name(EventType::kBan), "ban");
  EXPECT_STREQ(event_type_name(EventType::kUnban), "unban");
  EXPECT_STREQ(event_type_name(EventType::kProbeFailed), "probe_failed");
  EXPECT_STREQ(event_type_name(EventType::kMaxBanRatio), "max_ban_ratio");
  EXPECT_STREQ(event_type_name(EventType::kLongBan), "long_ban");
  EXPECT_EQ(c.client->remove("echo").code(), absl::StatusCode::kNotFound);
}

TEST(ClientTest, RealClockAndThreadWork) {
  // The defaults: system clock, per-thread random, a background thread.
  ClientOptions options;
  options.initial_config.emplace();
  *options.initial_config->add_services() = make_service("echo", 4, "least_loaded");
  absl::StatusOr<std::unique_ptr<Client>> client = Client::create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "echo"});
    ASSERT_TRUE(pick.ok());
    (*client)->report(*pick, Outcome::ok(ms(1)));
  }
  EXPECT_THAT((*client)->query("request_info^echo"), HasSubstr("\"request_cnt\":1000,"));
}

}  // namespace
}  // namespace ufc
