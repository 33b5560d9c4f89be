// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Routing rules and IDC affinity through a real Client on simulated time.

#include <atomic>
#include <map>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/traffic_sim.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::SimClient;
using testing::TrafficSim;

// Endpoints 10.0.0.<i>:80 with the given tags.
v1::ServiceConfig service(const std::vector<std::map<std::string, std::string>>& tags) {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.set_version(1);
  for (size_t i = 0; i < tags.size(); ++i) {
    v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0.0." + std::to_string(i + 1) + ":80");
    for (const auto& [k, v] : tags[i]) (*e->mutable_tags())[k] = v;
  }
  return s;
}

v1::Subset* add_subset(v1::Route* route, const std::string& name,
                       std::map<std::string, std::string> tags, double weight = 1) {
  v1::Subset* subset = route->add_destinations();
  subset->set_name(name);
  for (const auto& [k, v] : tags) (*subset->mutable_tags())[k] = v;
  subset->set_weight(weight);
  return subset;
}

v1::ClientConfig one(const v1::ServiceConfig& s) {
  v1::ClientConfig c;
  *c.add_services() = s;
  return c;
}

// Where `n` picks of `request` go, by tag `key`.
std::map<std::string, int> spread(Client& client, PickRequest request, int n,
                                  const std::string& key) {
  std::map<std::string, int> out;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Pick> pick = client.pick(request);
    if (!pick.ok()) {
      ++out["error"];
      continue;
    }
    ++out[std::string(pick->tag(key))];
    client.report(*pick, Outcome::ok(absl::Milliseconds(1)));
  }
  return out;
}

const std::vector<std::map<std::string, std::string>> kVersions = {
    {{"version", "v1"}}, {{"version", "v1"}}, {{"version", "v1"}}, {{"version", "v2"}}};

TEST(RoutingTest, CanaryNinetyTenWithinOnePercentOver100kPicks) {
  v1::ServiceConfig s = service(kVersions);
  v1::Route* canary = s.add_routes();
  canary->set_name("canary");
  add_subset(canary, "stable", {{"version", "v1"}}, 90);
  add_subset(canary, "canary", {{"version", "v2"}}, 10);
  SimClient c(one(s));
  const std::map<std::string, int> got = spread(*c.client, {.service = "svc"}, 100000, "version");
  EXPECT_NEAR(got.at("v2") / 100000.0, 0.10, 0.01);
  EXPECT_NEAR(got.at("v1") / 100000.0, 0.90, 0.01);
  EXPECT_THAT(c.client->query("routes^svc"), HasSubstr("{\"name\":\"canary\",\"matched\":100000,"));
}

TEST(RoutingTest, HeaderRulesExactPrefixPresentAbsent) {
  v1::ServiceConfig s =
      service({{{"pool", "a"}}, {{"pool", "b"}}, {{"pool", "c"}}, {{"pool", "d"}}});
  auto rule = [&](const std::string& name, const std::string& key, const std::string& op,
                  const std::string& value, const std::string& pool) {
    v1::Route* r = s.add_routes();
    r->set_name(name);
    v1::AttributeMatch* a = r->mutable_match()->add_attributes();
    a->set_key(key);
    a->set_op(op);
    a->set_value(value);
    add_subset(r, pool, {{"pool", pool}});
  };
  rule("vip", "x-user", "exact", "alice", "a");
  rule("api", "path", "prefix", "/api/", "b");
  rule("debug", "x-debug", "present", "", "c");
  rule("anonymous", "x-user", "absent", "", "d");
  SimClient c(one(s));
  auto pool_of = [&](std::vector<Attribute> attributes) {
    absl::StatusOr<Pick> p = c.client->pick({.service = "svc", .attributes = attributes});
    return p.ok() ? std::string(p->tag("pool")) : "error";
  };
  EXPECT_EQ(pool_of({{"x-user", "alice"}}), "a");
  EXPECT_EQ(pool_of({{"x-user", "alicia"}, {"path", "/api/v1/items"}}), "b");
  EXPECT_EQ(pool_of({{"x-user", "bob"}, {"path", "/apix"}, {"x-debug", ""}}), "c");
  EXPECT_EQ(pool_of({{"path", "/home"}}), "d");
  // Rules are tried in order: alice with a debug header still goes to pool a.
  EXPECT_EQ(pool_of({{"x-debug", "1"}, {"x-user", "alice"}}), "a");
  // Nothing matched (a user, not alice, no api path, no debug): every endpoint.
  const std::map<std::string, int> rest =
      spread(*c.client, {.service = "svc", .attributes = std::vector<Attribute>{{"x-user", "bob"}}},
             400, "pool");
  EXPECT_EQ(rest.size(), 4u);
  EXPECT_THAT(c.client->query("routes^svc"), HasSubstr("\"unmatched\":400,"));
}

