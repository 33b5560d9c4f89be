// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The ban manager alone, without a Client: endpoints fed by hand, a ManualExecutor and a
// SimClock firing its timers, a scripted prober, and a listener that records which
// services it was told to republish (as Envoy tests its outlier DetectorImpl).

#include "src/banning/ban_manager.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_prober.h"
#include "tests/testing/manual_executor.h"

namespace ufc::internal {
namespace {

using ::testing::ElementsAre;
using testing::FakeProber;
using testing::ManualExecutor;
using testing::SimClock;

constexpr int64_t kNow = SimClock::kStartNs;

class Recorder final : public BanManager::Listener {
 public:
  void on_bans_changed(absl::Span<const std::string> services, std::vector<Event>&) override {
    for (const std::string& s : services) republished.push_back(s);
  }
  std::vector<std::string> republished;
};

class BanManagerTest : public ::testing::Test {
 protected:
  BanManagerTest()
      : clock_(std::make_shared<SimClock>()),
        executor_(std::make_shared<ManualExecutor>(clock_)),
        prober_(std::make_shared<FakeProber>()),
        bans_(std::make_unique<BanManager>(BanManager::Options{
            clock_.get(), executor_.get(), prober_, &listener_,
            [this](const Event& e) { events_.push_back(e); }, absl::Milliseconds(1)})) {}

  // Endpoints 10.0.0.1:80 .. 10.0.0.<n>:80 (weight 1), reporting trips to the manager.
  std::shared_ptr<EndpointSet> endpoints(int n, const std::vector<EndpointRef>* reuse = nullptr) {
    auto set = std::make_shared<EndpointSet>();
    for (int i = 0; i < n; ++i) {
      if (reuse != nullptr && i < static_cast<int>(reuse->size())) {
        set->endpoints.push_back(EndpointRef::share((*reuse)[i].get()));
      } else {
        EndpointIdentity id;
        id.address = "10.0.0." + std::to_string(i + 1) + ":80";
        id.host_size = static_cast<uint16_t>(id.address.size() - 3);
        id.port = 80;
        id.tags = std::make_shared<const std::vector<Tag>>();
        set->endpoints.push_back(
            EndpointRef::adopt(new Endpoint(std::move(id), bans_->suspects())));
      }
      set->weights.push_back(1);
    }
    return set;
  }

  static BanPolicy policy(const std::string& json_like_tweak = "") {
    BanPolicy p;
    p.by_business = json_like_tweak == "business";
    return p;
  }

  void refuse(const EndpointSet& set, int i, int times) {
    for (int k = 0; k < times; ++k) {
      set.endpoints[i]->on_pick(0);
      set.endpoints[i]->on_report(0, OutcomeClass::kConnectRefused, 1000, kNow);
      set.endpoints[i]->release(0, true);
    }
  }
  void answer(const EndpointSet& set, int i, int times, OutcomeClass cls, int64_t latency_us) {
    for (int k = 0; k < times; ++k) {
      set.endpoints[i]->on_pick(0);
      set.endpoints[i]->on_report(0, cls, latency_us, kNow);
      set.endpoints[i]->release(0, true);
    }
  }

  std::vector<Event> events(EventType type) const {
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }

  std::shared_ptr<SimClock> clock_;
  std::shared_ptr<ManualExecutor> executor_;
  std::shared_ptr<FakeProber> prober_;
  Recorder listener_;
  std::vector<Event> events_;
  std::unique_ptr<BanManager> bans_;
};

TEST_F(BanManagerTest, RefusingBackendIsBannedAtTheNextTickProbedAndLetBack) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(4);
  std::vector<Event> settle;
  bans_->update_service(id, policy(), 7, set, {}, settle);
  EXPECT_TRUE(settle.empty());

