// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// DNS destinations end to end: a real Client, its c-ares resolver and a real dnsmasq on
// a loopback port whose records the test changes, stops and restarts.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/dnsmasq_process.h"
#include "ufc/client.h"
#include "ufc/refusal.h"

namespace ufc {
namespace {

using testing::Dnsmasq;
using ::testing::HasSubstr;

constexpr absl::Duration kRefresh = absl::Milliseconds(300);

google::protobuf::Struct parse(const std::string& json) {
  google::protobuf::Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  return out;
}

// A Client whose resolver asks only `dns`, recording its events.
class DnsClient {
 public:
  explicit DnsClient(const Dnsmasq& dns) {
    ClientOptions options;
    options.self_service = "tester";
    options.dns.servers = {dns.server()};
    options.dns.timeout = absl::Milliseconds(200);
    options.dns.tries = 1;
    options.on_event = [this](const Event& e) {
      absl::MutexLock lock(&mu_);
      events_.push_back(e);
    };
    absl::StatusOr<std::unique_ptr<Client>> c = Client::create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    client = *std::move(c);
  }

  // The service "web" from `name` (refresh and floor kRefresh, no jitter).
  absl::Status apply(const std::string& name, uint32_t port, const std::string& type = "",
                     const std::string& family = "", const std::string& policy = "round_robin") {
    v1::ServiceConfig s;
    s.set_name("web");
    s.set_version(++version_);
    s.mutable_balancing()->set_policy(policy);
    v1::Destinations* d = s.mutable_destinations();
    v1::DnsDestination* n = d->add_dns();
    n->set_name(name);
    n->set_port(port);
    n->set_type(type);
    n->set_family(family);
    (*n->mutable_tags())["zone"] = "ufc.test";
    d->mutable_refresh_interval()->set_nanos(absl::ToInt64Nanoseconds(kRefresh));
    d->mutable_min_refresh()->set_nanos(absl::ToInt64Nanoseconds(kRefresh));
    d->set_jitter(0);
    return client->apply(s);
  }

  // Address -> requests reported, from the endpoint list.
  std::map<std::string, double> endpoints() {
    std::map<std::string, double> out;
    google::protobuf::Struct e = parse(client->query("endpoints^web"));
    for (const auto& v :
         e.fields().at("endpoints").struct_value().fields().at("list").list_value().values()) {
      const auto& f = v.struct_value().fields();
      out[f.at("address").string_value()] = f.at("request_cnt").number_value();
    }
    return out;
  }
  std::set<std::string> addresses() {
    std::set<std::string> out;
    for (const auto& [a, n] : endpoints()) out.insert(a);
    return out;
  }

  // Waits up to `timeout` for the endpoint set to be `want`; how long it took, or -1.
  absl::Duration wait_for(const std::set<std::string>& want,
                          absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < timeout) {
      if (addresses() == want) return absl::Now() - start;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return absl::Seconds(-1);
  }
  bool wait_event(EventType type, absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < timeout) {
      if (count(type) > 0) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  int count(EventType type) {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const Event& e : events_) n += e.type == type ? 1 : 0;
    return n;
  }
  std::string details(EventType type) {
    absl::MutexLock lock(&mu_);
    std::string out;
    for (const Event& e : events_) {
      if (e.type == type) out += e.detail + "\n";
    }
    return out;
  }
  std::string dns_field(const std::string& field) {
    google::protobuf::Struct info = parse(client->query("request_info^web"));
    const auto& name = info.fields()
                           .at("request_info")
                           .struct_value()
                           .fields()
                           .at("dns")
                           .list_value()
                           .values(0)
                           .struct_value()
                           .fields()
                           .at(field);
    return name.has_string_value() ? name.string_value() : std::to_string(name.number_value());
  }

  std::unique_ptr<Client> client;

