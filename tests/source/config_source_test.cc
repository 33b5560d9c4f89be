// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The config-source seam: versioned updates and removals as a sync stream will deliver
// them, per-service rejection, complete updates, and the file as a source.

#include "src/source/config_source.h"

#include <atomic>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/source/file_source.h"
#include "tests/testing/sim_client.h"
#include "tests/testing/sim_core.h"

namespace ufc::internal {
namespace {

using ::testing::HasSubstr;
using testing::make_service;
using ::testing::Not;
using testing::SimCore;

ConfigUpdate update_of(uint64_t global, std::vector<v1::ServiceConfig> services,
                       std::vector<ServiceRemoval> removals = {}) {
  ConfigUpdate u;
  u.global_version = global;
  for (v1::ServiceConfig& s : services) *u.config.add_services() = std::move(s);
  u.removals = std::move(removals);
  return u;
}

TEST(ConfigSourceTest, AGlobalVersionGoingBackwardsIsRejectedWhole) {
  SimCore c;
  ASSERT_TRUE(c.core->deliver(update_of(9, {make_service("a", 1, "round_robin", 9)})).status.ok());
  EXPECT_EQ(c.core->global_version(), 9u);
  const UpdateResult stale =
      c.core->deliver(update_of(8, {make_service("b", 1, "round_robin", 8)}));
  EXPECT_EQ(stale.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.status.message(), "global_version: 8 is older than the applied 9");
  EXPECT_THAT(c.core->query("services"), Not(HasSubstr("\"name\":\"b\"")));
  EXPECT_EQ(c.events.back().type, EventType::kConfigRejected);
}

TEST(ConfigSourceTest, ADeleteIsNotUndoneByALateOlderUpdate) {
  SimCore c;
  ASSERT_TRUE(
      c.core->deliver(update_of(5, {make_service("svc", 2, "round_robin", 5)})).status.ok());
  ASSERT_TRUE(c.core->deliver(update_of(6, {}, {{"svc", 6}})).status.ok());
  EXPECT_EQ(c.core->pick({.service = "svc"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.events.back().type, EventType::kServiceRemoved);
  EXPECT_EQ(c.events.back().version, 6u);

  // A change made at version 6 arrives late (another server, a reordered stream).
  const UpdateResult late =
      c.core->deliver(update_of(6, {make_service("svc", 3, "round_robin", 6)}));
  EXPECT_TRUE(late.status.ok());
  ASSERT_EQ(late.rejected.size(), 1u);
  EXPECT_EQ(late.rejected[0].first, "svc");
  EXPECT_EQ(late.rejected[0].second.message(),
            "version: 6 is not newer than the removal at version 6");
  EXPECT_EQ(c.core->pick({.service = "svc"}).status().code(), absl::StatusCode::kNotFound);
  // Created again after the delete: back.
  EXPECT_TRUE(
      c.core->deliver(update_of(7, {make_service("svc", 1, "round_robin", 7)})).rejected.empty());
  EXPECT_TRUE(c.core->pick({.service = "svc"}).ok());
}

TEST(ConfigSourceTest, ARemovalOlderThanTheAppliedVersionIsRejected) {
  SimCore c;
  c.core->deliver(update_of(8, {make_service("svc", 2, "round_robin", 8)}));
  const UpdateResult r = c.core->deliver(update_of(8, {}, {{"svc", 7}}));
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].second.message(),
            "version: the removal at 7 is older than the applied version 8");
  EXPECT_TRUE(c.core->pick({.service = "svc"}).ok());
}

TEST(ConfigSourceTest, OneBadServiceIsRejectedAloneAndKeepsItsLastGoodConfig) {
  SimCore c;
  c.core->deliver(update_of(
      1, {make_service("a", 1, "round_robin", 1), make_service("b", 2, "round_robin", 1)}));
  v1::ServiceConfig bad_b = make_service("b", 3, "round_robin", 2);
  bad_b.mutable_endpoints(1)->set_weight(-2);
  const UpdateResult r =
      c.core->deliver(update_of(2, {make_service("a", 4, "round_robin", 2), bad_b}));
  EXPECT_TRUE(r.status.ok());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].first, "b");
  EXPECT_EQ(r.rejected[0].second.message(), "endpoints[1].weight: must be >= 0, got -2");
  const std::string services = c.core->query("services");
  EXPECT_THAT(services,
              HasSubstr("\"name\":\"a\",\"version\":2,\"policy\":\"round_robin\",\"endpoints\":4"));
  EXPECT_THAT(services,
              HasSubstr("\"name\":\"b\",\"version\":1,\"policy\":\"round_robin\",\"endpoints\":2"));
  bool nacked = false;
  for (const Event& e : c.events) {
    nacked |= e.type == EventType::kConfigRejected && e.service == "b" && e.version == 2;
  }
  EXPECT_TRUE(nacked);
}