  // Five refusals in a row trip the window: the endpoint is held out of pick at once (its
  // peers are clean), and the ban is recorded at the manager's tick.
  refuse(*set, 2, 4);
  EXPECT_FALSE(set->endpoints[2]->held());
  refuse(*set, 2, 1);
  EXPECT_TRUE(set->endpoints[2]->held());
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false, false, false));
  EXPECT_TRUE(events_.empty());
  executor_->advance(absl::Milliseconds(1));
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false, true, false));
  EXPECT_THAT(listener_.republished, ElementsAre("svc"));
  EXPECT_FALSE(set->endpoints[2]->held()) << "republished without it: the hold is let go";
  ASSERT_EQ(events(EventType::kBan).size(), 1u);
  const Event ban = events(EventType::kBan)[0];
  EXPECT_EQ(ban.endpoint, "10.0.0.3:80");
  EXPECT_EQ(ban.version, 7u);
  EXPECT_EQ(ban.ban_time, absl::Seconds(10));
  EXPECT_EQ(ban.detail, "5 consecutive transport failures");
  EXPECT_EQ(set->endpoints[2]->window(), 0u) << "a ban starts the window afresh";

  // At 10 s the ban expires into a probe; the port is still closed: banned again, 20 s.
  prober_->set_reachable([](const std::string&) { return false; });
  executor_->advance(absl::Seconds(10) + absl::Milliseconds(100));
  ASSERT_EQ(events(EventType::kProbeFailed).size(), 1u);
  EXPECT_EQ(events(EventType::kProbeFailed)[0].ban_time, absl::Seconds(20));
  EXPECT_EQ(events(EventType::kProbeFailed)[0].streak, 2u);
  EXPECT_EQ(events(EventType::kProbeFailed)[0].detail,
            "probe failed; banned for: 5 consecutive transport failures");
  EXPECT_THAT(prober_->probed(), ElementsAre("10.0.0.3:80"));
  {
    const BanStats st = bans_->stats(id, true).endpoints[2];
    EXPECT_EQ(st.reason, "5 consecutive transport failures") << "the ban's reason is kept";
    EXPECT_EQ(st.last, "probe failed");
    EXPECT_EQ(st.detector, "by_request");
  }

  // At 30 s it answers: unbanned, and the listener republishes.
  prober_->set_reachable([](const std::string&) { return true; });
  executor_->advance(absl::Seconds(20));
  ASSERT_EQ(events(EventType::kUnban).size(), 1u);
  EXPECT_EQ(events(EventType::kUnban)[0].detail, "probe answered: the port accepts connections");
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false, false, false));
  EXPECT_THAT(listener_.republished, ElementsAre("svc", "svc"));
  const BanManager::ServiceBans stats = bans_->stats(id, true);
  EXPECT_EQ(stats.bans_issued, 1u);
  EXPECT_EQ(stats.out_now, 0u);
  EXPECT_EQ(stats.endpoints[2].state, "ok");
  EXPECT_EQ(stats.endpoints[2].streak, 2u);
}

TEST_F(BanManagerTest, WithoutPeerComparisonMaxRatioStopsTheThirdBanOfFourAndSaysSoOnce) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(4);
  std::vector<Event> settle;
  BanPolicy absolute = policy();
  absolute.compare_peers = false;  // every tripped window bans, as before peers counted
  bans_->update_service(id, absolute, 1, set, {}, settle);
  for (int i = 0; i < 4; ++i) refuse(*set, i, 5);
  executor_->advance(absl::Milliseconds(1));
  EXPECT_EQ(events(EventType::kBan).size(), 2u) << "floor(0.5 x 4)";
  ASSERT_EQ(events(EventType::kMaxBanRatio).size(), 1u);
  EXPECT_THAT(events(EventType::kMaxBanRatio)[0].detail,
              ::testing::HasSubstr("2 of 4 active endpoints are banned already"));
  // More failures on the same two: still one alert for the episode.
  for (int i = 0; i < 4; ++i) refuse(*set, i, 5);
  executor_->advance(absl::Milliseconds(1));
  EXPECT_EQ(events(EventType::kMaxBanRatio).size(), 1u);
  EXPECT_EQ(bans_->stats(id, false).out_now, 2u);
}

// A new version below the limit ends the episode there and then: the next time the limit
// stops a ban is news, even before a housekeeping pass has looked (or, idle, settled).
TEST_F(BanManagerTest, ANewVersionBelowTheLimitEndsTheMaxRatioEpisode) {
  std::atomic<bool> idle{false};
  const BanServiceId id = bans_->add_service("svc", &idle);
  BanPolicy absolute = policy();
  absolute.compare_peers = false;
  std::vector<Event> settle;
  auto v1 = endpoints(4);
  bans_->update_service(id, absolute, 1, v1, {}, settle);
  for (int i = 0; i < 4; ++i) refuse(*v1, i, 5);
  executor_->advance(absl::Milliseconds(1));
  ASSERT_EQ(events(EventType::kMaxBanRatio).size(), 1u);

  idle.store(true);
  auto v2 = endpoints(4);  // all new, all in rotation
  bans_->update_service(id, absolute, 2, v2, {}, settle);
  idle.store(false);
  for (int i = 0; i < 4; ++i) refuse(*v2, i, 5);
  executor_->advance(absl::Milliseconds(1));  // the suspects' tick, before any pass
  EXPECT_EQ(events(EventType::kMaxBanRatio).size(), 2u);
}

