// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The agent watch on simulated time: which endpoints a pass drains and restores, the
// guards that keep it from emptying a service, and passes written through a real Hub over
// a LocalStore (concurrent writers, the registry unreachable).

#include "metad/agent_watch.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metad/store/local_store.h"
#include "tests/metad/metad_process.h"

namespace ufc::metad {
namespace {

using ::testing::ElementsAre;
using testing::TempDir;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// "echo" over hosts 10.0.0.1..n (port 80), agent_watch on with `after`.
v1::ServiceConfig service(int n, absl::Duration after = absl::Seconds(10),
                          std::optional<double> max_share = std::nullopt) {
  v1::ServiceConfig s;
  s.set_name("echo");
  s.set_version(7);
  for (int i = 1; i <= n; ++i) s.add_endpoints()->set_address(absl::StrCat("10.0.0.", i, ":80"));
  s.mutable_agent_watch()->set_enabled(true);
  s.mutable_agent_watch()->mutable_after()->set_seconds(absl::ToInt64Seconds(after));
  if (max_share.has_value()) s.mutable_agent_watch()->set_max_share(*max_share);
  return s;
}

absl::flat_hash_set<std::string> hosts(std::vector<int> up) {
  absl::flat_hash_set<std::string> out;
  for (int i : up) out.insert(absl::StrCat("10.0.0.", i));
  return out;
}

TEST(AgentHostsTest, AHostIsLostOnlyOnceSeenAndGoneForTheWholeWait) {
  AgentHosts h;
  h.observe(hosts({1, 2}), kT0);
  EXPECT_TRUE(h.alive("10.0.0.1"));
  EXPECT_FALSE(h.lost("10.0.0.3", absl::ZeroDuration(), kT0 + absl::Hours(1)));  // never seen
  h.observe(hosts({1}), kT0 + absl::Seconds(1));
  EXPECT_FALSE(h.alive("10.0.0.2"));
  EXPECT_FALSE(h.lost("10.0.0.2", absl::Seconds(10), kT0 + absl::Seconds(10)));
  EXPECT_TRUE(h.lost("10.0.0.2", absl::Seconds(10), kT0 + absl::Seconds(11)));
  EXPECT_EQ(h.gone_since("10.0.0.2"), kT0 + absl::Seconds(1));
  // Back, then gone again: the wait starts over.
  h.observe(hosts({1, 2}), kT0 + absl::Seconds(20));
  h.observe(hosts({1}), kT0 + absl::Seconds(21));
  EXPECT_FALSE(h.lost("10.0.0.2", absl::Seconds(10), kT0 + absl::Seconds(30)));
  // Names compare in lower case.
  h.observe({"Node-7.Example"}, kT0 + absl::Seconds(40));
  EXPECT_TRUE(h.alive("node-7.example"));
  EXPECT_FALSE(h.alive("10.0.0.1"));
}

TEST(AgentHostsTest, AnAgentStandsForItsReportedHostAndWhereItsStreamComesFrom) {
  v1::ClientStatus c;
  c.mutable_client()->set_host("web-7");
  c.set_peer("ipv4:10.0.0.7:41234");
  EXPECT_THAT(agent_hosts(c), ElementsAre("web-7", "10.0.0.7"));
  c.set_peer("ipv6:%5Bfe80::1%5D:5000");  // as gRPC writes it: percent-encoded
  EXPECT_THAT(agent_hosts(c), ElementsAre("web-7", "fe80::1"));
  c.set_peer("ipv6:%5Bfe80::1%25eth0%5D:5000");  // with a zone
  EXPECT_THAT(agent_hosts(c), ElementsAre("web-7", "fe80::1"));
  c.mutable_client()->clear_host();
  c.set_peer("unix:/run/x.sock");
  EXPECT_TRUE(agent_hosts(c).empty());
  c.mutable_client()->set_self_service("ufc-agentd");
  EXPECT_TRUE(is_agent(c));
  c.mutable_client()->set_self_service("checkout");
  EXPECT_FALSE(is_agent(c));
  c.mutable_client()->set_process("ufc-agentd");  // renamed with --self_service
  EXPECT_TRUE(is_agent(c));
}

TEST(PlanDrainTest, DrainsAHostGoneForTheWaitAndRestoresItWhenItsAgentIsBack) {
  v1::ServiceConfig s = service(4);
  s.mutable_endpoints(1)->set_weight(3);  // 10.0.0.2, weight 3
  AgentHosts h;
  h.observe(hosts({1, 2, 3, 4}), kT0);
  EXPECT_FALSE(plan_drain(s, h, kT0).has_value());
  h.observe(hosts({1, 3, 4}), kT0 + absl::Seconds(1));
  EXPECT_FALSE(plan_drain(s, h, kT0 + absl::Seconds(10)).has_value());  // not yet
  std::optional<DrainPlan> p = plan_drain(s, h, kT0 + absl::Seconds(11));
  ASSERT_TRUE(p.has_value());
  EXPECT_THAT(p->drained, ElementsAre("10.0.0.2:80"));
  const v1::Endpoint& e = p->service.endpoints(1);
  EXPECT_EQ(e.weight(), 0);
  EXPECT_EQ(e.agent_drain().weight(), 3);
  EXPECT_EQ(e.agent_drain().since_unix_ms(), absl::ToUnixMillis(kT0 + absl::Seconds(11)));
  EXPECT_EQ(p->service.version(), 7u);  // the version read, for the compare-and-swap
  // Drained and still gone: nothing more to do.
  EXPECT_FALSE(plan_drain(p->service, h, kT0 + absl::Seconds(30)).has_value());
  // Back: its own weight again.
  h.observe(hosts({1, 2, 3, 4}), kT0 + absl::Seconds(40));
  std::optional<DrainPlan> back = plan_drain(p->service, h, kT0 + absl::Seconds(40));
  ASSERT_TRUE(back.has_value());
  EXPECT_THAT(back->restored, ElementsAre("10.0.0.2:80"));
  EXPECT_EQ(back->service.endpoints(1).weight(), 3);
  EXPECT_FALSE(back->service.endpoints(1).has_agent_drain());
}

TEST(PlanDrainTest, AnAbsentWeightStaysAbsentAndAnAdminsDrainIsLeftAlone) {
  v1::ServiceConfig s = service(3);
  s.mutable_endpoints(2)->set_weight(0);  // drained by its owner
  AgentHosts h;
  h.observe(hosts({1, 2, 3}), kT0);
  h.observe(hosts({2}), kT0);
  std::optional<DrainPlan> p = plan_drain(s, h, kT0 + absl::Minutes(1));
  ASSERT_TRUE(p.has_value());
  EXPECT_THAT(p->drained, ElementsAre("10.0.0.1:80"));  // 10.0.0.3 has no weight to take
  EXPECT_FALSE(p->service.endpoints(0).agent_drain().has_weight());
  h.observe(hosts({1, 2, 3}), kT0 + absl::Minutes(2));
  std::optional<DrainPlan> back = plan_drain(p->service, h, kT0 + absl::Minutes(2));
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->service.endpoints(0).has_weight());  // absent: 1, as configured
  EXPECT_EQ(back->service.endpoints(2).weight(), 0);
  EXPECT_FALSE(back->service.endpoints(2).has_agent_drain());
}

TEST(PlanDrainTest, AtMostMaxShareLongestGoneFirstAndNeverTheLastWeightedEndpoint) {
  v1::ServiceConfig s = service(4, absl::Seconds(10), 0.5);
  AgentHosts h;
  h.observe(hosts({1, 2, 3, 4}), kT0);
  h.observe(hosts({1, 2, 4}), kT0 + absl::Seconds(1));  // 3 goes first
  h.observe(hosts({1}), kT0 + absl::Seconds(2));        // then 2 and 4
  std::optional<DrainPlan> p = plan_drain(s, h, kT0 + absl::Minutes(1));
  ASSERT_TRUE(p.has_value());
  EXPECT_THAT(p->drained, ElementsAre("10.0.0.3:80", "10.0.0.2:80"));  // 2 of 4
  // Once 3 is back, there is room for 4 (and 3 is restored in the same pass).
  h.observe(hosts({1, 3}), kT0 + absl::Minutes(2));
  std::optional<DrainPlan> q = plan_drain(p->service, h, kT0 + absl::Minutes(2));
  ASSERT_TRUE(q.has_value());
  EXPECT_THAT(q->restored, ElementsAre("10.0.0.3:80"));
  EXPECT_THAT(q->drained, ElementsAre("10.0.0.4:80"));

  // A share of 1 still leaves one endpoint with weight.
  v1::ServiceConfig all = service(2, absl::Seconds(10), 1.0);
  AgentHosts g;
  g.observe(hosts({1, 2, 9}), kT0);
  g.observe(hosts({9}), kT0);  // an agent elsewhere is up, these two are gone
  std::optional<DrainPlan> r = plan_drain(all, g, kT0 + absl::Minutes(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->drained.size(), 1u);
}

TEST(PlanDrainTest, TurningTheWatchOffRestoresEveryDrain) {
  v1::ServiceConfig s = service(3);
  AgentHosts h;
  h.observe(hosts({1, 2, 3}), kT0);
  h.observe(hosts({1, 3}), kT0);
  std::optional<DrainPlan> p = plan_drain(s, h, kT0 + absl::Minutes(1));
  ASSERT_TRUE(p.has_value());
  p->service.mutable_agent_watch()->set_enabled(false);  // the owner turns it off
  std::optional<DrainPlan> off = plan_drain(p->service, h, kT0 + absl::Minutes(2));
  ASSERT_TRUE(off.has_value());
  EXPECT_THAT(off->restored, ElementsAre("10.0.0.2:80"));  // its host still has no agent
  EXPECT_FALSE(off->service.endpoints(1).has_agent_drain());
  EXPECT_FALSE(plan_drain(off->service, h, kT0 + absl::Minutes(3)).has_value());
}

TEST(PlanDrainTest, AServerThatSeesNoAgentAtAllDrainsNothing) {
  v1::ServiceConfig s = service(4, absl::Seconds(10), 1.0);
  AgentHosts h;
  h.observe(hosts({1, 2, 3, 4}), kT0);
  h.observe({}, kT0 + absl::Seconds(1));  // every stream gone at once: this server's cut off
  EXPECT_FALSE(plan_drain(s, h, kT0 + absl::Hours(1)).has_value());
}

class AgentWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = LocalStore::open(dir_.path()).value();
    hub_ = std::make_unique<Hub>(*store_, Hub::Options{});
    ASSERT_TRUE(hub_->start().ok());
    v1::PutServiceRequest put;
    *put.mutable_service() = service(3, absl::Seconds(5));
    ASSERT_TRUE(hub_->put(put).ok());
    v1::PutServiceRequest other;  // not watched: never touched
    other.mutable_service()->set_name("plain");
    other.mutable_service()->add_endpoints()->set_address("10.0.0.2:80");
    ASSERT_TRUE(hub_->put(other).ok());
    watch_ = std::make_unique<AgentWatch>(
        *hub_, [this] { return alive_; }, AgentWatch::Options{});
  }
  v1::ServiceConfig get(const std::string& name) { return hub_->get(name).value().service(); }

