// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/hub.h"

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metad/store/local_store.h"
#include "metad/writer_pool.h"
#include "tests/metad/metad_process.h"

namespace ufc::metad {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

v1::PutServiceRequest put_request(const std::string& name, int port) {
  v1::PutServiceRequest r;
  r.mutable_service()->set_name(name);
  r.mutable_service()->add_endpoints()->set_address(absl::StrCat("127.0.0.1:", port));
  return r;
}

std::vector<std::string> names(const v1::WatchResponse& r) {
  std::vector<std::string> out;
  for (const auto& s : r.services()) out.push_back(s.name());
  for (const auto& s : r.removals()) out.push_back("-" + s.name());
  for (const auto& s : r.unknown()) out.push_back("?" + s);
  return out;
}

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = LocalStore::open(dir_.path()).value();
    hub_ =
        std::make_unique<Hub>(*store_, Hub::Options{.log_size = 8, .max_response_bytes = 1 << 20});
    ASSERT_TRUE(hub_->start().ok());
  }
  v1::WatchResponse build(WatchCursor& c) {
    v1::WatchResponse r;
    bool more = false;
    built_ = hub_->build(c, r, more);
    more_ = more;
    return r;
  }
  TempDir dir_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<Hub> hub_;
  bool built_ = false, more_ = false;
};

TEST_F(HubTest, AFirstBuildSendsOnlyWhatDiffersFromWhatTheWatcherHas) {
  const uint64_t va = hub_->put(put_request("a", 1)).value().version();
  hub_->put(put_request("b", 2)).value();
  WatchCursor c;
  c.all_services = true;
  c.sent = {{"a", va}, {"gone", 1}};  // has a already, and one the store lost
  v1::WatchResponse r = build(c);
  EXPECT_TRUE(built_);
  EXPECT_THAT(names(r), ::testing::ElementsAre("b", "-gone"));
  EXPECT_EQ(r.global_version(), hub_->revision());
  // Nothing changed since: nothing to send.
  build(c);
  EXPECT_FALSE(built_);
}

TEST_F(HubTest, IncrementsCarryOnlyChangedSubscribedServices) {
  hub_->put(put_request("a", 1)).value();
  hub_->put(put_request("b", 2)).value();
  WatchCursor c;
  c.subscribed = {"a", "missing"};
  c.fresh = {"a", "missing"};
  EXPECT_THAT(names(build(c)), ::testing::ElementsAre("a", "?missing"));
  hub_->put(put_request("b", 3)).value();  // not subscribed
  build(c);
  EXPECT_FALSE(built_);
  hub_->put(put_request("a", 4)).value();
  hub_->put(put_request("missing", 5)).value();
  EXPECT_THAT(names(build(c)), ::testing::ElementsAre("a", "missing"));
  ASSERT_TRUE(hub_->remove([] {
                    v1::DeleteServiceRequest d;
                    d.set_name("a");
                    return d;
                  }())
                  .ok());
  v1::WatchResponse r = build(c);
  EXPECT_THAT(names(r), ::testing::ElementsAre("-a"));
  EXPECT_EQ(r.removals(0).version(), hub_->revision());
}

TEST_F(HubTest, AWatcherBehindTheLogIsDiffedInFull) {
  WatchCursor c;
  c.all_services = true;
  build(c);  // in sync at revision 0
  for (int i = 0; i < 20; ++i) hub_->put(put_request(absl::StrCat("s", i % 3), 100 + i)).value();
  v1::WatchResponse r = build(c);  // the log holds 8 changes: a full diff
  EXPECT_THAT(names(r), ::testing::ElementsAre("s0", "s1", "s2"));
  EXPECT_EQ(c.revision, hub_->revision());
}

TEST_F(HubTest, BigDifferencesAreSplitAndOnlyTheLastCarriesTheGlobalVersion) {
  Hub small(*store_, Hub::Options{.log_size = 100, .max_response_bytes = 60});
  store_->stop();
  ASSERT_TRUE(small.start().ok());
  for (int i = 0; i < 10; ++i) small.put(put_request(absl::StrCat("s", i), i + 1)).value();
  WatchCursor c;
  c.all_services = true;
  int responses = 0, services = 0;
  bool more = true;
  while (more) {
    v1::WatchResponse r;
    ASSERT_TRUE(small.build(c, r, more));
    ++responses;
    services += r.services_size();
    EXPECT_EQ(r.global_version(), more ? 0u : small.revision());
  }
  EXPECT_EQ(services, 10);
  EXPECT_GT(responses, 3);
}

TEST_F(HubTest, PutsAreValidatedByTheLibraryAndUnchangedPutsWriteNothing) {
  v1::PutServiceRequest bad = put_request("a", 1);
  bad.mutable_service()->mutable_endpoints(0)->set_weight(-1);
  absl::StatusOr<v1::PutServiceResponse> r = hub_->put(bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("service.endpoints[0].weight"));
  EXPECT_EQ(hub_->revision(), 0u);
  const uint64_t v = hub_->put(put_request("a", 1)).value().version();
  v1::PutServiceRequest again = put_request("a", 1);
  again.mutable_service()->set_version(999);  // never trusted
  absl::StatusOr<v1::PutServiceResponse> same = hub_->put(again);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->unchanged());
  EXPECT_EQ(same->version(), v);
  EXPECT_EQ(hub_->revision(), v);
  EXPECT_EQ(hub_->get("a").value().service().version(), v);
}

v1::PutIdcMapRequest idc_map_request(std::map<std::string, std::string> entries) {
  v1::PutIdcMapRequest r;
  for (const auto& [physical, logical] : entries) (*r.mutable_idc_map())[physical] = logical;
  return r;
}