TEST_F(BanManagerTest, EndpointsFailingAlikeAreAnIncidentAndNobodyIsBanned) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(4);
  std::vector<Event> settle;
  bans_->update_service(id, policy(), 1, set, {}, settle);
  // All four refuse: the first two trip while the gate still sees clean peers and are held
  // (the max ratio leaves two slots); the tick sees every window tripped and lets go.
  for (int i = 0; i < 4; ++i) refuse(*set, i, 5);
  EXPECT_TRUE(set->endpoints[0]->held());
  EXPECT_TRUE(set->endpoints[1]->held());
  EXPECT_FALSE(set->endpoints[2]->held()) << "no third slot";
  executor_->advance(absl::Milliseconds(1));
  EXPECT_TRUE(events(EventType::kBan).empty());
  EXPECT_TRUE(events(EventType::kMaxBanRatio).empty());
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(set->endpoints[i]->held()) << i;
  // And from now on a trip holds nobody: the gate knows the service fails as a whole.
  refuse(*set, 0, 1);
  EXPECT_FALSE(set->endpoints[0]->held());
  executor_->advance(absl::Milliseconds(1));
  EXPECT_TRUE(events(EventType::kBan).empty());
  EXPECT_EQ(bans_->stats(id, false).out_now, 0u);
}

TEST_F(BanManagerTest, HoldsNeverExceedWhatTheMaxRatioLeaves) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(10);
  std::vector<Event> settle;
  BanPolicy p = policy();
  p.max_ratio = 0.2;  // two of ten
  bans_->update_service(id, p, 1, set, {}, settle);
  for (int i = 0; i < 3; ++i) refuse(*set, i, 5);
  EXPECT_TRUE(set->endpoints[0]->held());
  EXPECT_TRUE(set->endpoints[1]->held());
  EXPECT_FALSE(set->endpoints[2]->held());
  executor_->advance(absl::Milliseconds(1));
  EXPECT_THAT(bans_->out_of_rotation(id),
              ElementsAre(true, true, false, false, false, false, false, false, false, false));
  ASSERT_EQ(events(EventType::kMaxBanRatio).size(), 1u);
  const Event ratio = events(EventType::kMaxBanRatio)[0];
  EXPECT_EQ(ratio.endpoint, "10.0.0.3:80");
  EXPECT_EQ(
      ratio.detail,
      "5 consecutive transport failures (severity 1.00); not banned: 2 of 10 active endpoints "
      "are banned already, the most max ratio 0.2 allows, none milder by 0.05: "
      "10.0.0.1:80 (1.00), 10.0.0.2:80 (1.00)");
  EXPECT_FALSE(set->endpoints[2]->held()) << "passed over: in rotation";
}