  TempDir dir_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<Hub> hub_;
  std::optional<absl::flat_hash_set<std::string>> alive_ = hosts({1, 2, 3});
  std::unique_ptr<AgentWatch> watch_;
};

TEST_F(AgentWatchTest, PassesWriteDrainsAndRestoresThroughTheStore) {
  watch_->pass(kT0);
  const uint64_t v0 = get("echo").version();
  alive_ = hosts({1, 3});
  watch_->pass(kT0 + absl::Seconds(1));
  watch_->pass(kT0 + absl::Seconds(6));
  v1::ServiceConfig drained = get("echo");
  EXPECT_GT(drained.version(), v0);
  EXPECT_EQ(drained.endpoints(1).weight(), 0);
  EXPECT_TRUE(drained.endpoints(1).has_agent_drain());
  EXPECT_FALSE(get("plain").endpoints(0).has_weight());
  EXPECT_EQ(watch_->counters().drained, 1u);
  // The registry cannot be read: nothing is decided, the drain stays.
  alive_ = std::nullopt;
  watch_->pass(kT0 + absl::Seconds(7));
  EXPECT_EQ(get("echo").version(), drained.version());
  alive_ = hosts({1, 2, 3});
  watch_->pass(kT0 + absl::Seconds(8));
  v1::ServiceConfig back = get("echo");
  EXPECT_GT(back.version(), drained.version());
  EXPECT_FALSE(back.endpoints(1).has_weight());
  EXPECT_FALSE(back.endpoints(1).has_agent_drain());
  EXPECT_EQ(watch_->counters().restored, 1u);
  EXPECT_EQ(watch_->counters().write_errors, 0u);
}

