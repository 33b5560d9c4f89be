// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Config replacement at run time: versions, rejection keeps the last good config, and
// endpoint state survives for the endpoints that stay.

#include <cmath>
#include <initializer_list>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"

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

TEST(ConfigSwapTest, StaleVersionIsRejectedAndTheOldConfigKeepsServing) {
  SimClient c(one(make_service("echo", 2, "round_robin", 5)));
  v1::ServiceConfig older = make_service("echo", 3, "round_robin", 4);
  const absl::Status status = c.client->apply(older);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "version: 4 is older than the applied version 5");
  for (int i = 0; i < 10; ++i)
    EXPECT_NE(c.pick_and_report("echo", Outcome::ok(ms(1))), "10.0.0.3:80");
  EXPECT_THAT(c.client->query("services"), HasSubstr("\"version\":5,"));
}

TEST(ConfigSwapTest, InvalidUpdateIsRejectedAndTheOldConfigKeepsServing) {
  SimClient c(one(make_service("echo", 2, "round_robin", 1)));
  v1::ServiceConfig broken = make_service("echo", 3, "round_robin", 2);
  broken.mutable_endpoints(2)->set_weight(-5);
  EXPECT_EQ(c.client->apply(broken).message(), "endpoints[2].weight: must be >= 0, got -5");
  EXPECT_THAT(c.client->query("services"), HasSubstr("\"version\":1,"));
  EXPECT_EQ(c.events.back().type, EventType::kConfigRejected);
}

TEST(ConfigSwapTest, EqualVersionIsANoOpWhenIdenticalAndAnErrorWhenNot) {
  SimClient c(one(make_service("echo", 2, "round_robin", 7)));
  const size_t events = c.events.size();
  EXPECT_TRUE(c.client->apply(make_service("echo", 2, "round_robin", 7)).ok());
  EXPECT_EQ(c.events.size(), events) << "a repeated delivery is not a new config";
  EXPECT_EQ(c.client->apply(make_service("echo", 3, "round_robin", 7)).message(),
            "version: 7 is already applied with different content; bump the version");
}

TEST(ConfigSwapTest, VersionZeroAlwaysApplies) {
  SimClient c(one(make_service("echo", 2, "round_robin", 0)));
  ASSERT_TRUE(c.client->apply(make_service("echo", 3, "random", 0)).ok());
  EXPECT_THAT(c.client->query("services"), HasSubstr("\"policy\":\"random\",\"endpoints\":3"));
}

TEST(ConfigSwapTest, EndpointsThatStayKeepTheirCounters) {
  SimClient c(one(make_service("echo", 2, "round_robin", 1)));
  for (int i = 0; i < 10; ++i) c.pick_and_report("echo", Outcome::http(503, ms(1)));
  // v2 adds a third endpoint and switches policy; the first two keep their history.
  ASSERT_TRUE(c.client->apply(make_service("echo", 3, "weighted_round_robin", 2)).ok());
  const std::string endpoints = c.client->query("endpoints^echo");
  EXPECT_THAT(endpoints,
              HasSubstr("\"address\":\"10.0.0.1:80\",\"weight\":1,\"tags\":{\"idc\":\"bj\"},"
                        "\"inflight\":0,\"ewma_latency_ms\":1,\"request_cnt\":5,"));
  EXPECT_THAT(endpoints,
              HasSubstr("\"address\":\"10.0.0.3:80\",\"weight\":1,\"tags\":{\"idc\":\"bj\"},"
                        "\"inflight\":0,\"ewma_latency_ms\":0,\"request_cnt\":0,"));
}