TEST_F(BanManagerTest, AWorseOutlierTakesTheSlotOfAMilderOne) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(10);
  std::vector<Event> settle;
  BanPolicy p = policy("business");
  p.max_ratio = 0.2;  // two of ten
  bans_->update_service(id, p, 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));  // baselines
  for (int i = 0; i < 10; ++i) {
    if (i == 1) {
      answer(*set, i, 60, OutcomeClass::kServerError, 2000);
      answer(*set, i, 40, OutcomeClass::kSuccess, 2000);
    } else {
      answer(*set, i, 100, i == 4 ? OutcomeClass::kClientError : OutcomeClass::kSuccess, 2000);
    }
  }
  executor_->advance(absl::Seconds(10));
  ASSERT_EQ(events(EventType::kBan).size(), 2u);
  EXPECT_EQ(events(EventType::kBan)[0].endpoint, "10.0.0.5:80") << "worst first";
  EXPECT_EQ(events(EventType::kBan)[1].endpoint, "10.0.0.2:80");

  // At the limit, backend 7 dies: a closed port (severity 1.0) is worse than 60% 5xx (0.6).
  refuse(*set, 7, 5);
  EXPECT_FALSE(set->endpoints[7]->held()) << "no slot left for a hold; the tick decides";
  executor_->advance(absl::Milliseconds(1));
  ASSERT_EQ(events(EventType::kUnban).size(), 1u);
  EXPECT_EQ(events(EventType::kUnban)[0].endpoint, "10.0.0.2:80");
  EXPECT_EQ(events(EventType::kUnban)[0].detail,
            "replaced under the max ratio by 10.0.0.8:80, worse (severity 1.00 vs 0.60)");
  ASSERT_EQ(events(EventType::kBan).size(), 3u);
  EXPECT_EQ(events(EventType::kBan)[2].endpoint, "10.0.0.8:80");
  EXPECT_THAT(bans_->out_of_rotation(id),
              ElementsAre(false, false, false, false, true, false, false, true, false, false));
  EXPECT_TRUE(events(EventType::kMaxBanRatio).empty());
}

TEST_F(BanManagerTest, ABusinessBanEndsInProbationAndAStillBadBackendIsBannedAgainOnItsRequests) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    answer(*set, i, 100, i == 1 ? OutcomeClass::kClientError : OutcomeClass::kSuccess, 2000);
  }
  executor_->advance(absl::Seconds(10));  // 10.1 s: banned for 10 s
  ASSERT_EQ(events(EventType::kBan).size(), 1u);

  // 20.1 s: no TCP probe (a 404 backend would pass it): probation, back in rotation.
  executor_->advance(absl::Seconds(10));
  EXPECT_TRUE(prober_->probed().empty());
  ASSERT_EQ(events(EventType::kProbation).size(), 1u);
  EXPECT_EQ(events(EventType::kProbation)[0].detail,
            "ban expired: on probation, 10% of its picks for 20 requests, judged against its "
            "peers; banned for: 4xx share 100.0% vs peers 0.0%");
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false, false, false, false));
  EXPECT_NE(set->endpoints[1]->admission(), 0u) << "on trial: a share of its picks";
  EXPECT_EQ(bans_->stats(id, true).endpoints[1].state, "probation");

  // It still answers 404 to its twenty: banned again at the next look, doubled.
  answer(*set, 1, 20, OutcomeClass::kClientError, 2000);
  for (int i : {0, 2, 3, 4}) answer(*set, i, 100, OutcomeClass::kSuccess, 2000);
  executor_->advance(absl::Milliseconds(100));
  ASSERT_EQ(events(EventType::kProbeFailed).size(), 1u);
  const Event again = events(EventType::kProbeFailed)[0];
  EXPECT_EQ(again.detail,
            "probation failed: 4xx share 100.0% vs peers 0.0% over 20 requests; banned for: 4xx "
            "share 100.0% vs peers 0.0%");
  EXPECT_EQ(again.ban_time, absl::Seconds(20));
  EXPECT_EQ(again.streak, 2u);
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, true, false, false, false));
  EXPECT_EQ(set->endpoints[1]->admission(), 0u) << "out of the snapshot, no trial any more";
  EXPECT_TRUE(events(EventType::kUnban).empty());
}

TEST_F(BanManagerTest, ARecoveredBackendPassesProbationAndTheUnbanSaysWhy) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));
  for (int i = 0; i < 5; ++i) answer(*set, i, 100, OutcomeClass::kSuccess, i == 3 ? 300000 : 2000);
  executor_->advance(absl::Seconds(10));
  ASSERT_EQ(events(EventType::kBan).size(), 1u);
  EXPECT_EQ(events(EventType::kBan)[0].detail, "latency 300.0 ms vs peers 2.0 ms");
  executor_->advance(absl::Seconds(10));
  ASSERT_EQ(events(EventType::kProbation).size(), 1u);
  answer(*set, 3, 19, OutcomeClass::kSuccess, 2500);
  for (int i : {0, 1, 2, 4}) answer(*set, i, 100, OutcomeClass::kSuccess, 2000);
  executor_->advance(absl::Milliseconds(100));
  EXPECT_TRUE(events(EventType::kUnban).empty()) << "19 of its 20 requests: not judged yet";
  EXPECT_EQ(bans_->stats(id, true).endpoints[3].probation_requests, 19u);
  answer(*set, 3, 1, OutcomeClass::kSuccess, 2500);
  executor_->advance(absl::Milliseconds(100));
  ASSERT_EQ(events(EventType::kUnban).size(), 1u);
  EXPECT_EQ(events(EventType::kUnban)[0].detail,
            "passed probation: 20 requests, 4xx 0.0% 5xx 0.0% latency 2.5 ms; peers 4xx 0.0% 5xx "
            "0.0% latency 2.0 ms");
  EXPECT_EQ(set->endpoints[3]->admission(), 0u) << "all of its picks again";
  EXPECT_EQ(bans_->stats(id, true).endpoints[3].state, "ok");
}

