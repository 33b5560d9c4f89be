// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The sync conversation's rules without a transport: WatchState applying responses to a
// client on simulated time (tests/fuzz/watch_response_fuzz.cc drives it with hostile ones).

#include "src/sync/watch_state.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"
#include "tests/testing/sim_core.h"

namespace ufc::internal {
namespace {

using ::testing::HasSubstr;
using testing::make_service;
using testing::SimCore;

v1::WatchResponse response(uint64_t id, uint64_t global, std::vector<v1::ServiceConfig> services,
                           std::vector<std::pair<std::string, uint64_t>> removals = {}) {
  v1::WatchResponse r;
  r.set_response_id(id);
  r.set_global_version(global);
  for (v1::ServiceConfig& s : services) *r.add_services() = std::move(s);
  for (const auto& [name, version] : removals) {
    v1::ServiceRemoval* removal = r.add_removals();
    removal->set_name(name);
    removal->set_version(version);
  }
  return r;
}

TEST(WatchStateTest, AppliesServicesAndRemovalsAndAcksWhatTheClientApplied) {
  SimCore c;
  WatchState state;
  v1::WatchRequest ack;
  v1::WatchResponse r = response(
      1, 5, {make_service("a", 2, "round_robin", 4), make_service("b", 1, "round_robin", 5)});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  EXPECT_EQ(ack.ack().response_id(), 1u);
  EXPECT_EQ(ack.ack().global_version(), 5u);
  EXPECT_TRUE(ack.ack().nacks().empty());
  EXPECT_EQ(state.version("a"), 4u);
  EXPECT_EQ(c.core->policy("b")->version, 5u);

  r = response(2, 7, {}, {{"a", 7}});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  EXPECT_EQ(state.version("a"), 0u);
  EXPECT_EQ(c.core->policy("a"), nullptr);
  v1::WatchRequest hello;
  state.fill_hello(hello);
  EXPECT_EQ(hello.have_global(), 7u);
  ASSERT_EQ(hello.have_size(), 1);
  EXPECT_EQ(hello.have().at("b"), 5u);
}

TEST(WatchStateTest, ARejectedServiceIsNackedKeptAsItWasAndAskedForAgain) {
  SimCore c;
  WatchState state;
  v1::WatchRequest ack;
  v1::WatchResponse r = response(1, 3, {make_service("a", 2, "round_robin", 3)});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  v1::ServiceConfig bad = make_service("a", 1, "round_robin", 6);
  bad.mutable_endpoints(0)->set_weight(-1);
  r = response(2, 6, {bad, make_service("b", 1, "round_robin", 6)});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  ASSERT_EQ(ack.ack().nacks_size(), 1);
  EXPECT_EQ(ack.ack().nacks(0).service(), "a");
  EXPECT_EQ(ack.ack().nacks(0).version(), 6u);
  EXPECT_THAT(ack.ack().nacks(0).error(), HasSubstr("endpoints[0].weight"));
  EXPECT_EQ(state.version("a"), 3u) << "the last good one";
  EXPECT_EQ(c.core->policy("a")->version, 3u);
  EXPECT_EQ(state.version("b"), 6u);
  EXPECT_EQ(state.counters().nacks_sent, 1u);
}

TEST(WatchStateTest, AServiceChangedAndRemovedInOneResponseIsRefusedWhole) {
  SimCore c;
  WatchState state;
  v1::WatchRequest ack;
  v1::WatchResponse r = response(1, 10, {make_service("a", 2, "round_robin", 10)});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  r = response(2, 12,
               {make_service("a", 1, "round_robin", 12), make_service("b", 1, "round_robin", 12)},
               {{"a", 5}});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  EXPECT_THAT(ack.ack().error(), HasSubstr("changed and removed"));
  EXPECT_EQ(c.core->policy("a")->version, 10u);
  EXPECT_EQ(c.core->policy("b"), nullptr) << "nothing of it";
  EXPECT_EQ(state.version("a"), 10u);
  EXPECT_EQ(state.global(), 10u);
}

TEST(WatchStateTest, AGlobalVersionBelowTheClientsIsRefusedWholeAndEndsTheStream) {
  SimCore c;
  WatchState state;
  v1::WatchRequest ack;
  v1::WatchResponse r = response(1, 9, {make_service("a", 2, "round_robin", 9)});
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  r = response(2, 4, {}, {{"a", 4}});  // an empty, foreign or restored store
  const absl::Status s = state.apply(r, *c.core, ack);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ack.ack().error(), HasSubstr("older than the client's 9"));
  EXPECT_EQ(ack.ack().global_version(), 0u);
  EXPECT_NE(c.core->policy("a"), nullptr);
  EXPECT_EQ(state.global(), 9u);
}

TEST(WatchStateTest, TheIdcMapReplacesTheClientsIsCachedAndItsVersionGoesInTheHello) {
  SimCore c;
  WatchState state;
  v1::WatchRequest ack;
  v1::WatchResponse r = response(1, 4, {make_service("a", 2, "round_robin", 4)});
  (*r.mutable_idc_map()->mutable_entries())["bj-1"] = "bj";
  r.mutable_idc_map()->set_version(3);
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  EXPECT_TRUE(ack.ack().error().empty()) << ack.ack().error();
  EXPECT_EQ(state.idc_map_version(), 3u);
  v1::WatchRequest hello;
  state.fill_hello(hello);
  EXPECT_EQ(hello.have_idc_map(), 3u);
  std::optional<SyncCacheContent> cache = state.take_cache();
  ASSERT_TRUE(cache.has_value());
  EXPECT_EQ(cache->config.idc_map().at("bj-1"), "bj");

  // An invalid map is NACKed alone: the last good one stays, the service beside it applies.
  r = response(2, 6, {make_service("b", 1, "round_robin", 6)});
  (*r.mutable_idc_map()->mutable_entries())[""] = "sh";
  r.mutable_idc_map()->set_version(6);
  ASSERT_TRUE(state.apply(r, *c.core, ack).ok());
  EXPECT_TRUE(ack.ack().error().empty()) << ack.ack().error();
  ASSERT_EQ(ack.ack().nacks_size(), 1);
  EXPECT_EQ(ack.ack().nacks(0).service(), WatchState::kIdcMapName);
  EXPECT_EQ(ack.ack().nacks(0).version(), 6u);
  EXPECT_THAT(ack.ack().nacks(0).error(), HasSubstr("idc_map"));
  EXPECT_EQ(state.idc_map_version(), 3u);
  EXPECT_EQ(c.core->policy("b")->version, 6u);
  EXPECT_EQ(state.global(), 6u);

  // A cache with a map: applied, but its version unknown (the server sends it again).
  SimCore restarted;
  WatchState again;
  absl::StatusOr<std::vector<std::string>> loaded = again.load_cache(*cache, *restarted.core);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(*loaded, ::testing::ElementsAre("a"));
  EXPECT_EQ(again.idc_map_version(), WatchState::kUnknownVersion)
      << "the server is to send its own, even an empty one";
  v1::WatchRequest restarted_hello;
  again.fill_hello(restarted_hello);
  EXPECT_EQ(restarted_hello.have_idc_map(), WatchState::kUnknownVersion);
  EXPECT_FALSE(again.take_cache().has_value()) << "nothing new to write";
}

}  // namespace
}  // namespace ufc::internal
