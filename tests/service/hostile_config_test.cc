// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Hostile configs (issue 11): each input that once cost a client seconds and gigabytes is
// refused with the field named, or accepted at the cost its size says; candidate sets
// that select the same endpoints share one balancer; a ban rebuilds only the sets that
// hold the endpoint. bench/hostile_config prints what the largest allowed configs cost.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/balancing/maglev.h"
#include "src/config/limits.h"
#include "src/service/service_policy.h"
#include "src/service/service_snapshot.h"
#include "ufc/config.h"

namespace ufc::internal {
namespace {

using ::testing::HasSubstr;

v1::ServiceConfig service(int endpoints, const std::string& policy = "round_robin") {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.mutable_balancing()->set_policy(policy);
  for (int i = 0; i < endpoints; ++i) {
    v1::Endpoint* e = s.add_endpoints();
    e->set_address(absl::StrCat("10.0.", i / 256, ".", i % 256, ":80"));
    (*e->mutable_tags())["shard"] = absl::StrCat("s", i % 8);
  }
  return s;
}

void add_destinations(v1::Route* route, int n, const std::string& shard = "") {
  for (int d = 0; d < n; ++d) {
    v1::Subset* sub = route->add_destinations();
    sub->set_name(absl::StrCat("d", d));
    if (!shard.empty()) (*sub->mutable_tags())["shard"] = shard;
  }
}

// Issue 11, input 1: a 250-byte config of 100 destinations, each once building its own
// 4-million-slot Maglev table (35 s, 839 MiB).
TEST(HostileConfigTest, TooManyDestinationsAreRefusedByCount) {
  v1::ServiceConfig s = service(1, "consistent_hash");
  s.mutable_balancing()->mutable_consistent_hash()->set_min_table_size(kMaxMaglevTableSize);
  add_destinations(s.add_routes(), 100);
  EXPECT_THAT(validate_service(s).message(),
              HasSubstr("routes[0].destinations: has 100 entries, at most 32 are allowed"));
}

TEST(HostileConfigTest, DestinationsSelectingTheSameEndpointsShareOneBalancer) {
  v1::ServiceConfig s = service(1, "consistent_hash");
  s.mutable_balancing()->mutable_consistent_hash()->set_min_table_size(kMaxMaglevTableSize);
  for (int r = 0; r < kMaxRoutesPerService; ++r) add_destinations(s.add_routes(), 32);
  absl::StatusOr<ParsedService> parsed = parse_service(s);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  // 8,192 destinations, every one selecting the single endpoint: one table in all.
  EXPECT_EQ(parsed->endpoints.layout->groups.size(), 1u);
  EXPECT_EQ(parsed->endpoints.layout->table_slots, kMaxMaglevTableSize);
}

TEST(HostileConfigTest, MaglevSlotsAreBudgetedPerServiceNotPerSubset) {
  v1::ServiceConfig s = service(8, "consistent_hash");
  s.mutable_balancing()->mutable_consistent_hash()->set_min_table_size(kMaxMaglevTableSize);
  v1::Route* route = s.add_routes();
  for (int shard = 0; shard < 2; ++shard) {
    (*route->add_destinations()->mutable_tags())["shard"] = absl::StrCat("s", shard);
  }
  // Three distinct sets (the service, two shards) of the largest table: over the budget.
  const absl::Status status = validate_service(s);
  EXPECT_THAT(status.message(), HasSubstr("routes: the service's 3 distinct candidate sets would "
                                          "build 12582903 consistent-hash table slots, at most "
                                          "8388608 are allowed"));
  route->mutable_destinations()->RemoveLast();
  EXPECT_TRUE(validate_service(s).ok()) << validate_service(s);
}

// Input 2: one endpoint with 100,000 tags and a subset selecting on all of them (3 MB,
// 20 s per apply).
TEST(HostileConfigTest, TagCountsAreLimitedOnEndpointsAndSelectors) {
  v1::ServiceConfig s = service(1);
  v1::Subset* sub = s.add_routes()->add_destinations();
  for (int t = 0; t < 100; ++t) {
    (*s.mutable_endpoints(0)->mutable_tags())[absl::StrCat("k", t)] = "v";
    (*sub->mutable_tags())[absl::StrCat("k", t)] = "v";
  }
  const std::string message(validate_service(s).message());
  EXPECT_THAT(message, HasSubstr("endpoints[0].tags: has 101 entries, at most 64 are allowed"));
  EXPECT_THAT(message,
              HasSubstr("routes[0].destinations[0].tags: has 100 entries, at most 16 are allowed"));
  // An endpoint-only update is counted first too.
  absl::StatusOr<ParsedService> parsed = parse_service(service(1));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(std::string(parse_endpoints(*parsed->policy, s.endpoints()).status().message()),
              HasSubstr("endpoints[0].tags: has 101 entries, at most 64 are allowed"));
}

// Input 3: 1,000 routes over 100,000 endpoints (5 MB, 8 s per apply); input 4's 10,000
// routes x 1,000 attributes (19 s, 4 GB).
TEST(HostileConfigTest, RoutesAndConditionsAreLimitedByCount) {
  v1::ServiceConfig s = service(8);
  for (int r = 0; r < 1000; ++r) add_destinations(s.add_routes(), 1);
  EXPECT_THAT(validate_service(s).message(),
              HasSubstr("routes: has 1000 entries, at most 256 are allowed"));
  s.clear_routes();
  v1::Route* route = s.add_routes();
  add_destinations(route, 1);
  for (int a = 0; a < 1000; ++a) {
    v1::AttributeMatch* m = route->mutable_match()->add_attributes();
    m->set_key(absl::StrCat("k", a));
    m->set_value("v");
  }
  for (int c = 0; c < 300; ++c) route->mutable_match()->add_caller_services("caller");
  EXPECT_THAT(validate_service(s).message(),
              HasSubstr("routes[0].match.attributes: has 1000 entries, at most 32 are allowed"));
  route->mutable_match()->clear_attributes();
  EXPECT_THAT(validate_service(s).message(),
              HasSubstr("routes[0].match.caller_services: has 300 entries, at most 256 are "
                        "allowed"));
}

// Distinct subsets that each select (nearly) everything: the selection work, not any one
// count, is what grows. Budgeted per service.
TEST(HostileConfigTest, SelectionWorkIsBudgeted) {
  v1::ServiceConfig s = service(1000);
  for (v1::Endpoint& e : *s.mutable_endpoints()) {
    for (int t = 0; t < 16; ++t) (*e.mutable_tags())[absl::StrCat("t", t)] = "1";
  }
  // 8,192 distinct selectors (subsets of {t0..t15}), each carried by all 1,000 endpoints.
  int selector = 1;
  for (int r = 0; r < kMaxRoutesPerService; ++r) {
    v1::Route* route = s.add_routes();
    for (int d = 0; d < kMaxDestinationsPerRoute; ++d, ++selector) {
      v1::Subset* sub = route->add_destinations();
      for (int t = 0; t < 16; ++t) {
        if (selector & (1 << t)) (*sub->mutable_tags())[absl::StrCat("t", t)] = "1";
      }
    }
  }
  EXPECT_THAT(validate_service(s).message(),
              HasSubstr("routes: choosing the subsets' endpoints examines more than 2000000 "
                        "endpoints"));
}

TEST(HostileConfigTest, TotalsPerClientConfigAreLimited) {
  v1::ClientConfig config;
  for (int i = 0; i < kMaxIdcMapEntries + 1; ++i) {
    (*config.mutable_idc_map())[absl::StrCat("p", i)] = "l";
  }
  EXPECT_THAT(validate_config(config).message(),
              HasSubstr("idc_map: has 10001 entries, at most 10000 are allowed"));
  config.clear_idc_map();
  v1::ServiceConfig big;
  for (int i = 0; i < kMaxEndpoints; ++i) big.add_endpoints();  // counted before parsing
  for (int i = 0; i < 6; ++i) {
    *config.add_services() = big;
    config.mutable_services(i)->set_name(absl::StrCat("svc", i));
  }
  EXPECT_THAT(validate_config(config).message(),
              HasSubstr("services: list 600000 endpoints in all, at most 500000 are allowed"));
}

// A ban rebuilds the candidate sets holding the endpoint; the others (balancer and all)
// are shared with the snapshot before.
TEST(HostileConfigTest, ABanRebuildsOnlyTheSetsHoldingTheEndpoint) {
  v1::ServiceConfig s = service(16);
  v1::Route* route = s.add_routes();
  for (int shard = 0; shard < 8; ++shard) {
    (*route->add_destinations()->mutable_tags())["shard"] = absl::StrCat("s", shard);
  }
  absl::StatusOr<ParsedService> parsed = parse_service(s);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EndpointUpdate update = build_endpoints(parsed->endpoints.specs, nullptr, nullptr);
  std::vector<bool> out(16, false);
  std::unique_ptr<ServiceSnapshot> before =
      compile_snapshot(parsed->policy, update.set, parsed->endpoints.layout,
                       std::make_shared<RoutingEnv>(), out, nullptr, absl::Now());
  ASSERT_EQ(before->sets.size(), 9u);  // the service, and one per shard
  out[3] = true;                       // endpoint 3 is in shard s3
  std::unique_ptr<ServiceSnapshot> after = recompile(*before, out);
  for (size_t g = 0; g < after->sets.size(); ++g) {
    const bool holds_3 = g == 0 || after->routes[0].destinations[3] == after->sets[g].get();
    EXPECT_EQ(after->sets[g] != before->sets[g], holds_3) << "group " << g;
  }
  EXPECT_EQ(after->routes[0].destinations[3]->usable, 1u);  // endpoints 3 and 11; 3 is out
  EXPECT_EQ(after->all->usable, 15u);
  EXPECT_EQ(after->banned, 1u);
}

// An update keeps each endpoint whose address and tags stay, wherever it now stands in
// the list; one written another way or retagged replaces its predecessor (which departs,
// its latency view inherited); one no longer listed departs.
TEST(EndpointUpdateTest, EndpointsAreKeptByAddressWhereverTheyStand) {
  auto parse = [](const std::vector<std::pair<std::string, std::string>>& endpoints) {
    v1::ServiceConfig s;
    s.set_name("svc");
    for (const auto& [address, version] : endpoints) {
      v1::Endpoint* e = s.add_endpoints();
      e->set_address(address);
      (*e->mutable_tags())["v"] = version;
    }
    absl::StatusOr<ParsedService> parsed = parse_service(s);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed->endpoints.specs;
  };
  const EndpointUpdate first = build_endpoints(parse({{"10.0.0.1:80", "a"},
                                                      {"10.0.0.2:80", "a"},
                                                      {"[::1]:80", "a"},
                                                      {"Host.example:80", "a"},
                                                      {"10.0.0.4:80", "a"},
                                                      {"10.0.0.3:80", "a"}}),
                                               nullptr, nullptr);
  const std::vector<EndpointRef>& was = first.set->endpoints;
  const EndpointUpdate next = build_endpoints(parse({{"10.0.0.2:80", "a"},
                                                     {"10.0.0.1:80", "a"},
                                                     {"[0::1]:80", "a"},
                                                     {"host.example:80", "a"},
                                                     {"10.0.0.4:80", "b"},
                                                     {"10.0.0.5:80", "a"}}),
                                              first.set.get(), nullptr);
  const std::vector<EndpointRef>& now = next.set->endpoints;
  ASSERT_EQ(now.size(), 6u);
  EXPECT_EQ(now[0].get(), was[1].get()) << "moved, kept";
  EXPECT_EQ(now[1].get(), was[0].get()) << "moved, kept";
  EXPECT_EQ(now[2]->address(), "[0::1]:80");
  EXPECT_EQ(now[3]->address(), "host.example:80");
  EXPECT_EQ(*now[4]->identity().tags, (std::vector<Tag>{{"v", "b"}}));
  using Pair = std::pair<const Endpoint*, const Endpoint*>;
  EXPECT_THAT(next.replaced, ::testing::ElementsAre(Pair{now[2].get(), was[2].get()},
                                                    Pair{now[3].get(), was[3].get()},
                                                    Pair{now[4].get(), was[4].get()}));
  std::vector<const Endpoint*> departed;
  for (const EndpointRef& e : next.departed) departed.push_back(e.get());
  EXPECT_THAT(departed,
              ::testing::ElementsAre(was[2].get(), was[3].get(), was[4].get(), was[5].get()));
}

}  // namespace
}  // namespace ufc::internal