TEST_F(AgentWatchTest, AServiceWhoseWatchWasTurnedOffGetsItsDrainsBack) {
  watch_->pass(kT0);
  alive_ = hosts({1, 3});
  watch_->pass(kT0 + absl::Seconds(1));
  watch_->pass(kT0 + absl::Seconds(6));
  v1::ServiceConfig drained = get("echo");
  ASSERT_TRUE(drained.endpoints(1).has_agent_drain());
  v1::PutServiceRequest put;  // the owner keeps the drained endpoints, turns the watch off
  *put.mutable_service() = drained;
  put.mutable_service()->mutable_agent_watch()->set_enabled(false);
  ASSERT_TRUE(hub_->put(put).ok());
  watch_->pass(kT0 + absl::Seconds(7));
  EXPECT_FALSE(get("echo").endpoints(1).has_agent_drain());
  EXPECT_FALSE(get("echo").endpoints(1).has_weight());
}

TEST_F(AgentWatchTest, AnAdminsPutReplacingADrainIsDrainedAgainWhileTheHostIsGone) {
  watch_->pass(kT0);
  alive_ = hosts({1, 3});
  watch_->pass(kT0 + absl::Seconds(1));
  watch_->pass(kT0 + absl::Seconds(6));
  ASSERT_TRUE(get("echo").endpoints(1).has_agent_drain());
  v1::PutServiceRequest put;  // the owner's config, written over the drain
  *put.mutable_service() = service(3, absl::Seconds(5));
  ASSERT_TRUE(hub_->put(put).ok());
  EXPECT_FALSE(get("echo").endpoints(1).has_agent_drain());
  watch_->pass(kT0 + absl::Seconds(7));
  EXPECT_TRUE(get("echo").endpoints(1).has_agent_drain());
  EXPECT_EQ(get("echo").endpoints(1).weight(), 0);
}

}  // namespace
}  // namespace ufc::metad