 private:
  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ = 0;
};

std::unique_ptr<Dnsmasq> start_dns(Dnsmasq::Config config) {
  absl::StatusOr<std::unique_ptr<Dnsmasq>> d = Dnsmasq::start(std::move(config));
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : nullptr;
}

TEST(DnsRealTest, FollowsTheZoneWithinOneRefreshKeepingTheStateOfWhatStays) {
  std::unique_ptr<Dnsmasq> dns = start_dns({{{"127.0.0.11", "web.ufc.test"},
                                             {"127.0.0.12", "web.ufc.test"},
                                             {"127.0.0.13", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  DnsClient c(*dns);
  ASSERT_TRUE(c.apply("web.ufc.test", 8080).ok());
  ASSERT_GE(c.wait_for({"127.0.0.11:8080", "127.0.0.12:8080", "127.0.0.13:8080"}),
            absl::ZeroDuration())
      << c.client->query("request_info^web");
  for (int i = 0; i < 30; ++i) {
    absl::StatusOr<Pick> p = c.client->pick({.service = "web"});
    ASSERT_TRUE(p.ok()) << p.status();
    c.client->report(*p, Outcome::ok(absl::Milliseconds(1)));
  }
  ASSERT_EQ(c.endpoints()["127.0.0.11:8080"], 10);

  ASSERT_TRUE(dns->set_hosts({{"127.0.0.11", "web.ufc.test"},
                              {"127.0.0.12", "web.ufc.test"},
                              {"127.0.0.14", "web.ufc.test"}})
                  .ok());
  const absl::Duration took = c.wait_for({"127.0.0.11:8080", "127.0.0.12:8080", "127.0.0.14:8080"});
  ASSERT_GE(took, absl::ZeroDuration()) << c.client->query("request_info^web");
  std::printf("followed the zone change in %s (refresh %s)\n", absl::FormatDuration(took).c_str(),
              absl::FormatDuration(kRefresh).c_str());
  // Within one refresh, plus the executor's tick and a loaded machine's slack.
  EXPECT_LE(took, kRefresh + absl::Milliseconds(700));
  std::map<std::string, double> after = c.endpoints();
  EXPECT_EQ(after["127.0.0.11:8080"], 10);  // the same endpoints: their counts stayed
  EXPECT_EQ(after["127.0.0.12:8080"], 10);
  EXPECT_EQ(after["127.0.0.14:8080"], 0);
  EXPECT_THAT(c.details(EventType::kDnsChanged), HasSubstr("+127.0.0.14:8080 -127.0.0.13:8080"));
}

TEST(DnsRealTest, SrvWeightsDriveAWeightedPolicy) {
  std::unique_ptr<Dnsmasq> dns =
      start_dns({{{"127.0.0.21", "a1.ufc.test"},
                  {"127.0.0.22", "a2.ufc.test"},
                  {"127.0.0.23", "a3.ufc.test"},
                  {"127.0.0.29", "backup.ufc.test"}},
                 {{"_http._tcp.ufc.test", "a1.ufc.test", 8001, 1, 10},
                  {"_http._tcp.ufc.test", "a2.ufc.test", 8002, 1, 30},
                  {"_http._tcp.ufc.test", "a3.ufc.test", 8003, 1, 60},
                  {"_http._tcp.ufc.test", "backup.ufc.test", 9000, 2, 100}}});
  ASSERT_NE(dns, nullptr);
  DnsClient c(*dns);
  ASSERT_TRUE(c.apply("_http._tcp.ufc.test", 0, "srv", "", "weighted_random").ok());
  ASSERT_GE(c.wait_for({"127.0.0.21:8001", "127.0.0.22:8002", "127.0.0.23:8003"}),
            absl::ZeroDuration())
      << c.client->query("request_info^web");
  std::map<std::string, int> hits;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Pick> p = c.client->pick({.service = "web"});
    ASSERT_TRUE(p.ok());
    ++hits[std::string(p->address())];
  }
  EXPECT_NEAR(hits["127.0.0.21:8001"] / double(n), 0.1, 0.02);
  EXPECT_NEAR(hits["127.0.0.22:8002"] / double(n), 0.3, 0.02);
  EXPECT_NEAR(hits["127.0.0.23:8003"] / double(n), 0.6, 0.02);
  // New weights (a restart of the server: SRV records live in its config) are followed.
  ASSERT_TRUE(dns->set_srv({{"_http._tcp.ufc.test", "a1.ufc.test", 8001, 1, 50},
                            {"_http._tcp.ufc.test", "a2.ufc.test", 8002, 1, 50},
                            {"_http._tcp.ufc.test", "a3.ufc.test", 8003, 1, 50}})
                  .ok());
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!absl::StrContains(c.client->query("endpoints^web"), "\"weight\":50") &&
         absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(c.client->query("endpoints^web"), HasSubstr("\"weight\":50"));
}

TEST(DnsRealTest, AnOutageKeepsTheLastGoodSetAndARestartIsFollowed) {
  std::unique_ptr<Dnsmasq> dns = start_dns({{{"127.0.0.41", "web.ufc.test"},
                                             {"127.0.0.42", "web.ufc.test"},
                                             {"127.0.0.43", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  DnsClient c(*dns);
  ASSERT_TRUE(c.apply("web.ufc.test", 80).ok());
  const std::set<std::string> good = {"127.0.0.41:80", "127.0.0.42:80", "127.0.0.43:80"};
  ASSERT_GE(c.wait_for(good), absl::ZeroDuration());

  ASSERT_TRUE(dns->stop().ok());
  ASSERT_TRUE(c.wait_event(EventType::kDnsFailed)) << c.client->query("request_info^web");
  EXPECT_THAT(c.details(EventType::kDnsFailed), HasSubstr("keeping the last good 3 endpoints"));
  absl::SleepFor(kRefresh * 4);  // several failed lookups
  EXPECT_EQ(c.addresses(), good);
  EXPECT_TRUE(c.client->pick({.service = "web"}).ok());
  EXPECT_EQ(c.dns_field("state"), "failing");

  // The zone changed while the server was down; it comes back: followed.
  ASSERT_TRUE(dns->set_hosts({{"127.0.0.41", "web.ufc.test"},
                              {"127.0.0.42", "web.ufc.test"},
                              {"127.0.0.44", "web.ufc.test"}})
                  .ok());
  ASSERT_TRUE(dns->restart().ok());
  // Backed off at most to the refresh interval: one interval after the restart, plus slack.
  EXPECT_GE(c.wait_for({"127.0.0.41:80", "127.0.0.42:80", "127.0.0.44:80"}, absl::Seconds(5)),
            absl::ZeroDuration())
      << c.client->query("request_info^web");
  EXPECT_TRUE(c.wait_event(EventType::kDnsRecovered));
  EXPECT_EQ(c.dns_field("state"), "ok");
}

TEST(DnsRealTest, NxdomainAndAnEmptyAnswerKeepTheLastGoodSet) {
  std::unique_ptr<Dnsmasq> dns =
      start_dns({{{"127.0.0.51", "web.ufc.test"}, {"127.0.0.52", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  DnsClient c(*dns);
  ASSERT_TRUE(c.apply("web.ufc.test", 80, "", "ipv4").ok());
  const std::set<std::string> good = {"127.0.0.51:80", "127.0.0.52:80"};
  ASSERT_GE(c.wait_for(good), absl::ZeroDuration());

  // The name leaves the zone: NXDOMAIN.
  ASSERT_TRUE(dns->set_hosts({{"127.0.0.60", "other.ufc.test"}}).ok());
  ASSERT_TRUE(c.wait_event(EventType::kDnsFailed)) << c.client->query("request_info^web");
  EXPECT_THAT(c.dns_field("last_error"), HasSubstr("NXDOMAIN"));
  absl::SleepFor(kRefresh * 2);
  EXPECT_EQ(c.addresses(), good);

  // Back, but with an IPv6 address only, and the service asks for IPv4: an empty answer.
  ASSERT_TRUE(dns->set_hosts({{"::1", "web.ufc.test"}}).ok());
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!absl::StrContains(c.dns_field("last_error"), "empty") && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(c.dns_field("last_error"), HasSubstr("empty"));
  EXPECT_EQ(c.addresses(), good);
  EXPECT_EQ(c.count(EventType::kDnsChanged), 1);  // only the first answer changed anything
}

TEST(DnsRealTest, ANameThatNeverResolvesRefusesPicksWithTheReason) {
  std::unique_ptr<Dnsmasq> dns = start_dns({{{"127.0.0.70", "other.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  DnsClient c(*dns);
  ASSERT_TRUE(c.apply("missing.ufc.test", 80).ok());
  ASSERT_TRUE(c.wait_event(EventType::kDnsFailed));
  absl::StatusOr<Pick> p = c.client->pick({.service = "web"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal_of(p.status()), Refusal::kNoEndpoints);
  EXPECT_THAT(c.dns_field("last_error"), HasSubstr("NXDOMAIN"));
  EXPECT_THAT(c.details(EventType::kDnsFailed), HasSubstr("no endpoints from it yet"));
}

}  // namespace
}  // namespace ufc