TEST(RoutingTest, CallerServiceRuleSendsCallerXToAAndEveryoneElseToB) {
  v1::ServiceConfig s = service({{{"pool", "a"}}, {{"pool", "b"}}});
  v1::Route* x = s.add_routes();
  x->set_name("caller-x");
  x->mutable_match()->add_caller_services("x");
  add_subset(x, "a", {{"pool", "a"}});
  v1::Route* rest = s.add_routes();
  rest->set_name("everyone-else");
  add_subset(rest, "b", {{"pool", "b"}});
  SimClient c(one(s));  // the client is "tester"
  EXPECT_EQ(spread(*c.client, {.service = "svc", .caller_service = "x"}, 100, "pool"),
            (std::map<std::string, int>{{"a", 100}}));
  EXPECT_EQ(spread(*c.client, {.service = "svc"}, 100, "pool"),
            (std::map<std::string, int>{{"b", 100}}));
  EXPECT_EQ(spread(*c.client, {.service = "svc", .caller_service = "y"}, 100, "pool"),
            (std::map<std::string, int>{{"b", 100}}));
}

TEST(RoutingTest, PercentageRuleWithinOnePercent) {
  v1::ServiceConfig s = service(kVersions);
  v1::Route* r = s.add_routes();
  r->set_name("five-percent");
  r->mutable_match()->set_percent(5);
  add_subset(r, "v2", {{"version", "v2"}});
  v1::Route* rest = s.add_routes();
  rest->set_name("rest");
  add_subset(rest, "v1", {{"version", "v1"}});
  SimClient c(one(s));
  const std::map<std::string, int> got = spread(*c.client, {.service = "svc"}, 100000, "version");
  EXPECT_NEAR(got.at("v2") / 100000.0, 0.05, 0.01);
}

TEST(RoutingTest, CallerIdcRuleMatchesPhysicalOrLogicalIdc) {
  v1::ServiceConfig s = service({{{"pool", "a"}}, {{"pool", "b"}}});
  v1::Route* r = s.add_routes();
  r->set_name("beijing");
  r->mutable_match()->add_caller_idcs("bj");  // the logical name
  add_subset(r, "a", {{"pool", "a"}});
  v1::ClientConfig config = one(s);
  (*config.mutable_idc_map())["bj-3"] = "bj";
  SimClient in_bj(config, 1, "bj-3");
  EXPECT_EQ(spread(*in_bj.client, {.service = "svc"}, 50, "pool"),
            (std::map<std::string, int>{{"a", 50}}));
  SimClient in_sh(config, 1, "sh-1");
  EXPECT_EQ(spread(*in_sh.client, {.service = "svc"}, 50, "pool").count("b"), 1u);
}

