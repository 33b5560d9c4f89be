// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// DNS destinations in a Client on simulated time, with answers the test gives: what a
// service holds before, between and after answers, what stays of the endpoints' state,
// holds, failures, the refresh schedule and the config path.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"
#include "ufc/config.h"
#include "ufc/refusal.h"

namespace ufc {
namespace {

using testing::FakeResolver;
using ::testing::HasSubstr;
using testing::SimClient;

constexpr char kName[] = "web.ufc.test";

// A service whose endpoints come from `name` on port 80, refreshed every second (min
// refresh 1s, no jitter: the schedule is exact).
v1::ServiceConfig dns_service(uint64_t version = 1, const std::string& name = kName) {
  v1::ServiceConfig s;
  s.set_name("web");
  s.set_version(version);
  s.mutable_balancing()->set_policy("round_robin");
  v1::Destinations* d = s.mutable_destinations();
  v1::DnsDestination* n = d->add_dns();
  n->set_name(name);
  n->set_port(80);
  (*n->mutable_tags())["idc"] = "bj";
  d->mutable_refresh_interval()->set_seconds(1);
  d->mutable_min_refresh()->set_seconds(1);
  d->set_jitter(0);
  return s;
}

google::protobuf::Struct parse(const std::string& json) {
  google::protobuf::Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  return out;
}

// Addresses the service's picks reach, over `n` picks.
std::set<std::string> reached(SimClient& c, int n = 40) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Pick> p = c.client->pick({.service = "web"});
    if (p.ok()) out.insert(std::string(p->address()));
  }
  return out;
}

// The service's endpoint list: address -> requests reported.
std::map<std::string, double> requests(SimClient& c) {
  std::map<std::string, double> out;
  google::protobuf::Struct e = parse(c.client->query("endpoints^web"));
  for (const auto& v :
       e.fields().at("endpoints").struct_value().fields().at("list").list_value().values()) {
    const auto& f = v.struct_value().fields();
    out[f.at("address").string_value()] = f.at("request_cnt").number_value();
  }
  return out;
}

// The service's first DNS name, as request_info shows it.
google::protobuf::Struct dns_info(SimClient& c) {
  google::protobuf::Struct info = parse(c.client->query("request_info^web"));
  const auto& fields = info.fields().at("request_info").struct_value().fields();
  EXPECT_TRUE(fields.contains("dns")) << c.client->query("request_info^web");
  if (!fields.contains("dns")) return {};
  return fields.at("dns").list_value().values(0).struct_value();
}

int count_events(const SimClient& c, EventType type) {
  int n = 0;
  for (const Event& e : c.events) n += e.type == type ? 1 : 0;
  return n;
}

TEST(DnsClientTest, UnresolvedServiceRefusesWithAReasonThenFollowsTheAnswer) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service()).ok());
  EXPECT_EQ(c.resolver->pending(kName), 1u);  // looked up at once, off the request path

  absl::StatusOr<Pick> p = c.client->pick({.service = "web"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal_of(p.status()), Refusal::kNoEndpoints);
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "resolving");

  ASSERT_TRUE(c.resolver->answer(
      kName, FakeResolver::failure(absl::NotFoundError("\"web.ufc.test\" (A/AAAA): NXDOMAIN"))));
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "failing");
  EXPECT_THAT(dns_info(c).fields().at("last_error").string_value(), HasSubstr("NXDOMAIN"));
  EXPECT_EQ(count_events(c, EventType::kDnsFailed), 1);
  EXPECT_EQ(refusal_of(c.client->pick({.service = "web"}).status()), Refusal::kNoEndpoints);

  c.executor->advance(absl::Seconds(1));  // the retry: min_refresh after the failure
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2", "::1"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:80", "10.1.0.2:80", "[::1]:80"}));
  EXPECT_EQ(count_events(c, EventType::kDnsRecovered), 1);
  ASSERT_EQ(count_events(c, EventType::kDnsChanged), 1);
  for (const Event& e : c.events) {
    if (e.type != EventType::kDnsChanged) continue;
    EXPECT_THAT(e.detail, HasSubstr("+10.1.0.1:80"));
    EXPECT_THAT(e.detail, HasSubstr("+[::1]:80"));
  }
  // Endpoints carry the name's tags.
  google::protobuf::Struct e = parse(c.client->query("endpoints^web"));
  EXPECT_THAT(c.client->query("endpoints^web"), HasSubstr("\"idc\":\"bj\""));
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "ok");
  EXPECT_EQ(dns_info(c).fields().at("endpoints").number_value(), 3);
}