TEST_F(BanManagerTest, AProbationWithTooFewRequestsEndsAfterItsTime) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    answer(*set, i, 100, i == 0 ? OutcomeClass::kServerError : OutcomeClass::kSuccess, 2000);
  }
  executor_->advance(absl::Seconds(20));  // banned at 10.1 s, on probation at 20.1 s
  ASSERT_EQ(events(EventType::kProbation).size(), 1u);
  answer(*set, 0, 3, OutcomeClass::kServerError, 2000);  // a trickle of traffic
  executor_->advance(absl::Seconds(29));
  EXPECT_TRUE(events(EventType::kUnban).empty());
  executor_->advance(absl::Seconds(1));
  ASSERT_EQ(events(EventType::kUnban).size(), 1u);
  EXPECT_EQ(events(EventType::kUnban)[0].detail,
            "probation ended after 30s with 3 of 20 requests: too few to judge, back in rotation");
  EXPECT_TRUE(events(EventType::kProbeFailed).empty()) << "three 5xx prove nothing";
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false, false, false, false));
}

TEST_F(BanManagerTest, AProbationGoesOnThroughANewVersionAndStartsAgainWhenItsPeersChange) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    answer(*set, i, 100, i == 4 ? OutcomeClass::kClientError : OutcomeClass::kSuccess, 2000);
  }
  executor_->advance(absl::Seconds(20));
  ASSERT_EQ(events(EventType::kProbation).size(), 1u);
  answer(*set, 4, 7, OutcomeClass::kClientError, 2000);
  // A new version over the same endpoints: the probation goes on where it was.
  bans_->update_service(id, policy("business"), 2, set, {}, settle);
  EXPECT_EQ(bans_->stats(id, true).endpoints[4].probation_requests, 7u);
  EXPECT_NE(set->endpoints[4]->admission(), 0u);
  // One more endpoint: the peers' sums no longer compare, so it is judged afresh.
  auto six = endpoints(6, &set->endpoints);
  bans_->update_service(id, policy("business"), 3, six, {}, settle);
  EXPECT_EQ(bans_->stats(id, true).endpoints[4].state, "probation");
  EXPECT_EQ(bans_->stats(id, true).endpoints[4].probation_requests, 0u);
  EXPECT_TRUE(settle.empty()) << "no events for either";
  EXPECT_NE(six->endpoints[4]->admission(), 0u);
}

TEST_F(BanManagerTest, WithProbationOffABusinessBanEndsWithTheProbe) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(5);
  std::vector<Event> settle;
  BanPolicy p = policy("business");
  p.probation = false;
  bans_->update_service(id, p, 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    answer(*set, i, 100, i == 2 ? OutcomeClass::kClientError : OutcomeClass::kSuccess, 2000);
  }
  executor_->advance(absl::Seconds(20));
  EXPECT_THAT(prober_->probed(), ElementsAre("10.0.0.3:80"));
  EXPECT_TRUE(events(EventType::kProbation).empty());
  ASSERT_EQ(events(EventType::kUnban).size(), 1u);
}

TEST_F(BanManagerTest, BusinessOutlierIsBannedAfterOneIntervalAgainstItsPeers) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  executor_->advance(absl::Milliseconds(100));  // the first evaluation: baselines only
  for (int i = 0; i < 5; ++i) {
    answer(*set, i, 100, i == 1 ? OutcomeClass::kClientError : OutcomeClass::kSuccess, 10000);
  }
  executor_->advance(absl::Seconds(9));
  EXPECT_TRUE(events(EventType::kBan).empty()) << "the interval is 10 s";
  executor_->advance(absl::Seconds(1));
  ASSERT_EQ(events(EventType::kBan).size(), 1u);
  EXPECT_EQ(events(EventType::kBan)[0].endpoint, "10.0.0.2:80");
  EXPECT_EQ(events(EventType::kBan)[0].detail, "4xx share 100.0% vs peers 0.0%");
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, true, false, false, false));
}