TEST(RoutingTest, IdcAffinityKeepsTrafficLocalWidensOnBansAndNarrowsOnRecovery) {
  v1::ServiceConfig s = service({{{"idc", "bj-1"}},
                                 {{"idc", "bj-2"}},
                                 {{"idc", "bj-1"}},
                                 {{"idc", "sh-1"}},
                                 {{"idc", "sh-1"}},
                                 {{"idc", "sh-2"}}});
  s.mutable_balancing()->set_policy("round_robin");
  s.mutable_idc_affinity()->set_enabled(true);
  s.mutable_idc_affinity()->set_min_healthy(2);
  v1::ClientConfig config = one(s);
  for (const char* p : {"bj-1", "bj-2"}) (*config.mutable_idc_map())[p] = "bj";
  for (const char* p : {"sh-1", "sh-2"}) (*config.mutable_idc_map())[p] = "sh";
  SimClient c(config, 1, "bj-2");
  TrafficSim sim(c, "svc");

  // All three bj endpoints healthy: everything stays in bj.
  sim.run(absl::Seconds(1), 1000);
  for (int i = 4; i <= 6; ++i)
    EXPECT_EQ(sim.stats("10.0.0." + std::to_string(i) + ":80").requests, 0u);

  // Two of the three bj endpoints die and are banned: 1 usable < min_healthy 2: widen.
  bool down = true;
  for (int i : {1, 2}) {
    sim.set("10.0.0." + std::to_string(i) + ":80", [&](absl::Duration) {
      return down ? TrafficSim::refused({}) : TrafficSim::healthy({});
    });
  }
  c.prober->set_reachable(
      [&](const std::string& a) { return !down || (a != "10.0.0.1:80" && a != "10.0.0.2:80"); });
  sim.run(absl::Seconds(1), 1000);
  ASSERT_EQ(sim.events_of(EventType::kIdcWiden).size(), 1u);
  EXPECT_THAT(sim.events_of(EventType::kIdcWiden)[0].detail,
              HasSubstr("*: 1 of 3 endpoints usable in logical IDC \"bj\"; using every IDC"));
  const uint64_t sh_before = sim.stats("10.0.0.4:80").requests;
  sim.run(absl::Seconds(1), 1000);
  EXPECT_GT(sim.stats("10.0.0.4:80").requests, sh_before + 200) << "sh takes its share now";

  // They come back; the probes at ~10 s unban them: narrow back to bj.
  down = false;
  sim.run(absl::Seconds(10), 1000);
  ASSERT_EQ(sim.events_of(EventType::kIdcNarrow).size(), 1u);
  const uint64_t sh_after = sim.stats("10.0.0.4:80").requests;
  sim.run(absl::Seconds(1), 1000);
  EXPECT_EQ(sim.stats("10.0.0.4:80").requests, sh_after) << "local again";
}

TEST(RoutingTest, IdcAffinityWidensWhenLocalEndpointsAreDrained) {
  v1::ServiceConfig s = service({{{"idc", "bj"}}, {{"idc", "bj"}}, {{"idc", "sh"}}});
  s.mutable_idc_affinity()->set_enabled(true);
  s.mutable_idc_affinity()->set_min_healthy_share(0.6);
  SimClient c(one(s), 1, "bj");
  EXPECT_EQ(spread(*c.client, {.service = "svc"}, 100, "idc"),
            (std::map<std::string, int>{{"bj", 100}}));
  v1::ServiceConfig drained = s;
  drained.set_version(2);
  drained.mutable_endpoints(0)->set_weight(0);  // 1 of 2 local usable: 50% < 60%
  ASSERT_TRUE(c.client->apply(drained).ok());
  EXPECT_EQ(spread(*c.client, {.service = "svc"}, 100, "idc").count("sh"), 1u);
  ASSERT_GE(c.events.size(), 2u);
  EXPECT_EQ(c.events[c.events.size() - 2].type, EventType::kIdcWiden);  // then config_applied
  v1::ServiceConfig restored = s;
  restored.set_version(3);
  ASSERT_TRUE(c.client->apply(restored).ok());
  EXPECT_EQ(c.events.back().type, EventType::kConfigApplied);
  EXPECT_EQ(c.events[c.events.size() - 2].type, EventType::kIdcNarrow);
}