TEST_F(HubTest, TheIdcMapIsValidatedStoredAndSentToEveryWatcherOnce) {
  // Validated as a ClientConfig's idc_map: nothing stored.
  absl::StatusOr<v1::PutIdcMapResponse> bad = hub_->put_idc_map(idc_map_request({{"bj-1", ""}}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("idc_map"));
  EXPECT_EQ(hub_->revision(), 0u);

  hub_->put(put_request("a", 1)).value();
  WatchCursor c;  // subscribes to "a" only: the map goes to it all the same
  c.subscribed = {"a"};
  c.fresh = {"a"};
  EXPECT_FALSE(build(c).has_idc_map()) << "no map stored yet";

  const uint64_t v =
      hub_->put_idc_map(idc_map_request({{"bj-1", "bj"}, {"sh-1", "sh"}})).value().version();
  EXPECT_EQ(hub_->revision(), v);
  v1::WatchResponse r = build(c);
  EXPECT_TRUE(built_);
  ASSERT_TRUE(r.has_idc_map());
  EXPECT_EQ(r.idc_map().version(), v);
  EXPECT_EQ(r.idc_map().entries().at("bj-1"), "bj");
  EXPECT_EQ(r.idc_map().entries_size(), 2);
  EXPECT_TRUE(r.services().empty());
  EXPECT_EQ(r.global_version(), v);
  build(c);
  EXPECT_FALSE(built_) << "sent once";

  // The same map again writes nothing; a stale expected version is refused.
  absl::StatusOr<v1::PutIdcMapResponse> same =
      hub_->put_idc_map(idc_map_request({{"sh-1", "sh"}, {"bj-1", "bj"}}));
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->unchanged());
  EXPECT_EQ(same->version(), v);
  v1::PutIdcMapRequest stale = idc_map_request({{"bj-1", "sh"}});
  stale.set_expected_version(v - 1);
  EXPECT_EQ(hub_->put_idc_map(stale).status().code(), absl::StatusCode::kFailedPrecondition);

  // A watcher that has this version is not sent it; one with an older one is.
  WatchCursor has;
  has.all_services = true;
  has.idc_map_version = v;
  EXPECT_FALSE(build(has).has_idc_map());
  WatchCursor old;
  old.all_services = true;
  old.idc_map_version = v - 1;
  EXPECT_TRUE(build(old).has_idc_map());

  // Not a service: not listed, not deletable as one.
  const v1::ListServicesResponse listed = hub_->list();
  ASSERT_EQ(listed.services_size(), 1);
  EXPECT_EQ(listed.services(0).name(), "a");
  v1::DeleteServiceRequest del;
  del.set_name(std::string(kIdcMapKey));
  EXPECT_EQ(hub_->remove(del).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub_->get(std::string(kIdcMapKey)).status().code(), absl::StatusCode::kNotFound);

  // Cleared: an empty map at a new version reaches the watcher.
  const uint64_t cleared = hub_->put_idc_map(idc_map_request({})).value().version();
  EXPECT_GT(cleared, v);
  r = build(c);
  ASSERT_TRUE(r.has_idc_map());
  EXPECT_EQ(r.idc_map().version(), cleared);
  EXPECT_TRUE(r.idc_map().entries().empty());

  // Deleted from the store behind the hub's back: empty at the delete's revision, and a
  // compare-and-swap at that version still works (the store sees a key that is absent).
  const uint64_t deleted = store_->remove(kIdcMapKey, std::nullopt).value();
  EXPECT_EQ(hub_->idc_map().version(), deleted);
  EXPECT_TRUE(hub_->idc_map().entries().empty());
  EXPECT_TRUE(hub_->put_idc_map(idc_map_request({})).value().unchanged());
  v1::PutIdcMapRequest cas = idc_map_request({{"gz-1", "gz"}});
  cas.set_expected_version(deleted);
  ASSERT_TRUE(hub_->put_idc_map(cas).ok());

  // It survives a restart of the server (a new hub over the same store).
  hub_.reset();
  store_.reset();
  store_ = LocalStore::open(dir_.path()).value();
  Hub again(*store_, {});
  ASSERT_TRUE(again.start().ok());
  EXPECT_EQ(again.idc_map().entries().at("gz-1"), "gz");
  EXPECT_GT(again.idc_map().version(), cleared);
}

TEST(WriterPoolTest, RunsJobsOffTheCallersThreadRefusesPastItsQueueAndStopsWithoutWaiting) {
  WriterPool pool(1, 2);
  absl::Notification release;
  std::atomic<int> ran{0}, refused{0};
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> elsewhere{false};
  ASSERT_TRUE(pool.post([&](bool run) {
                    elsewhere = std::this_thread::get_id() != caller;
                    release.WaitForNotification();  // a store that hangs
                    ran += run;
                  })
                  .ok());
  absl::SleepFor(absl::Milliseconds(50));  // the worker holds the first one
  auto counted = [&](bool run) { (run ? ran : refused) += 1; };
  ASSERT_TRUE(pool.post(counted).ok());
  ASSERT_TRUE(pool.post(counted).ok());
  const absl::Status full = pool.post(counted);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  std::thread stopper([&] { pool.stop(); });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(refused.load(), 2) << "the waiting jobs are answered at once, not run";
  EXPECT_EQ(pool.post(counted).code(), absl::StatusCode::kUnavailable);
  release.Notify();
  stopper.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_TRUE(elsewhere.load());
  pool.stop();  // again: nothing
}

}  // namespace
}  // namespace ufc::metad