TEST(ConfigSwapTest, TagChangeMakesANewEndpointAndKeepsTotalsIncludingLateReports) {
  SimClient c(one(make_service("echo", 1, "round_robin", 1)));
  for (int i = 0; i < 4; ++i) c.pick_and_report("echo", Outcome::ok(ms(1)));
  absl::StatusOr<Pick> in_flight = c.client->pick({.service = "echo"});  // old tags
  v1::ServiceConfig retagged = make_service("echo", 1, "round_robin", 2);
  (*retagged.mutable_endpoints(0)->mutable_tags())["idc"] = "sh";
  ASSERT_TRUE(c.client->apply(retagged).ok());
  absl::StatusOr<Pick> pick = c.client->pick({.service = "echo"});
  EXPECT_EQ(pick->tag("idc"), "sh");
  EXPECT_EQ(in_flight->tag("idc"), "bj");
  c.client->report(*in_flight, Outcome::ok(ms(1)));  // lands on the replaced endpoint
  c.client->report(*pick, Outcome::ok(ms(1)));
  EXPECT_THAT(c.client->query("request_info^echo"),
              HasSubstr("\"request_cnt\":6,\"success_cnt\":6,"));
  // The new endpoint kept the latency view (EWMA 1 ms) but starts its own counts.
  EXPECT_THAT(c.client->query("endpoints^echo"),
              HasSubstr("\"ewma_latency_ms\":1,\"request_cnt\":1,"));
}

TEST(ConfigSwapTest, RemovedEndpointsCountsStayInTheTotalsIncludingLateReports) {
  SimClient c(one(make_service("echo", 2, "round_robin", 1)));
  c.pick_and_report("echo", Outcome::ok(ms(1)));                    // 10.0.0.1
  absl::StatusOr<Pick> late = c.client->pick({.service = "echo"});  // 10.0.0.2, in flight
  ASSERT_EQ(late->address(), "10.0.0.2:80");
  ASSERT_TRUE(c.client->apply(make_service("echo", 1, "round_robin", 2)).ok());  // drops .2
  c.client->report(*late, Outcome::http(500, ms(1)));
  EXPECT_THAT(c.client->query("request_info^echo"),
              HasSubstr("\"request_cnt\":2,\"success_cnt\":1,\"4xx_cnt\":0,\"5xx_cnt\":1"));
  // After the grace period the departed endpoint's counts are folded, not lost.
  c.executor->advance(absl::Seconds(61));
  EXPECT_THAT(c.client->query("request_info^echo"),
              HasSubstr("\"request_cnt\":2,\"success_cnt\":1,\"4xx_cnt\":0,\"5xx_cnt\":1"));
}