TEST(DnsClientTest, MetricsShowEachName) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service()).ok());
  EXPECT_THAT(
      c.client->metrics_text(),
      HasSubstr("ufc_dns_endpoints{caller=\"tester\",service=\"web\",name=\"web.ufc.test\"} 0"));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2"})));
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::failure(absl::UnavailableError("SERVFAIL"))));
  const std::string text = c.client->metrics_text();
  const std::string labels = "caller=\"tester\",service=\"web\",name=\"web.ufc.test\"";
  EXPECT_THAT(text, HasSubstr("ufc_dns_endpoints{" + labels + "} 2"));
  EXPECT_THAT(text, HasSubstr("ufc_dns_lookups_total{" + labels + ",result=\"ok\"} 1"));
  EXPECT_THAT(text, HasSubstr("ufc_dns_lookups_total{" + labels + ",result=\"failed\"} 1"));
  EXPECT_THAT(text, HasSubstr("ufc_dns_failing{" + labels + "} 1"));
  EXPECT_THAT(text, HasSubstr("ufc_dns_last_success_age_seconds{" + labels + "} 1"));
  EXPECT_THAT(text, HasSubstr("ufc_service_endpoints{caller=\"tester\",service=\"web\"} 2"));
}

TEST(DnsClientTest, AChangeKeepsTheLiveStateOfTheAddressesThatStay) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service()).ok());
  ASSERT_TRUE(
      c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2", "10.1.0.3"})));
  for (int i = 0; i < 30; ++i) c.pick_and_report("web", Outcome::ok(absl::Milliseconds(2)));
  ASSERT_EQ(requests(c)["10.1.0.1:80"], 10);

  c.executor->advance(absl::Seconds(1));
  ASSERT_EQ(c.resolver->pending(kName), 1u);  // refreshed after the interval
  ASSERT_TRUE(
      c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2", "10.1.0.4"})));
  std::map<std::string, double> after = requests(c);
  EXPECT_EQ(after.size(), 3u);
  EXPECT_EQ(after["10.1.0.1:80"], 10);  // the same Endpoint: its counts stayed
  EXPECT_EQ(after["10.1.0.2:80"], 10);
  EXPECT_EQ(after["10.1.0.4:80"], 0);
  EXPECT_EQ(after.count("10.1.0.3:80"), 0u);
  bool listed = false;
  for (const Event& e : c.events) {
    if (e.type == EventType::kDnsChanged && absl::StrContains(e.detail, "-10.1.0.3:80")) {
      listed = absl::StrContains(e.detail, "+10.1.0.4:80");
    }
  }
  EXPECT_TRUE(listed);
  // An endpoint-only change: no config_applied event for it.
  EXPECT_EQ(count_events(c, EventType::kConfigApplied), 1);
}

TEST(DnsClientTest, BadAnswersKeepTheLastGoodSetAndRaiseOneEventPerStreak) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service()).ok());
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2"})));
  const std::set<std::string> good = reached(c);
  ASSERT_EQ(good.size(), 2u);
  const absl::Status bad[] = {absl::DeadlineExceededError("timeout"),
                              absl::UnavailableError("SERVFAIL"), absl::NotFoundError("NXDOMAIN"),
                              absl::NotFoundError("empty answer")};
  for (const absl::Status& s : bad) {
    c.executor->advance(absl::Seconds(1));
    ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::failure(s))) << s;
    EXPECT_EQ(reached(c), good) << s;
  }
  // An OK answer without a usable record is as bad.
  c.executor->advance(absl::Seconds(1));
  DnsAnswer empty;
  ASSERT_TRUE(c.resolver->answer(kName, empty));
  EXPECT_EQ(reached(c), good);
  EXPECT_EQ(count_events(c, EventType::kDnsFailed), 1);
  EXPECT_EQ(dns_info(c).fields().at("failures").number_value(), 5);
  EXPECT_EQ(dns_info(c).fields().at("endpoints").number_value(), 2);
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2"})));
  EXPECT_EQ(count_events(c, EventType::kDnsRecovered), 1);
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "ok");
}