// Memory follows use: a settled idle service gives its records' counts back; in use
// again, it takes them as of then, and an outlier is caught as before.
TEST_F(BanManagerTest, AnIdleServiceGivesItsCountsBackAndJudgesItsNextUseAfresh) {
  std::atomic<bool> idle{false};
  const BanServiceId id = bans_->add_service("svc", &idle);
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  EXPECT_EQ(bans_->records_with_counts(id), 0u) << "none before the first pass";
  executor_->advance(absl::Milliseconds(100));  // the first evaluation: baselines only
  EXPECT_EQ(bans_->records_with_counts(id), 5u);
  for (int i = 0; i < 5; ++i) answer(*set, i, 100, OutcomeClass::kSuccess, 10000);
  executor_->advance(absl::Seconds(10));
  idle.store(true);  // a pass with its evaluation finds it idle and healthy: settled
  executor_->advance(absl::Seconds(11));
  EXPECT_EQ(bans_->records_with_counts(id), 0u) << "settled: 24 bytes a record";
  EXPECT_TRUE(events(EventType::kBan).empty());

  idle.store(false);
  executor_->advance(absl::Milliseconds(100));  // the pass that takes the counts again
  EXPECT_EQ(bans_->records_with_counts(id), 5u);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i) {
      answer(*set, i, 10, i == 3 ? OutcomeClass::kServerError : OutcomeClass::kSuccess, 10000);
    }
    executor_->advance(absl::Seconds(1));
  }
  ASSERT_EQ(events(EventType::kBan).size(), 1u);
  EXPECT_EQ(events(EventType::kBan)[0].endpoint, "10.0.0.4:80");
  EXPECT_EQ(events(EventType::kBan)[0].detail, "5xx share 100.0% vs peers 0.0%");
}

// A service configured while not in use has nothing to judge: it is settled at once (no
// housekeeping pass reads its endpoints), and its first use is judged as any other.
TEST_F(BanManagerTest, AServiceConfiguredWhileIdleIsSettledAtOnceAndJudgedWhenUsed) {
  std::atomic<bool> idle{true}, busy{false};
  const BanServiceId id = bans_->add_service("svc", &idle);
  const BanServiceId in_use = bans_->add_service("used", &busy);
  auto set = endpoints(5);
  std::vector<Event> settle;
  bans_->update_service(id, policy("business"), 1, set, {}, settle);
  bans_->update_service(in_use, policy("business"), 1, endpoints(5), {}, settle);
  EXPECT_TRUE(bans_->settled(id));
  EXPECT_FALSE(bans_->settled(in_use)) << "in use: housekeeping judges it";
  executor_->advance(absl::Seconds(2));
  EXPECT_TRUE(bans_->settled(id));
  EXPECT_EQ(bans_->records_with_counts(id), 0u);

  idle.store(false);
  executor_->advance(absl::Milliseconds(100));  // the pass that takes counts
  EXPECT_FALSE(bans_->settled(id));
  EXPECT_EQ(bans_->records_with_counts(id), 5u);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i) {
      answer(*set, i, 10, i == 2 ? OutcomeClass::kServerError : OutcomeClass::kSuccess, 10000);
    }
    executor_->advance(absl::Seconds(1));
  }
  ASSERT_EQ(events(EventType::kBan).size(), 1u);
  EXPECT_EQ(events(EventType::kBan)[0].endpoint, "10.0.0.3:80");

  // A new version while idle again, with a banned endpoint among its records: not settled
  // until housekeeping has seen the ban through.
  idle.store(true);
  bans_->update_service(id, policy("business"), 2, set, {}, settle);
  EXPECT_FALSE(bans_->settled(id));
}