TEST(ConfigSourceTest, ACompleteUpdateRemovesWhatItDoesNotListAtItsGlobalVersion) {
  SimCore c;
  c.core->deliver(update_of(
      3, {make_service("a", 1, "round_robin", 2), make_service("b", 1, "round_robin", 3)}));
  ConfigUpdate full = update_of(10, {make_service("a", 1, "round_robin", 2)});
  full.complete = true;
  ASSERT_TRUE(c.core->deliver(full).status.ok());
  EXPECT_EQ(c.core->pick({.service = "b"}).status().code(), absl::StatusCode::kNotFound);
  // b's deletion happened at or before revision 10: nothing older brings it back.
  EXPECT_EQ(
      c.core->deliver(update_of(10, {make_service("b", 1, "round_robin", 9)})).rejected.size(), 1u);
  EXPECT_TRUE(
      c.core->deliver(update_of(11, {make_service("b", 1, "round_robin", 11)})).rejected.empty());
}

TEST(ConfigSourceTest, ACompleteUpdateKeepsAServiceWhoseNewConfigIsRejected) {
  SimCore c;
  c.core->deliver(update_of(
      3, {make_service("a", 1, "round_robin", 2), make_service("b", 2, "round_robin", 3)}));
  v1::ServiceConfig bad_b = make_service("b", 2, "round_robin", 10);
  bad_b.mutable_endpoints(0)->set_weight(-1);
  ConfigUpdate full = update_of(10, {make_service("a", 1, "round_robin", 2), bad_b});
  full.complete = true;
  const UpdateResult r = c.core->deliver(full);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].first, "b");
  EXPECT_TRUE(c.core->pick({.service = "b"}).ok()) << "listed, so not removed: last good kept";
  // Corrected at the same version, it applies (no removal mark stands in its way).
  EXPECT_TRUE(
      c.core->deliver(update_of(10, {make_service("b", 3, "round_robin", 10)})).rejected.empty());
  EXPECT_EQ(c.core->policy("b")->version, 10u);
}

TEST(ConfigSourceTest, AStaleRemovalRejectsAnAllOrNothingUpdateWhole) {
  SimCore c;
  c.core->deliver(update_of(8, {make_service("svc", 2, "round_robin", 8)}));
  ConfigUpdate u = update_of(9, {make_service("new", 1, "round_robin", 9)}, {{"svc", 7}});
  u.all_or_nothing = true;
  const UpdateResult r = c.core->deliver(u);
  EXPECT_EQ(r.status.message(),
            "removals[0].version: the removal at 7 is older than the applied version 8");
  EXPECT_EQ(c.core->pick({.service = "new"}).status().code(), absl::StatusCode::kNotFound)
      << "nothing of it applied";
  EXPECT_TRUE(c.core->pick({.service = "svc"}).ok());
  EXPECT_EQ(c.core->global_version(), 8u);
}

TEST(ConfigSourceTest, AServiceListedTwiceIsRejectedEveryTimeTheFirstWithItsOwnError) {
  SimCore c;
  v1::ServiceConfig bad = make_service("svc", 1, "round_robin", 1);
  bad.clear_endpoints();
  const UpdateResult r =
      c.core->deliver(update_of(1, {bad, make_service("svc", 2, "round_robin", 1)}));
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].second.message(), "endpoints: must not be empty");
  EXPECT_EQ(r.rejected[1].second.message(), "name: listed twice in one update");
  EXPECT_EQ(c.core->pick({.service = "svc"}).status().code(), absl::StatusCode::kNotFound);
}

