// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/service_table.h"

#include <set>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

ServiceState* fake(uintptr_t i) { return reinterpret_cast<ServiceState*>(i * 16); }

TEST(ServiceTableTest, FindsEveryNameAndNothingElse) {
  std::vector<std::pair<std::string, ServiceState*>> entries;
  for (int i = 1; i <= 1000; ++i) entries.emplace_back("service-" + std::to_string(i), fake(i));
  entries.emplace_back("a-much-longer-service-name-with.dots.and-dashes", fake(5000));
  ServiceTable table(entries);
  for (const auto& [name, state] : entries) ASSERT_EQ(table.find(name), state) << name;
  EXPECT_EQ(table.find(""), nullptr);
  EXPECT_EQ(table.find("service-0"), nullptr);
  EXPECT_EQ(table.find("service-1001"), nullptr);
  EXPECT_EQ(table.find("service-1 "), nullptr);
  EXPECT_EQ(table.find("a-much-longer-service-name-with.dots.and-dashe"), nullptr);
}

TEST(ServiceTableTest, EmptyTableFindsNothing) {
  ServiceTable table({});
  EXPECT_EQ(table.find("x"), nullptr);
  EXPECT_EQ(table.size(), 0u);
}

TEST(ServiceTableTest, HashSeparatesSimilarNames) {
  std::set<uint64_t> hashes;
  for (int i = 0; i < 10000; ++i) hashes.insert(ServiceTable::hash("svc" + std::to_string(i)));
  EXPECT_EQ(hashes.size(), 10000u);
  EXPECT_NE(ServiceTable::hash("ab"), ServiceTable::hash("ba"));
  EXPECT_NE(ServiceTable::hash(std::string("a\0", 2)), ServiceTable::hash("a"));
}

}  // namespace
}  // namespace ufc::internal