TEST_F(BanManagerTest, ANewVersionKeepsRecordsOfEndpointsThatStayAndForgetsThoseThatLeft) {
  const BanServiceId id = bans_->add_service("svc");
  auto v1 = endpoints(4);
  std::vector<Event> settle;
  bans_->update_service(id, policy(), 1, v1, {}, settle);
  refuse(*v1, 1, 5);
  executor_->advance(absl::Milliseconds(1));
  ASSERT_THAT(bans_->out_of_rotation(id), ElementsAre(false, true, false, false));

  // Version 2 keeps endpoints 0..2 (the banned one among them) and drops endpoint 3.
  auto v2 = endpoints(3, &v1->endpoints);
  bans_->update_service(id, policy(), 2, v2, {}, settle);
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, true, false));
  // The endpoint that left no longer trips into the manager.
  refuse(*v1, 3, 10);
  executor_->advance(absl::Milliseconds(1));
  EXPECT_EQ(events(EventType::kBan).size(), 1u);
  EXPECT_EQ(v1->endpoints[3]->window(), 0u) << "its trip rule was cleared";

  // Banning switched off: everyone back, with an unban event naming why.
  BanPolicy off = policy();
  off.enabled = false;
  bans_->update_service(id, off, 3, v2, {}, settle);
  ASSERT_EQ(settle.size(), 1u);
  EXPECT_EQ(settle[0].type, EventType::kUnban);
  EXPECT_EQ(settle[0].detail, "banning disabled");
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false, false));
}

TEST_F(BanManagerTest, AReplacedEndpointInheritsTheBanAndIsProbedAfresh) {
  const BanServiceId id = bans_->add_service("svc");
  auto v1 = endpoints(2);
  std::vector<Event> settle;
  bans_->update_service(id, policy(), 1, v1, {}, settle);
  refuse(*v1, 0, 5);
  executor_->advance(absl::Milliseconds(1));
  prober_->set_deferred(true);
  executor_->advance(absl::Seconds(10) + absl::Milliseconds(100));  // probing, answer held
  ASSERT_EQ(prober_->pending(), 1u);

  // Same address, new tags: a new Endpoint replaces endpoint 0 and inherits its record.
  auto v2 = endpoints(2);
  v2->endpoints[1] = EndpointRef::share(v1->endpoints[1].get());
  const std::pair<const Endpoint*, const Endpoint*> replaced[] = {
      {v2->endpoints[0].get(), v1->endpoints[0].get()}};
  bans_->update_service(id, policy(), 2, v2, replaced, settle);
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(true, false)) << "still out";
  prober_->answer_pending(true);  // answers for the old endpoint: ignored
  EXPECT_TRUE(events(EventType::kUnban).empty());
  prober_->set_deferred(false);
  executor_->advance(absl::Milliseconds(100));  // probed afresh, and it answers
  EXPECT_EQ(events(EventType::kUnban).size(), 1u);
  EXPECT_THAT(bans_->out_of_rotation(id), ElementsAre(false, false));
}

TEST_F(BanManagerTest, AProbeAnsweringAfterTheManagerIsGoneIsDropped) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(2);
  std::vector<Event> settle;
  bans_->update_service(id, policy(), 1, set, {}, settle);
  refuse(*set, 0, 5);
  executor_->advance(absl::Milliseconds(1));
  prober_->set_deferred(true);
  executor_->advance(absl::Seconds(10) + absl::Milliseconds(100));
  ASSERT_EQ(prober_->pending(), 1u);
  bans_.reset();
  EXPECT_EQ(executor_->pending(), 0u) << "its timers are cancelled";
  const size_t before = events_.size();
  prober_->answer_pending(true);  // ASan checks nothing freed is touched
  EXPECT_EQ(events_.size(), before);
}

TEST_F(BanManagerTest, ARemovedServiceStopsBanning) {
  const BanServiceId id = bans_->add_service("svc");
  auto set = endpoints(3);
  std::vector<Event> settle;
  bans_->update_service(id, policy(), 1, set, {}, settle);
  bans_->remove_service(id);
  refuse(*set, 0, 10);
  executor_->advance(absl::Milliseconds(1));
  EXPECT_TRUE(events(EventType::kBan).empty());
  // Its id is reused by the next service, which starts clean.
  const BanServiceId next = bans_->add_service("other");
  EXPECT_EQ(next, id);
  bans_->update_service(next, policy(), 1, endpoints(2), {}, settle);
  EXPECT_THAT(bans_->out_of_rotation(next), ElementsAre(false, false));
}

}  // namespace
}  // namespace ufc::internal