TEST(ConfigSourceTest, AServiceListedTwiceIsRejectedBothTimesAndKeepsWhatItHad) {
  SimCore c;
  c.core->deliver(update_of(1, {make_service("svc", 2, "round_robin", 1)}));
  const UpdateResult r = c.core->deliver(update_of(
      3, {make_service("svc", 3, "round_robin", 2), make_service("svc", 4, "round_robin", 3)}));
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].second.message(), "name: listed twice in one update");
  EXPECT_EQ(r.rejected[1].second.message(), "name: listed twice in one update");
  ASSERT_NE(c.core->policy("svc"), nullptr);
  EXPECT_EQ(c.core->policy("svc")->version, 1u) << "neither copy replaced the last good one";
}

TEST(ConfigSourceTest, TheSameVersionAndContentAgainIsANoOp) {
  SimCore c;
  c.core->deliver(update_of(1, {make_service("a", 2, "round_robin", 1)}));
  const size_t events = c.events.size();
  const UpdateResult again =
      c.core->deliver(update_of(1, {make_service("a", 2, "round_robin", 1)}));
  EXPECT_TRUE(again.status.ok());
  EXPECT_TRUE(again.rejected.empty());
  EXPECT_EQ(c.events.size(), events);
}

TEST(ConfigSourceTest, TheFileIsASourceThatDeliversOnce) {
  const std::string path = ::testing::TempDir() + "/ufc_config_source_test.json";
  {
    std::ofstream out(path);
    out << R"({"services": [{"name": "echo", "version": "4",
               "endpoints": [{"address": "10.0.0.1:80"}]}]})";
  }
  SimCore c;
  ASSERT_TRUE(c.core->attach(std::make_unique<FileSource>(path)).ok());
  EXPECT_TRUE(c.core->pick({.service = "echo"}).ok());
  {
    std::ofstream out(path);
    out << R"({"services": [{"name": "echo", "endpoints": []}]})";
  }
  const absl::Status bad = c.core->attach(std::make_unique<FileSource>(path));
  EXPECT_EQ(bad.message(), "config file " + path + ": services[0].endpoints: must not be empty");
  EXPECT_TRUE(c.core->pick({.service = "echo"}).ok()) << "the last good config stays";
  std::remove(path.c_str());
  EXPECT_EQ(c.core->attach(std::make_unique<FileSource>(path)).code(), absl::StatusCode::kNotFound);
}

// A config file that lists no service, read by a client that has some, would remove them
// all: refused by the client's defaults, and the last good config keeps serving.
TEST(ConfigSourceTest, AFileThatWouldRemoveEveryServiceIsRefused) {
  const std::string path = ::testing::TempDir() + "/ufc_config_source_wipe_test.json";
  SimCore c;
  ASSERT_TRUE(c.core
                  ->deliver(update_of(0, {make_service("a", 1, "round_robin"),
                                          make_service("b", 1, "round_robin")}))
                  .rejected.empty());
  for (const char* empty : {R"({"services": []})", R"({})", R"({"services": null})"}) {
    {
      std::ofstream out(path);
      out << empty;
    }
    const absl::Status status = c.core->attach(std::make_unique<FileSource>(path));
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << empty;
    EXPECT_EQ(status.message(),
              "config file " + path +
                  ": refused: this complete config would remove all 2 configured services (a, "
                  "b) and lists none of them; nothing was changed. If that is meant, set "
                  "allow_removing_all (ApplyOptions for apply(), ClientOptions::apply_defaults "
                  "for config sources)");
    EXPECT_TRUE(c.core->pick({.service = "a"}).ok());
    EXPECT_TRUE(c.core->pick({.service = "b"}).ok());
    EXPECT_EQ(c.events.back().type, EventType::kConfigRejected);
  }
  // protobuf alone would read this as an empty config too; the parser refuses it first.
  {
    std::ofstream out(path);
    out << R"({"services": [[]]})";
  }
  const absl::Status nested = c.core->attach(std::make_unique<FileSource>(path));
  EXPECT_EQ(nested.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(nested.message()),
              HasSubstr("config file " + path + ": services[0]: nested array"));
  EXPECT_TRUE(c.core->pick({.service = "a"}).ok());
  std::remove(path.c_str());
}