TEST(DnsClientTest, FailedLookupsBackOffFromMinRefreshToTheInterval) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  s.mutable_destinations()->mutable_refresh_interval()->set_seconds(8);
  ASSERT_TRUE(c.client->apply(s).ok());
  // Failures at 0, then retries 1s, 2s, 4s, 8s, 8s apart.
  const int gaps[] = {1, 2, 4, 8, 8};
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::failure(absl::UnavailableError("x"))));
  for (int gap : gaps) {
    c.executor->advance(absl::Seconds(gap) - absl::Milliseconds(100));
    EXPECT_EQ(c.resolver->pending(kName), 0u) << gap;
    c.executor->advance(absl::Milliseconds(100));
    ASSERT_EQ(c.resolver->pending(kName), 1u) << gap;
    ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::failure(absl::UnavailableError("x"))));
  }
}

TEST(DnsClientTest, RecordTtlsAreRespectedWithinTheFloorAndTheInterval) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  s.mutable_destinations()->mutable_refresh_interval()->set_seconds(10);
  s.mutable_destinations()->mutable_min_refresh()->set_seconds(2);
  ASSERT_TRUE(c.client->apply(s).ok());
  struct Case {
    absl::Duration ttl, expected;
  } cases[] = {{absl::Seconds(5), absl::Seconds(5)},
               {absl::ZeroDuration(), absl::Seconds(2)},  // TTL 0: the floor
               {absl::Hours(1), absl::Seconds(10)},       // capped by the interval
               {absl::InfiniteDuration(), absl::Seconds(10)}};
  for (const Case& k : cases) {
    ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"}, k.ttl)));
    c.executor->advance(k.expected - absl::Milliseconds(100));
    EXPECT_EQ(c.resolver->pending(kName), 0u) << k.ttl;
    c.executor->advance(absl::Milliseconds(100));
    ASSERT_EQ(c.resolver->pending(kName), 1u) << k.ttl;
  }
}

TEST(DnsClientTest, JitterOnlyBringsRefreshesForward) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  s.mutable_destinations()->mutable_refresh_interval()->set_seconds(10);
  s.mutable_destinations()->set_jitter(0.5);
  ASSERT_TRUE(c.client->apply(s).ok());
  std::set<int64_t> gaps_ms;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"})));
    int64_t waited = 0;
    while (c.resolver->pending(kName) == 0) {
      c.executor->advance(absl::Milliseconds(50));
      waited += 50;
      ASSERT_LE(waited, 10050);
    }
    EXPECT_GE(waited, 5000);
    gaps_ms.insert(waited / 500);
  }
  EXPECT_GE(gaps_ms.size(), 3u);  // spread out, not one fixed period
}

TEST(DnsClientTest, AnAnswerRemovingTooManyIsHeldUntilTheNextLookupAgrees) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service()).ok());
  ASSERT_TRUE(c.resolver->answer(
      kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"})));
  // 3 of 4 gone at once (max_removal_share 0.5): held.
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"})));
  EXPECT_EQ(reached(c).size(), 4u);
  EXPECT_EQ(count_events(c, EventType::kDnsHeld), 1);
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "held");
  // The next lookup disagrees (a different broken answer): held again, still 4.
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.2"})));
  EXPECT_EQ(reached(c).size(), 4u);
  EXPECT_EQ(count_events(c, EventType::kDnsHeld), 2);
  // It agrees: applied.
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.2"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.2:80"}));
  // Removing half (not more than the share) applies at once.
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.2", "10.1.0.5"})));
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.5"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.5:80"}));
  // A held answer that the next one reverts is dropped.
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.6"})));
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "held");
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.5"})));
  EXPECT_EQ(dns_info(c).fields().at("state").string_value(), "ok");
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.5:80"}));
}

