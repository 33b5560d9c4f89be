// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/sync/server_rotation.h"

#include <set>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

std::vector<ControlServer> servers() {
  return {{"sh-1", "sh"}, {"bj-1", "bj"}, {"sh-2", "sh"}, {"bj-2", "bj"}, {"x", ""}};
}

TEST(ServerRotationTest, OwnIdcFirstThenTheOthersThenARoundEnds) {
  ServerRotation r(servers(), "bj", 42);
  std::vector<std::string> order;
  bool round_over = false;
  for (int i = 0; i < 5; ++i) {
    order.push_back(r.current().address);
    EXPECT_EQ(r.current_preferred(), i < 2);
    round_over = r.failed();
    EXPECT_EQ(round_over, i == 4);
  }
  EXPECT_EQ(std::set<std::string>(order.begin(), order.begin() + 2),
            (std::set<std::string>{"bj-1", "bj-2"}));
  EXPECT_EQ(std::set<std::string>(order.begin(), order.end()).size(), 5u);
  // The next round starts in the client's IDC again.
  EXPECT_TRUE(r.current_preferred());
}

TEST(ServerRotationTest, ASuccessResetsTheRound) {
  ServerRotation r(servers(), "sh", 1);
  r.failed();
  r.failed();
  r.succeeded();
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.failed());
}

TEST(ServerRotationTest, SeedsSpreadClientsOverTheirIdcsServers) {
  std::set<std::string> first;
  for (uint64_t seed = 0; seed < 32; ++seed)
    first.insert(ServerRotation(servers(), "sh", seed).current().address);
  EXPECT_EQ(first, (std::set<std::string>{"sh-1", "sh-2"}));
}

TEST(ServerRotationTest, NoIdcMeansNothingIsPreferred) {
  ServerRotation r(servers(), "", 3);
  EXPECT_FALSE(r.has_preferred());
  EXPECT_FALSE(r.current_preferred());
}

}  // namespace
}  // namespace ufc::internal