TEST(ConfigSourceTest, ACompleteUpdateCarriesItsSendersPermissionToRemove) {
  SimCore c;
  c.core->deliver(update_of(
      1, {make_service("a", 1, "round_robin", 1), make_service("b", 1, "round_robin", 1),
          make_service("c", 1, "round_robin", 1), make_service("d", 1, "round_robin", 1)}));
  // The sender's share: 3 of 4 is more than half.
  ConfigUpdate shrink = update_of(2, {make_service("a", 1, "round_robin", 1)});
  shrink.complete = true;
  shrink.removal_limits = RemovalLimits{.max_removed_share = 0.5};
  const UpdateResult refused = c.core->deliver(shrink);
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status.message()),
              HasSubstr("would remove 3 of the 4 configured services (b, c, d)"));
  EXPECT_EQ(c.core->global_version(), 1u) << "nothing recorded either";
  EXPECT_TRUE(c.core->pick({.service = "d"}).ok());
  // Removals listed with a complete update count too.
  ConfigUpdate with_removals =
      update_of(2, {make_service("a", 1, "round_robin", 1), make_service("b", 1, "round_robin", 1)},
                {{"b", 2}});
  with_removals.complete = true;
  with_removals.removal_limits = RemovalLimits{.max_removed_share = 0.5};
  EXPECT_THAT(std::string(c.core->deliver(with_removals).status.message()),
              HasSubstr("would remove 3 of the 4 configured services (b, c, d)"));
  // Without limits of its own a source gets the client's defaults: removing all is refused...
  ConfigUpdate wipe = update_of(3, {});
  wipe.complete = true;
  EXPECT_EQ(c.core->deliver(wipe).status.code(), absl::StatusCode::kFailedPrecondition);
  // ...unless the sender says it means it.
  wipe.removal_limits = RemovalLimits{.allow_removing_all = true};
  ASSERT_TRUE(c.core->deliver(wipe).status.ok());
  EXPECT_EQ(c.core->pick({.service = "a"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.core->global_version(), 3u);
}

// Removals one by one (a sync delta) are deliberate, not a wipe: not limited.
TEST(ConfigSourceTest, RemovalsInAnIncrementalUpdateAreNotLimited) {
  SimCore c;
  c.core->deliver(update_of(1, {make_service("a", 1, "round_robin", 1)}));
  ASSERT_TRUE(c.core->deliver(update_of(2, {}, {{"a", 2}})).status.ok());
  EXPECT_EQ(c.core->pick({.service = "a"}).status().code(), absl::StatusCode::kNotFound);
}

// Two sources on their own threads racing each other and eight pickers; run under ASan by
// scripts/test.sh. Versions only move forward, whatever the interleaving.
TEST(ConfigSourceTest, ConcurrentDeliveriesApplyOneAtATimeAndOnlyForward) {
  v1::ClientConfig config;
  *config.add_services() = make_service("svc", 4, "round_robin", 1);
  SimCore c(config);
  std::atomic<bool> stop{false};
  std::vector<std::thread> pickers;
  for (int t = 0; t < 8; ++t) {
    pickers.emplace_back([&] {
      while (!stop.load()) {
        absl::StatusOr<Pick> p = c.core->pick({.service = "svc"});
        if (p.ok()) c.core->report(*p, Outcome::ok(absl::Milliseconds(1)));
      }
    });
  }
  std::vector<std::thread> sources;
  for (int s = 0; s < 2; ++s) {
    sources.emplace_back([&, s] {
      for (uint64_t v = 2 + s; v < 200; v += 2) {
        c.core->deliver(
            update_of(v, {make_service("svc", 2 + static_cast<int>(v % 5), "round_robin", v)}));
      }
    });
  }
  for (std::thread& t : sources) t.join();
  stop = true;
  for (std::thread& t : pickers) t.join();
  EXPECT_EQ(c.core->policy("svc")->version, 199u);
  EXPECT_EQ(c.core->global_version(), 199u);
}

}  // namespace
}  // namespace ufc::internal
