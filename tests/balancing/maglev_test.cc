// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/maglev.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "tests/balancing/endpoints_fixture.h"

namespace ufc::internal {
namespace {

std::vector<std::string> map_keys(const Maglev& m, int keys) {
  std::vector<std::string> out;
  PickContext ctx;
  for (int k = 0; k < keys; ++k) {
    const std::string key = "user-" + std::to_string(k);
    ctx.hash_key = key;
    out.emplace_back(m.pick(ctx)->address());
  }
  return out;
}

TEST(MaglevTest, RemovingOneOfTenMovesAboutATenthOfKeys) {
  constexpr int kKeys = 100000;
  EndpointsFixture eps = EndpointsFixture::uniform(10);
  Maglev before(eps.candidates(), 0);
  std::vector<WeightedEndpoint> nine;
  for (const WeightedEndpoint& e : eps.candidates()) {
    if (e.endpoint != eps.at(3)) nine.push_back(e);
  }
  Maglev after(nine, 0);
  const std::vector<std::string> a = map_keys(before, kKeys);
  const std::vector<std::string> b = map_keys(after, kKeys);
  int moved = 0, on_removed = 0;
  for (int k = 0; k < kKeys; ++k) {
    moved += a[k] != b[k];
    on_removed += a[k] == eps.at(3)->address();
  }
  EXPECT_LE(moved, kKeys * (1.0 / 10 + 0.02)) << "moved " << moved;
  EXPECT_GE(moved, on_removed);  // every key of the removed endpoint had to move
}

TEST(MaglevTest, KeysSpreadEvenlyAndRepeatableKeysStick) {
  EndpointsFixture eps = EndpointsFixture::uniform(10);
  Maglev m(eps.candidates(), 0);
  std::map<std::string, int> counts;
  for (const std::string& a : map_keys(m, 100000)) ++counts[a];
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [address, n] : counts) EXPECT_NEAR(n, 10000, 1000) << address;
  EXPECT_EQ(map_keys(m, 50), map_keys(m, 50));
}

TEST(MaglevTest, TableDoesNotDependOnConfigOrder) {
  EndpointsFixture eps = EndpointsFixture::uniform(7);
  std::vector<WeightedEndpoint> reversed(eps.candidates().rbegin(), eps.candidates().rend());
  Maglev a(eps.candidates(), 0), b(reversed, 0);
  ASSERT_EQ(a.table_size(), b.table_size());
  for (uint32_t s = 0; s < a.table_size(); ++s) ASSERT_EQ(a.slot(s), b.slot(s)) << s;
}

TEST(MaglevTest, WeightsSetTableShares) {
  EndpointsFixture eps({1, 3});
  Maglev m(eps.candidates(), 0);
  int heavy = 0;
  for (uint32_t s = 0; s < m.table_size(); ++s) heavy += m.slot(s) == eps.at(1);
  EXPECT_NEAR(heavy / static_cast<double>(m.table_size()), 0.75, 0.01);
}

TEST(MaglevTest, ExtremeWeightSpreadBuildsQuicklyAndKeepsEveryEndpoint) {
  // 2000 endpoints of weight 1e-6 beside one of 1e6: scanning every endpoint every
  // round would take ~10^12 steps; the heap-ordered fill takes one step per slot.
  std::vector<double> weights(2001, 1e-6);
  weights[0] = 1e6;
  EndpointsFixture eps(weights);
  Maglev m(eps.candidates(), 0);
  int heavy = 0;
  for (uint32_t s = 0; s < m.table_size(); ++s) heavy += m.slot(s) == eps.at(0);
  EXPECT_GT(heavy, static_cast<int>(m.table_size()) - 2001);
}

TEST(MaglevTest, TableIsPrimeAndGrowsWithEndpoints) {
  EXPECT_EQ(next_prime(65536), 65537u);
  EndpointsFixture small = EndpointsFixture::uniform(3);
  EXPECT_EQ(Maglev(small.candidates(), 0).table_size(), 65537u);
  EndpointsFixture large = EndpointsFixture::uniform(1000);
  EXPECT_EQ(Maglev(large.candidates(), 0).table_size(), 100003u);
}

TEST(MaglevTest, PrehashedKeyAndAttemptAreDeterministic) {
  EndpointsFixture eps = EndpointsFixture::uniform(10);
  Maglev m(eps.candidates(), 0);
  PickContext ctx;
  const uint64_t key = 12345;
  ctx.hash = &key;
  Endpoint* first = m.pick(ctx);
  EXPECT_EQ(m.pick(ctx), first);
  ctx.attempt = 1;
  Endpoint* fallback = m.pick(ctx);
  EXPECT_EQ(m.pick(ctx), fallback);
}

// A digest of the whole table: which endpoint (by fixture index) holds each slot.
uint64_t table_digest(const Maglev& m, const EndpointsFixture& eps) {
  absl::flat_hash_map<const Endpoint*, uint64_t> index;
  for (size_t i = 0; i < eps.size(); ++i) index[eps.at(static_cast<int>(i))] = i;
  uint64_t h = 1469598103934665603ULL;
  for (uint32_t s = 0; s < m.table_size(); ++s) {
    h = (h ^ index.at(m.slot(s))) * 1099511628211ULL;
  }
  return h;
}

// Every process of every library version must build the same table for the same
// endpoints, or a key maps to different backends from different callers. The digests
// were recorded with the first implementation (a heap of endpoints, a table probe per
// step); the build has been made faster since, and must keep them.
TEST(MaglevTest, TablesAreTheSameAsEveryEarlierVersionBuilt) {
  struct Golden {
    std::vector<double> weights;
    uint32_t min_table_size;
    uint64_t digest;
  };
  std::vector<double> uneven, tied, many;
  for (int i = 0; i < 40; ++i) uneven.push_back(1 + (i * 7919) % 13);
  for (int i = 0; i < 40; ++i) tied.push_back(i % 3 == 0 ? 2.5 : (i % 3 == 1 ? 5 : 1.25));
  for (int i = 0; i < 700; ++i) many.push_back(1 + (i * 31) % 100);
  // Beyond 65,536 endpoints (the wide table) and at the largest table, where nearly all
  // of the build's probes are spent filling the last free slots.
  std::vector<double> wide;
  for (int i = 0; i < 70000; ++i) wide.push_back(1 + (i * 7919) % 100);
  const Golden goldens[] = {
      {std::vector<double>(10, 1.0), 0, 3667136185578950289ULL},
      {uneven, 0, 14740988030602783024ULL},
      {tied, 1009, 2865633500916581626ULL},
      {many, 0, 12686902677022218920ULL},
      {{1e6, 1e-6, 3, 3, 3}, 65537, 402275442082510745ULL},
      {wide, 0, 7369097761691594942ULL},
  };
  for (const Golden& g : goldens) {
    EndpointsFixture eps(g.weights);
    Maglev m(eps.candidates(), g.min_table_size);
    EXPECT_EQ(table_digest(m, eps), g.digest) << g.weights.size() << " endpoints";
  }
}

}  // namespace
}  // namespace ufc::internal