TEST(ConfigSwapTest, WholeConfigReplacesAndRemovesServicesNotListed) {
  v1::ClientConfig initial;
  *initial.add_services() = make_service("a", 1, "round_robin", 1);
  *initial.add_services() = make_service("b", 1, "round_robin", 1);
  SimClient c(initial);
  v1::ClientConfig next;
  *next.add_services() = make_service("a", 2, "random", 2);
  *next.add_services() = make_service("c", 1, "round_robin", 1);
  ASSERT_TRUE(c.client->apply(next).ok());
  EXPECT_EQ(c.client->pick({.service = "b"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(c.client->pick({.service = "c"}).ok());
  EXPECT_THAT(c.client->query("services"), HasSubstr("{\"name\":\"a\",\"version\":2,"));
}

TEST(ConfigSwapTest, OneStaleServiceRejectsTheWholeConfig) {
  v1::ClientConfig initial;
  *initial.add_services() = make_service("a", 1, "round_robin", 5);
  *initial.add_services() = make_service("b", 1, "round_robin", 5);
  SimClient c(initial);
  v1::ClientConfig next;
  *next.add_services() = make_service("a", 2, "round_robin", 6);
  *next.add_services() = make_service("b", 2, "round_robin", 4);
  EXPECT_EQ(c.client->apply(next).message(),
            "services[1].version: 4 is older than the applied version 5");
  EXPECT_THAT(c.client->query("services"), HasSubstr("{\"name\":\"a\",\"version\":5,"));
}

// --- A complete config may not silently empty the client (issue 11, hostile configs) ---

v1::ClientConfig services(std::initializer_list<const char*> names) {
  v1::ClientConfig c;
  for (const char* name : names) *c.add_services() = make_service(name, 1, "round_robin", 1);
  return c;
}

TEST(ConfigSwapTest, AnEmptyConfigIsRefusedAndTheServicesKeepServing) {
  SimClient c(services({"a", "b", "c"}));
  const absl::Status status = c.client->apply(v1::ClientConfig());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "refused: this complete config would remove all 3 configured services (a, b, c) and "
            "lists none of them; nothing was changed. If that is meant, set allow_removing_all "
            "(ApplyOptions for apply(), ClientOptions::apply_defaults for config sources)");
  for (const char* name : {"a", "b", "c"}) EXPECT_TRUE(c.client->pick({.service = name}).ok());
  ASSERT_FALSE(c.events.empty());
  EXPECT_EQ(c.events.back().type, EventType::kConfigRejected);
  EXPECT_EQ(c.events.back().detail, std::string(status.message()));
}

TEST(ConfigSwapTest, ReplacingEveryServiceWithOthersIsRefusedToo) {
  SimClient c(services({"a"}));
  const absl::Status status = c.client->apply(services({"x", "y"}));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("would remove the 1 configured service (a) and lists none of them"));
  EXPECT_TRUE(c.client->pick({.service = "a"}).ok());
  EXPECT_EQ(c.client->pick({.service = "x"}).status().code(), absl::StatusCode::kNotFound)
      << "refused whole: nothing of it applied";
}

TEST(ConfigSwapTest, RemovingEveryServiceAppliesWhenTheCallerSaysSo) {
  SimClient c(services({"a", "b"}));
  ASSERT_TRUE(c.client->apply(v1::ClientConfig(), {.allow_removing_all = true}).ok());
  EXPECT_EQ(c.client->pick({.service = "a"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.client->query("services"), "{\"services\":[]}");
  // An empty client has nothing to lose: an empty config applies again.
  EXPECT_TRUE(c.client->apply(v1::ClientConfig()).ok());
}

TEST(ConfigSwapTest, RemovingSomeServicesStillWorksByDefault) {
  SimClient c(services({"a", "b", "c", "d"}));
  ASSERT_TRUE(c.client->apply(services({"d"})).ok()) << "3 of 4: the default share is 1";
  EXPECT_EQ(c.client->pick({.service = "a"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(c.client->pick({.service = "d"}).ok());
}

TEST(ConfigSwapTest, TheShareLimitRefusesRemovingMoreThanItAllows) {
  SimClient c(services({"a", "b", "c", "d"}));
  const ApplyOptions half{.max_removed_share = 0.5};
  const absl::Status status = c.client->apply(services({"d"}), half);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "refused: this complete config would remove 3 of the 4 configured services (a, b, "
            "c), more than max_removed_share 0.5 allows; nothing was changed. If that is meant, "
            "raise it (ApplyOptions for apply(), ClientOptions::apply_defaults for config "
            "sources)");
  EXPECT_TRUE(c.client->pick({.service = "a"}).ok());
  // Two of four is within half.
  ASSERT_TRUE(c.client->apply(services({"c", "d"}), half).ok());
  EXPECT_EQ(c.client->pick({.service = "a"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(c.client->pick({.service = "c"}).ok());
  // Both limits hold: allowing a wipe does not lift the share.
  EXPECT_EQ(
      c.client->apply(v1::ClientConfig(), {.allow_removing_all = true, .max_removed_share = 0.5})
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(ConfigSwapTest, ApplyOptionsOutOfRangeAreInvalid) {
  SimClient c(services({"a"}));
  EXPECT_EQ(c.client->apply(services({"a"}), {.max_removed_share = 1.5}).message(),
            "ApplyOptions: max_removed_share: must be in [0, 1], got 1.5");
  EXPECT_EQ(c.client->apply(services({"a"}), {.max_removed_share = std::nan("")}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConfigSwapTest, ClientOptionsSetTheLimitsOfApplyWithoutOptions) {
  auto clock = std::make_shared<testing::SimClock>();
  ClientOptions options;
  options.clock = clock;
  options.executor = std::make_shared<testing::ManualExecutor>(clock);
  options.prober = std::make_shared<testing::FakeProber>();
  options.initial_config = services({"a", "b"});
  options.apply_defaults.max_removed_share = -0.1;
  EXPECT_EQ(Client::create(options).status().message(),
            "ClientOptions: apply_defaults: max_removed_share: must be in [0, 1], got -0.1");
  options.apply_defaults = {.allow_removing_all = true};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->apply(v1::ClientConfig()).ok());
  EXPECT_EQ((*client)->pick({.service = "a"}).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ufc