TEST(RoutingTest, RoutingValidationReportsEveryProblemWithItsPath) {
  v1::ServiceConfig s = service(kVersions);
  v1::Route* a = s.add_routes();
  a->set_name("dup");
  v1::AttributeMatch* m = a->mutable_match()->add_attributes();
  m->set_key("x");
  m->set_op("regex");
  v1::AttributeMatch* p = a->mutable_match()->add_attributes();
  p->set_key("");
  p->set_op("present");
  p->set_value("1");
  a->mutable_match()->set_percent(120);
  add_subset(a, "none", {{"version", "v3"}}, 0);
  v1::Route* b = s.add_routes();
  b->set_name("dup");
  add_subset(b, "x", {{"version", "v1"}}, -1);
  v1::Route* c = s.add_routes();
  c->set_name("empty");
  s.mutable_idc_affinity()->set_min_healthy_share(2);
  EXPECT_EQ(validate_service(s).message(),
            "routes[0].match.attributes[0].op: unknown operator \"regex\"; expected exact, prefix, "
            "present or absent; "
            "routes[0].match.attributes[1].key: must not be empty; "
            "routes[0].match.attributes[1].value: must be empty with operator \"present\"; "
            "routes[0].match.percent: must be in [0, 100], got 120; "
            "routes[0].destinations: all weights are 0; "
            "routes[1].name: duplicate rule name \"dup\"; "
            "routes[1].destinations[0].weight: must be in [0, 1e+06], got -1; "
            "routes[2].destinations: must not be empty; "
            "idc_affinity.min_healthy_share: must be in [0, 1], got 2; "
            "routes[0].destinations[0].tags: {version: v3} selects no endpoint");
}

// Two rule sets swapped under eight pickers; run under ASan+UBSan by scripts/test.sh.
TEST(RoutingTest, ConfigSwapBetweenRuleSetsUnderEightConcurrentPickers) {
  v1::ServiceConfig a = service(kVersions);
  v1::Route* canary = a.add_routes();
  canary->set_name("canary");
  v1::AttributeMatch* m = canary->mutable_match()->add_attributes();
  m->set_key("x-user");
  m->set_op("prefix");
  m->set_value("test-");
  add_subset(canary, "v2", {{"version", "v2"}});
  v1::ServiceConfig b = service(kVersions);
  v1::Route* pct = b.add_routes();
  pct->set_name("half");
  pct->mutable_match()->set_percent(50);
  add_subset(pct, "v1", {{"version", "v1"}}, 3);
  add_subset(pct, "v2", {{"version", "v2"}}, 1);
  b.mutable_idc_affinity()->set_enabled(true);

  ClientOptions options;
  options.initial_config = one(a);
  auto client = Client::create(options);
  ASSERT_TRUE(client.ok());
  std::atomic<bool> stop{false};
  std::atomic<long> picks{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::vector<Attribute> attrs = {{"x-user", t % 2 ? "test-7" : "real-7"}};
      for (int i = 0; i < 20000; ++i) {
        absl::StatusOr<Pick> p = (*client)->pick({.service = "svc", .attributes = attrs});
        if (!p.ok()) {
          ++errors;
          continue;
        }
        ++picks;
        (*client)->report(*p, Outcome::ok(absl::Microseconds(100)));
      }
    });
  }
  std::thread swapper([&] {
    for (uint64_t v = 2; !stop.load(); ++v) {
      v1::ServiceConfig next = v % 2 ? a : b;
      next.set_version(v);
      ASSERT_TRUE((*client)->apply(next).ok());
      (void)(*client)->query("routes^svc");
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  swapper.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(picks.load(), 8 * 20000);
}

}  // namespace
}  // namespace ufc