TEST(DnsClientTest, ANewConfigVersionKeepsTheAnswersOfNamesThatStay) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service(1)).ok());
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2"})));
  for (int i = 0; i < 4; ++i) c.pick_and_report("web", Outcome::ok(absl::Milliseconds(2)));
  v1::ServiceConfig v2 = dns_service(2);
  v2.mutable_balancing()->set_policy("random");
  ASSERT_TRUE(c.client->apply(v2).ok());
  EXPECT_EQ(c.resolver->pending(kName), 0u);  // not looked up again for a new version
  EXPECT_EQ(requests(c)["10.1.0.1:80"], 2);   // never without its endpoints, state kept
  // A version with a second name: looked up now; the first name's endpoints stay.
  v1::ServiceConfig v3 = dns_service(3);
  v1::DnsDestination* other = v3.mutable_destinations()->add_dns();
  other->set_name("api.ufc.test");
  other->set_port(8080);
  ASSERT_TRUE(c.client->apply(v3).ok());
  ASSERT_EQ(c.resolver->pending("api.ufc.test"), 1u);
  EXPECT_EQ(reached(c).size(), 2u);
  ASSERT_TRUE(
      c.resolver->answer("api.ufc.test", FakeResolver::addresses({"10.1.0.1", "10.2.0.1"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:80", "10.1.0.2:80", "10.1.0.1:8080",
                                               "10.2.0.1:8080"}));
  // Names gone from the config take their endpoints with them.
  v1::ServiceConfig v4 = dns_service(4, "api.ufc.test");
  v4.mutable_destinations()->mutable_dns(0)->set_port(8080);
  ASSERT_TRUE(c.client->apply(v4).ok());
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:8080", "10.2.0.1:8080"}));
  // A version without destinations: the static endpoints only.
  v1::ServiceConfig v5 = testing::make_service("web", 1, "round_robin", 5);
  ASSERT_TRUE(c.client->apply(v5).ok());
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.0.0.1:80"}));
  // Late answers for a name that left are dropped.
  c.executor->advance(absl::Seconds(2));
  EXPECT_FALSE(c.resolver->answer("api.ufc.test", FakeResolver::addresses({"10.9.9.9"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.0.0.1:80"}));
}

TEST(DnsClientTest, StaticEndpointsAndNamesCombineStaticFirst) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  v1::Endpoint* e = s.add_endpoints();
  e->set_address("10.1.0.1:80");
  (*e->mutable_tags())["idc"] = "static";
  ASSERT_TRUE(c.client->apply(s).ok());
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:80"}));  // before any answer
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:80", "10.1.0.2:80"}));
  const std::string list = c.client->query("endpoints^web");
  EXPECT_THAT(list,
              HasSubstr("\"address\":\"10.1.0.1:80\",\"weight\":1,\"tags\":{\"idc\":\"static\"}"));
}

TEST(DnsClientTest, SrvRecordsOfTheLowestPriorityWeighTheEndpoints) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  s.mutable_balancing()->set_policy("weighted_random");
  v1::DnsDestination* n = s.mutable_destinations()->mutable_dns(0);
  n->set_name("_http._tcp.ufc.test");
  n->set_type("srv");
  n->set_port(0);
  ASSERT_TRUE(c.client->apply(s).ok());
  DnsAnswer a;
  a.records = {{"10.1.0.1", 8001, 10, 10},
               {"10.1.0.2", 8002, 10, 30},
               {"10.1.0.3", 8003, 10, 60},
               {"10.1.0.9", 8009, 20, 1000}};  // a backup priority: not used
  ASSERT_TRUE(c.resolver->answer("_http._tcp.ufc.test", a));
  std::map<std::string, int> hits;
  const int n_picks = 20000;
  for (int i = 0; i < n_picks; ++i) {
    absl::StatusOr<Pick> p = c.client->pick({.service = "web"});
    ASSERT_TRUE(p.ok());
    ++hits[std::string(p->address())];
  }
  EXPECT_EQ(hits.count("10.1.0.9:8009"), 0u);
  EXPECT_NEAR(hits["10.1.0.1:8001"] / double(n_picks), 0.1, 0.02);
  EXPECT_NEAR(hits["10.1.0.2:8002"] / double(n_picks), 0.3, 0.02);
  EXPECT_NEAR(hits["10.1.0.3:8003"] / double(n_picks), 0.6, 0.02);
}

TEST(DnsClientTest, ARouteToUnresolvedNamesRefusesWhileOthersServe) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  v1::Endpoint* e = s.add_endpoints();
  e->set_address("10.0.0.1:80");
  (*e->mutable_tags())["pool"] = "static";
  (*s.mutable_destinations()->mutable_dns(0)->mutable_tags())["pool"] = "dns";
  v1::Route* r = s.add_routes();
  v1::AttributeMatch* m = r->mutable_match()->add_attributes();
  m->set_key("pool");
  m->set_value("dns");
  (*r->add_destinations()->mutable_tags())["pool"] = "dns";
  ASSERT_TRUE(c.client->apply(s).ok()) << c.client->apply(s);
  const Attribute attrs[] = {{"pool", "dns"}};
  PickRequest to_dns{.service = "web"};
  to_dns.attributes = attrs;
  EXPECT_EQ(refusal_of(c.client->pick(to_dns).status()), Refusal::kNoEndpoints);
  EXPECT_TRUE(c.client->pick({.service = "web"}).ok());
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"})));
  absl::StatusOr<Pick> p = c.client->pick(to_dns);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->address(), "10.1.0.1:80");
  // A subset no endpoint and no name could ever fill is still a config error.
  (*s.mutable_routes(0)->mutable_destinations(0)->mutable_tags())["pool"] = "nowhere";
  s.set_version(2);
  absl::Status bad = c.client->apply(s);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("routes[0].destinations[0].tags"));
}

TEST(DnsClientTest, RemovingTheServiceOrTheClientWithALookupInFlightIsSafe) {
  auto c = std::make_unique<SimClient>();
  ASSERT_TRUE(c->client->apply(dns_service()).ok());
  ASSERT_TRUE(c->client->remove("web").ok());
  EXPECT_TRUE(c->resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"})));  // dropped
  EXPECT_EQ(c->client->pick({.service = "web"}).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(c->client->apply(dns_service(2)).ok());
  std::shared_ptr<FakeResolver> resolver = c->resolver;
  c->client.reset();  // the resolver outlives the client
  EXPECT_TRUE(resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"})));  // dropped
}

TEST(DnsClientTest, BadResolverOptionsFailTheClientsCreation) {
  ClientOptions options;
  options.dns.servers = {"not-an-ip"};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(), HasSubstr("dns: ResolverOptions.servers[0]"));
}

TEST(DnsClientTest, ANewPortKeepsTheLastGoodAddressesUntilTheNextAnswer) {
  SimClient c;
  ASSERT_TRUE(c.client->apply(dns_service(1)).ok());
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1", "10.1.0.2"})));
  v1::ServiceConfig v2 = dns_service(2);
  v2.mutable_destinations()->mutable_dns(0)->set_port(8080);
  v2.mutable_destinations()->mutable_dns(0)->set_family("ipv4");
  ASSERT_TRUE(c.client->apply(v2).ok());
  // Never without endpoints: the old answer, re-ported, while the new question is asked.
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:8080", "10.1.0.2:8080"}));
  ASSERT_EQ(c.resolver->pending(kName), 1u);
  EXPECT_EQ(c.resolver->queries().back().family, AddressFamily::kIpv4);
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.3"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.3:8080"}));  // 2 of 2 gone, but a new
                                                                    // question's first answer
}

TEST(DnsClientTest, NamesAreComparedAsDnsComparesThem) {
  v1::ServiceConfig s = dns_service();
  v1::DnsDestination* again = s.mutable_destinations()->add_dns();
  again->set_name("WEB.ufc.test.");
  again->set_port(81);
  absl::Status status = validate_service(s);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("destinations.dns[1]: duplicate of dns[0]"));
}

TEST(DnsClientTest, ResolverAddressesAreCanonicalSoStateCarriesOver) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  s.add_endpoints()->set_address("[2001:db8::1]:80");
  ASSERT_TRUE(c.client->apply(s).ok());
  // A resolver of the user's writes addresses its own way; a hostname is no address.
  ASSERT_TRUE(c.resolver->answer(
      kName, FakeResolver::addresses({"2001:DB8:0::1", "2001:0db8::2", "not.an.ip", "[::3]"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"[2001:db8::1]:80", "[2001:db8::2]:80"}));
  for (int i = 0; i < 10; ++i) c.pick_and_report("web", Outcome::ok(absl::Milliseconds(1)));
  c.executor->advance(absl::Seconds(1));
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"2001:db8:0:0::2", "10.1.0.9"})));
  std::map<std::string, double> after = requests(c);
  EXPECT_EQ(after["[2001:db8::2]:80"], 5);  // the same Endpoint across the rebuild
  EXPECT_EQ(after["10.1.0.9:80"], 0);
}

TEST(DnsClientTest, DrainedStaticEndpointsTakeNoTrafficWhileTheNamesAreUnresolved) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  v1::Endpoint* drained = s.add_endpoints();
  drained->set_address("10.0.0.1:80");
  drained->set_weight(0);
  ASSERT_TRUE(c.client->apply(s).ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(refusal_of(c.client->pick({.service = "web"}).status()), Refusal::kNoEndpoints);
  }
  ASSERT_TRUE(c.resolver->answer(kName, FakeResolver::addresses({"10.1.0.1"})));
  EXPECT_EQ(reached(c), (std::set<std::string>{"10.1.0.1:80"}));
  // An empty set is not panic: nothing was banned.
  EXPECT_THAT(c.client->query("request_info^web"), HasSubstr("\"panic_cnt\":0"));
}

TEST(DnsClientTest, AnswersTooBigForTheRoutingBudgetsAreCutWithAnEvent) {
  SimClient c;
  v1::ServiceConfig s = dns_service();
  s.mutable_ban()->set_enabled(false);
  v1::Destinations* d = s.mutable_destinations();
  d->clear_dns();
  for (int n = 0; n < 7; ++n) {
    v1::DnsDestination* name = d->add_dns();
    name->set_name("n" + std::to_string(n) + ".ufc.test");
    name->set_port(80);
    for (int t = 0; t < 5; ++t) (*name->mutable_tags())["t" + std::to_string(t)] = "x";
  }
  // 31 distinct selectors, each satisfied by every name: validation counts one stand-in
  // per name; 7 answers of 10,000 make each selector examine 70,000 endpoints.
  for (int r = 1; r < 32; ++r) {
    v1::Route* route = s.add_routes();
    v1::AttributeMatch* m = route->mutable_match()->add_attributes();
    m->set_key("r");
    m->set_value(std::to_string(r));
    auto* tags = route->add_destinations()->mutable_tags();
    for (int t = 0; t < 5; ++t) {
      if (r & (1 << t)) (*tags)["t" + std::to_string(t)] = "x";
    }
  }
  ASSERT_TRUE(c.client->apply(s).ok()) << c.client->apply(s);
  for (int n = 0; n < 7; ++n) {
    std::vector<std::string> ips;
    for (int i = 0; i < 10000; ++i) {
      ips.push_back("10." + std::to_string(n) + "." + std::to_string(i / 256) + "." +
                    std::to_string(i % 256));
    }
    ASSERT_TRUE(
        c.resolver->answer("n" + std::to_string(n) + ".ufc.test", FakeResolver::addresses(ips)));
  }
  bool cut = false;
  for (const Event& e : c.events) {
    cut = cut || (e.type == EventType::kDnsFailed && absl::StrContains(e.detail, "left out"));
  }
  EXPECT_TRUE(cut);
  // Every route still picks (no rule shorter than its destinations).
  for (int r = 1; r < 32; ++r) {
    const std::string v = std::to_string(r);
    const Attribute attrs[] = {{"r", v}};
    PickRequest req{.service = "web"};
    req.attributes = attrs;
    EXPECT_TRUE(c.client->pick(req).ok()) << r;
  }
}

}  // namespace
}  // namespace ufc
