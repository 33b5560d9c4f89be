// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Integration: EtcdStore against real etcd members (/usr/bin/etcd, etcd 3.4) on 127.0.0.1.
// Each test starts its own cluster on fresh ports and a fresh data directory; etcd is killed
// with SIGKILL where a test needs an outage. Skipped when etcd is not installed.

#include "metad/store/etcd_store.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/metad/etcd_process.h"

namespace ufc::metad {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestEtcd;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

// What a watcher was told, with the Store contract checked as it arrives: revisions strictly
// increase across calls, every event lies in (previous revision, revision], a reset never
// goes back, and callbacks never overlap.
class Recorder {
 public:
  explicit Recorder(uint64_t after) : last_(after) {}

  StoreWatcher watcher() {
    StoreWatcher watcher;
    watcher.on_events = [this](const std::vector<StoreEvent>& events, uint64_t revision) {
      Enter enter(this);
      absl::MutexLock lock(&mu_);
      if (revision <= last_) {
        violations_.push_back(absl::StrCat("batch at ", revision, " after ", last_));
      }
      uint64_t previous = last_;
      for (const StoreEvent& event : events) {
        if (event.revision <= last_ || event.revision > revision || event.revision < previous) {
          violations_.push_back(absl::StrCat("event ", event.name, " at ", event.revision,
                                             " in a batch (", last_, ", ", revision, "]"));
        }
        previous = event.revision;
        events_.push_back(event);
      }
      batches_.push_back(revision);
      last_ = revision;
    };
    watcher.on_reset = [this](const StoreSnapshot& snapshot) {
      Enter enter(this);
      absl::MutexLock lock(&mu_);
      if (snapshot.revision < last_) {
        violations_.push_back(absl::StrCat("reset to ", snapshot.revision, " after ", last_));
      }
      resets_.push_back(snapshot);
      last_ = snapshot.revision;
    };
    watcher.on_availability = [this](bool available) {
      Enter enter(this);
      absl::MutexLock lock(&mu_);
      availability_.push_back(available);
    };
    return watcher;
  }

  // Polls `done` (under the lock) until it holds or `timeout` passes.
  bool wait(const std::function<bool(Recorder&)>& done,
            absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time give_up = absl::Now() + timeout;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (done(*this)) return true;
      }
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  bool wait_events(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    return wait([n](Recorder& r) { return r.events_.size() >= n; }, timeout);
  }

  std::vector<StoreEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::vector<uint64_t> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  std::vector<StoreSnapshot> resets() {
    absl::MutexLock lock(&mu_);
    return resets_;
  }
  std::vector<bool> availability() {
    absl::MutexLock lock(&mu_);
    return availability_;
  }
  std::vector<std::string> violations() {
    absl::MutexLock lock(&mu_);
    return violations_;
  }

  // Accessible to wait() predicates (called under the lock).
  std::vector<StoreEvent> events_;
  std::vector<StoreSnapshot> resets_;
  std::vector<bool> availability_;

 private:
  struct Enter {
    explicit Enter(Recorder* r) : r(r) {
      if (r->inside_.exchange(true)) {
        absl::MutexLock lock(&r->mu_);
        r->violations_.push_back("callbacks overlap");
      }
    }
    ~Enter() { r->inside_.store(false); }
    Recorder* r;
  };

  absl::Mutex mu_;
  std::atomic<bool> inside_{false};
  uint64_t last_;
  std::vector<uint64_t> batches_;
  std::vector<std::string> violations_;
};

// One event as a comparable tuple: name, deleted, value, revision.
using Event = std::tuple<std::string, bool, std::string, uint64_t>;
std::vector<Event> as_tuples(const std::vector<StoreEvent>& events) {
  std::vector<Event> out;
  for (const StoreEvent& e : events) out.emplace_back(e.name, e.deleted, e.value, e.revision);
  return out;
}
Event put_event(std::string name, std::string value, uint64_t revision) {
  return {std::move(name), false, std::move(value), revision};
}
Event delete_event(std::string name, uint64_t revision) {
  return {std::move(name), true, "", revision};
}

// Polls `done` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

std::map<std::string, std::pair<std::string, uint64_t>> by_name(const StoreSnapshot& snapshot) {
  std::map<std::string, std::pair<std::string, uint64_t>> out;
  for (const StoredService& s : snapshot.services) out[s.name] = {s.value, s.mod_revision};
  return out;
}

std::vector<std::string> sorted_clients(EtcdStore& store) {
  absl::StatusOr<std::vector<std::string>> clients = store.list_clients();
  EXPECT_TRUE(clients.ok()) << clients.status();
  std::vector<std::string> out = clients.ok() ? *clients : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void start_etcd(int members = 1) {
    if (!testing::etcd_installed()) GTEST_SKIP() << testing::kEtcdBinary << " is not installed";
    etcd_ = std::make_unique<TestEtcd>(members);
    ASSERT_TRUE(etcd_->start());
  }
  void SetUp() override { start_etcd(); }

  std::unique_ptr<EtcdStore> store(std::string server_id = "s1",
                                   const std::function<void(EtcdStore::Options&)>& edit = {}) {
    EtcdStore::Options options;
    options.endpoints = etcd_->endpoints();
    options.server_id = std::move(server_id);
    if (edit) edit(options);
    absl::StatusOr<std::unique_ptr<EtcdStore>> made = EtcdStore::create(std::move(options));
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *std::move(made) : nullptr;
  }

  std::unique_ptr<TestEtcd> etcd_;
};

TEST_F(EtcdStoreTest, PutIsLoadedAtTheRevisionItReturned) {
  auto store = this->store();
  absl::StatusOr<uint64_t> first = store->put("echo", "v1", std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string binary("a\0b\xff", 4);
  absl::StatusOr<uint64_t> second = store->put("echo", binary, std::nullopt);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(*second, *first);
  absl::StatusOr<uint64_t> other = store->put("other", "o", std::nullopt);
  ASSERT_TRUE(other.ok()) << other.status();

  absl::StatusOr<StoreSnapshot> snapshot = store->load();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->revision, *other);
  EXPECT_THAT(
      by_name(*snapshot),
      UnorderedElementsAre(std::pair{std::string("echo"), std::pair{binary, *second}},
                           std::pair{std::string("other"), std::pair{std::string("o"), *other}}));
}

TEST_F(EtcdStoreTest, CompareAndSwapOnTheModRevision) {
  auto store = this->store();
  absl::StatusOr<uint64_t> created = store->put("a", "v1", /*expected=*/0);
  ASSERT_TRUE(created.ok()) << created.status();

  absl::StatusOr<uint64_t> again = store->put("a", "v2", /*expected=*/0);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      again.status().message(),
      HasSubstr(absl::StrCat("expected no such service, but the current version is ", *created)));

  absl::StatusOr<uint64_t> swapped = store->put("a", "v2", *created);
  ASSERT_TRUE(swapped.ok()) << swapped.status();
  EXPECT_GT(*swapped, *created);

  absl::StatusOr<uint64_t> stale = store->put("a", "v3", *created);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(),
              HasSubstr(absl::StrCat("expected version ", *created, ", but the current version is ",
                                     *swapped)));

  absl::StatusOr<uint64_t> missing = store->put("b", "v", /*expected=*/5);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("expected version 5, but it does not exist"));

  absl::StatusOr<StoreSnapshot> snapshot = store->load();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_THAT(by_name(*snapshot),
              ElementsAre(std::pair{std::string("a"), std::pair{std::string("v2"), *swapped}}));
}

TEST_F(EtcdStoreTest, RemoveFollowsTheSameRuleAndSaysNotFound) {
  auto store = this->store();
  EXPECT_EQ(store->remove("ghost", std::nullopt).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->remove("ghost", 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->remove("ghost", 7).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<uint64_t> written = store->put("a", "v", std::nullopt);
  ASSERT_TRUE(written.ok()) << written.status();
  absl::StatusOr<uint64_t> wrong = store->remove("a", *written + 100);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong.status().message(), HasSubstr(absl::StrCat("current version is ", *written)));
  EXPECT_EQ(store->remove("a", 0).status().code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<uint64_t> removed = store->remove("a", *written);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_GT(*removed, *written);
  EXPECT_EQ(store->remove("a", std::nullopt).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->remove("a", *written).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<uint64_t> back = store->put("a", "w", std::nullopt);
  ASSERT_TRUE(back.ok());
  absl::StatusOr<uint64_t> unconditional = store->remove("a", std::nullopt);
  ASSERT_TRUE(unconditional.ok()) << unconditional.status();
  absl::StatusOr<StoreSnapshot> snapshot = store->load();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_TRUE(snapshot->services.empty());
  EXPECT_EQ(snapshot->revision, *unconditional);
}

TEST_F(EtcdStoreTest, WritesThroughOneStoreReachAnotherStoresWatcherInOrder) {
  auto writer = store("s1");
  auto reader = store("s2");
  absl::StatusOr<StoreSnapshot> base = reader->load();
  ASSERT_TRUE(base.ok()) << base.status();
  Recorder recorder(base->revision);
  ASSERT_TRUE(reader->watch(base->revision, recorder.watcher()).ok());
  EXPECT_EQ(reader->watch(base->revision, recorder.watcher()).code(),
            absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<uint64_t> x = writer->put("x", "1", std::nullopt);
  absl::StatusOr<uint64_t> y = writer->put("y", "2", 0);
  // The client registry moves etcd's revision without touching a service.
  ASSERT_TRUE(writer->publish_clients("s1", {{"c1", "status"}}, {}).ok());
  absl::StatusOr<uint64_t> gone = writer->remove("x", *x);
  absl::StatusOr<uint64_t> y2 = writer->put("y", "3", *y);
  ASSERT_TRUE(x.ok() && y.ok() && gone.ok() && y2.ok());

  ASSERT_TRUE(recorder.wait_events(4)) << recorder.events().size();
  EXPECT_THAT(as_tuples(recorder.events()),
              ElementsAre(put_event("x", "1", *x), put_event("y", "2", *y),
                          delete_event("x", *gone), put_event("y", "3", *y2)));
  // Each batch ends at a write's revision (one response per write once the watch is synced,
  // fewer if it caught up), never at the client registry's.
  const std::vector<uint64_t> batches = recorder.batches();
  ASSERT_FALSE(batches.empty());
  for (uint64_t revision : batches) EXPECT_THAT(revision, ::testing::AnyOf(*x, *y, *gone, *y2));
  EXPECT_EQ(batches.back(), *y2);
  EXPECT_THAT(recorder.violations(), ::testing::IsEmpty());
  EXPECT_TRUE(recorder.resets().empty());
  EXPECT_TRUE(recorder.availability().empty());
}

// etcd 3.4 sends a watcher that is behind at most 1000 revisions per response, each with
// the store's current revision in its header, more responses following. Passing that header
// revision on would claim revisions whose events are still to come.
TEST_F(EtcdStoreTest, ACatchUpOfMoreThanAThousandRevisionsArrivesWholeAndInOrder) {
  auto writer = store("s1");
  absl::StatusOr<StoreSnapshot> base = writer->load();
  ASSERT_TRUE(base.ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;  // 1200 revisions
  std::vector<std::vector<Event>> written(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = absl::StrCat("s", t, "-", i);
        absl::StatusOr<uint64_t> revision = writer->put(name, "v", std::nullopt);
        if (revision.ok()) written[t].push_back(put_event(name, "v", *revision));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<Event> all;
  for (const auto& per_thread : written)
    all.insert(all.end(), per_thread.begin(), per_thread.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  std::sort(all.begin(), all.end(),
            [](const Event& a, const Event& b) { return std::get<3>(a) < std::get<3>(b); });
  // Past the last service write, so the last response's header is ahead of its events.
  ASSERT_TRUE(writer->publish_clients("s1", {{"c", "x"}}, {}).ok());

  auto reader = store("s2");
  Recorder recorder(base->revision);
  ASSERT_TRUE(reader->watch(base->revision, recorder.watcher()).ok());
  ASSERT_TRUE(recorder.wait_events(all.size())) << recorder.events().size();
  EXPECT_EQ(as_tuples(recorder.events()), all);
  EXPECT_THAT(recorder.violations(), ::testing::IsEmpty());
  EXPECT_TRUE(recorder.resets().empty());
  const std::vector<uint64_t> batches = recorder.batches();
  ASSERT_GE(batches.size(), 2u);
  // Each response ends at its last event: the full first one too, though its header says the
  // current revision.
  EXPECT_EQ(batches.front(), std::get<3>(all[999]));
  EXPECT_EQ(batches.back(), std::get<3>(all.back()));
}

// The client registry writes to etcd every second or so. The global version must not move
// with it: a client that saw server B's version would refuse server A, which loaded a
// moment earlier, as rolled back.
TEST_F(EtcdStoreTest, ServersAgreeOnTheGlobalVersionWhateverTheRegistryWrites) {
  auto a = store("s1");
  auto b = store("s2");
  absl::StatusOr<uint64_t> written = a->put("echo", "1", std::nullopt);
  ASSERT_TRUE(written.ok());
  absl::StatusOr<StoreSnapshot> at_a = a->load();
  ASSERT_TRUE(at_a.ok());
  EXPECT_EQ(at_a->revision, *written);
  Recorder recorder(at_a->revision);
  ASSERT_TRUE(a->watch(at_a->revision, recorder.watcher()).ok());

  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(b->publish_clients("s2", {{"c", absl::StrCat("status-", i)}}, {}).ok());
  }
  EXPECT_EQ(b->remove("ghost", std::nullopt).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<StoreSnapshot> at_b = b->load();
  ASSERT_TRUE(at_b.ok());
  EXPECT_EQ(at_b->revision, at_a->revision);

  absl::StatusOr<uint64_t> next = b->put("echo", "2", *written);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_THAT(recorder.batches(), ElementsAre(*next));
  EXPECT_EQ(a->load()->revision, *next);
  EXPECT_EQ(b->load()->revision, *next);
}

TEST_F(EtcdStoreTest, WatchResumesAfterEtcdIsKilledAndRestarted) {
  auto store = this->store("s1", [](EtcdStore::Options& o) { o.call_timeout = absl::Seconds(1); });
  absl::StatusOr<StoreSnapshot> base = store->load();
  ASSERT_TRUE(base.ok());
  Recorder recorder(base->revision);
  ASSERT_TRUE(store->watch(base->revision, recorder.watcher()).ok());
  absl::StatusOr<uint64_t> before = store->put("before", "1", std::nullopt);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(recorder.wait_events(1));

  etcd_->kill(0);
  ASSERT_TRUE(recorder.wait([](Recorder& r) { return !r.availability_.empty(); }));
  EXPECT_THAT(recorder.availability(), ElementsAre(false));

  // Down: refused within about the call timeout, naming the member and gRPC's error.
  const absl::Time start = absl::Now();
  absl::StatusOr<uint64_t> lost = store->put("during", "x", std::nullopt);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  EXPECT_THAT(lost.status().message(), HasSubstr(etcd_->endpoint(0)));
  EXPECT_THAT(lost.status().message(), HasSubstr("UNAVAILABLE"));
  EXPECT_LT(took, absl::Milliseconds(1500));

  ASSERT_TRUE(etcd_->restart(0));
  ASSERT_TRUE(recorder.wait([](Recorder& r) {
    return !r.availability_.empty() && r.availability_.back();
  })) << ::testing::PrintToString(recorder.availability());

  absl::StatusOr<uint64_t> after;
  ASSERT_TRUE(eventually([&] { return (after = store->put("after", "2", std::nullopt)).ok(); },
                         absl::Seconds(5)))
      << after.status();
  absl::StatusOr<uint64_t> after2 = store->put("after2", "3", std::nullopt);
  ASSERT_TRUE(after2.ok());
  ASSERT_TRUE(recorder.wait_events(3));
  absl::SleepFor(absl::Milliseconds(200));  // room for a duplicate to show up
  // "during" was refused, so it must never appear; nothing twice.
  EXPECT_THAT(as_tuples(recorder.events()),
              ElementsAre(put_event("before", "1", *before), put_event("after", "2", *after),
                          put_event("after2", "3", *after2)));
  const std::vector<bool> availability = recorder.availability();
  EXPECT_EQ(availability.front(), false);
  EXPECT_EQ(availability.back(), true);
  EXPECT_THAT(recorder.violations(), ::testing::IsEmpty());
  EXPECT_TRUE(recorder.resets().empty());
}

TEST_F(EtcdStoreTest, WatchingFromACompactedRevisionResetsThenContinues) {
  auto writer = store("s1");
  absl::StatusOr<StoreSnapshot> base = writer->load();
  ASSERT_TRUE(base.ok());
  absl::StatusOr<uint64_t> a = writer->put("a", "1", std::nullopt);
  absl::StatusOr<uint64_t> b = writer->put("b", "2", std::nullopt);
  absl::StatusOr<uint64_t> gone = writer->remove("a", std::nullopt);
  absl::StatusOr<uint64_t> c = writer->put("c", "3", std::nullopt);
  ASSERT_TRUE(a.ok() && b.ok() && gone.ok() && c.ok());
  ASSERT_TRUE(etcd_->compact(static_cast<int64_t>(*c)));

  // A server that stopped at `base` comes back after the compaction.
  auto reader = store("s2");
  Recorder recorder(base->revision);
  ASSERT_TRUE(reader->watch(base->revision, recorder.watcher()).ok());
  ASSERT_TRUE(recorder.wait([](Recorder& r) { return !r.resets_.empty(); }));
  const StoreSnapshot reset = recorder.resets().front();
  EXPECT_EQ(reset.revision, *c);  // the last service write's, not the compaction's
  EXPECT_THAT(by_name(reset),
              UnorderedElementsAre(std::pair{std::string("b"), std::pair{std::string("2"), *b}},
                                   std::pair{std::string("c"), std::pair{std::string("3"), *c}}));

  absl::StatusOr<uint64_t> d = writer->put("d", "4", std::nullopt);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_THAT(as_tuples(recorder.events()), ElementsAre(put_event("d", "4", *d)));
  EXPECT_THAT(recorder.violations(), ::testing::IsEmpty());
  EXPECT_EQ(recorder.resets().size(), 1u);
  // A compaction is not an outage.
  EXPECT_TRUE(recorder.availability().empty());
}

// The usual start of a server on an etcd whose history the client registry's churn got
// compacted: load(), then watch() from the snapshot. No reset is needed: the load saw that no
// service changed between the snapshot's revision and the revision it read at.
TEST_F(EtcdStoreTest, WatchingFromAFreshLoadNeedsNoResetAfterRegistryChurnWasCompacted) {
  auto writer = store("s1");
  absl::StatusOr<uint64_t> a = writer->put("a", "1", std::nullopt);
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(writer->publish_clients("s1", {{"c", absl::StrCat(i)}}, {}).ok());
  }
  auto reader = store("s2");
  absl::StatusOr<StoreSnapshot> base = reader->load();
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->revision, *a);
  const int64_t now = etcd_->revision();
  ASSERT_GT(now, static_cast<int64_t>(*a) + 1);
  ASSERT_TRUE(etcd_->compact(now));  // past base + 1: that history is gone

  Recorder recorder(base->revision);
  ASSERT_TRUE(reader->watch(base->revision, recorder.watcher()).ok());
  absl::StatusOr<uint64_t> b = writer->put("b", "2", std::nullopt);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_THAT(as_tuples(recorder.events()), ElementsAre(put_event("b", "2", *b)));
  EXPECT_TRUE(recorder.resets().empty());
  EXPECT_THAT(recorder.violations(), ::testing::IsEmpty());
}

TEST_F(EtcdStoreTest, ClientsOfTwoServersAreListedTogether) {
  auto one = store("s1");
  auto two = store("s2");
  ASSERT_TRUE(one->shares_clients());
  ASSERT_TRUE(one->publish_clients("s1", {{"c1", "one-1"}, {"c2", "one-2"}}, {}).ok());
  ASSERT_TRUE(two->publish_clients("s2", {{"c1", "two-1"}}, {}).ok());
  EXPECT_THAT(sorted_clients(*one), ElementsAre("one-1", "one-2", "two-1"));
  EXPECT_THAT(sorted_clients(*two), ElementsAre("one-1", "one-2", "two-1"));

  ASSERT_TRUE(one->publish_clients("s1", {{"c2", "one-2b"}}, {"c1"}).ok());
  EXPECT_THAT(sorted_clients(*two), ElementsAre("one-2b", "two-1"));

  absl::Status foreign = one->publish_clients("s2", {{"c9", "x"}}, {});
  EXPECT_EQ(foreign.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(foreign.message(), HasSubstr("\"s2\" is not this store's"));
}

TEST_F(EtcdStoreTest, PublishesMoreClientsThanOneTransactionHolds) {
  auto one = store("s1");
  std::vector<std::pair<std::string, std::string>> many;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    many.emplace_back(absl::StrCat("c", i), absl::StrCat("status-", 1000 + i));
    expected.push_back(absl::StrCat("status-", 1000 + i));
  }
  ASSERT_TRUE(one->publish_clients("s1", many, {}).ok());
  EXPECT_THAT(sorted_clients(*one), UnorderedElementsAreArray(expected));
  std::vector<std::string> all_ids;
  for (const auto& [id, value] : many) all_ids.push_back(id);
  ASSERT_TRUE(one->publish_clients("s1", {}, all_ids).ok());
  EXPECT_TRUE(sorted_clients(*one).empty());
}

TEST_F(EtcdStoreTest, ACrashedServersClientsVanishWithItsLease) {
  auto survivor = store("s1");
  auto crashed = store("s2", [](EtcdStore::Options& o) {
    o.lease_ttl = absl::Seconds(2);
    o.revoke_lease_on_stop = false;  // as if the process died
  });
  auto observer = store("s3");
  ASSERT_TRUE(survivor->publish_clients("s1", {{"a", "alive"}}, {}).ok());
  ASSERT_TRUE(crashed->publish_clients("s2", {{"b", "doomed"}}, {}).ok());
  // Kept alive past its TTL while the server lives.
  absl::SleepFor(absl::Seconds(3));
  EXPECT_THAT(sorted_clients(*observer), ElementsAre("alive", "doomed"));

  crashed->stop();
  EXPECT_THAT(sorted_clients(*observer), ElementsAre("alive", "doomed"));
  const absl::Time stopped = absl::Now();
  ASSERT_TRUE(eventually([&] { return sorted_clients(*observer).size() == 1; }, absl::Seconds(6)));
  EXPECT_THAT(sorted_clients(*observer), ElementsAre("alive"));
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(4));
  EXPECT_EQ(crashed->publish_clients("s2", {{"b", "x"}}, {}).code(),
            absl::StatusCode::kFailedPrecondition);

  // A clean stop revokes the lease: gone at once.
  survivor->stop();
  EXPECT_TRUE(sorted_clients(*observer).empty());
}

TEST_F(EtcdStoreTest, ALostLeaseIsReplacedAndEveryClientPutAgain) {
  auto one = store("s1", [](EtcdStore::Options& o) { o.lease_ttl = absl::Seconds(2); });
  ASSERT_TRUE(one->publish_clients("s1", {{"a", "A"}, {"b", "B"}}, {}).ok());
  const int64_t lease = etcd_->lease_of("/ufc/clients/s1/a");
  ASSERT_NE(lease, 0);
  ASSERT_TRUE(etcd_->revoke(lease));  // what an outage longer than the TTL does
  EXPECT_TRUE(sorted_clients(*one).empty());

  // The next keepalive finds the lease gone; the store grants another and puts both again.
  ASSERT_TRUE(eventually([&] { return sorted_clients(*one).size() == 2; }, absl::Seconds(5)));
  EXPECT_THAT(sorted_clients(*one), ElementsAre("A", "B"));
  const int64_t replaced = etcd_->lease_of("/ufc/clients/s1/a");
  EXPECT_NE(replaced, 0);
  EXPECT_NE(replaced, lease);
  EXPECT_EQ(etcd_->lease_of("/ufc/clients/s1/b"), replaced);
}

TEST_F(EtcdStoreTest, ClientsPublishedWhileEtcdWasDownReachItWhenItIsBack) {
  auto one = store("s1", [](EtcdStore::Options& o) { o.call_timeout = absl::Seconds(1); });
  auto observer = store("s2");
  ASSERT_TRUE(one->publish_clients("s1", {{"a", "A"}}, {}).ok());
  etcd_->kill(0);
  absl::Status down = one->publish_clients("s1", {{"b", "B"}}, {"a"});
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  ASSERT_TRUE(etcd_->restart(0));
  // No second publish: the store's thread writes the change.
  ASSERT_TRUE(eventually(
      [&] {
        absl::StatusOr<std::vector<std::string>> clients = observer->list_clients();
        return clients.ok() && *clients == std::vector<std::string>{"B"};
      },
      absl::Seconds(10)))
      << ::testing::PrintToString(sorted_clients(*observer));
}

TEST_F(EtcdStoreTest, PutThroughput) {
  auto store = this->store();
  // One caller: each put is one raft commit (an fsync on this disk).
  int sequential = 0;
  uint64_t last = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(1)) {
    absl::StatusOr<uint64_t> revision = store->put("bench", "value", std::nullopt);
    ASSERT_TRUE(revision.ok()) << revision.status();
    ASSERT_GT(*revision, last);
    last = *revision;
    ++sequential;
  }
  const double one = sequential / absl::ToDoubleSeconds(absl::Now() - start);

  // Eight callers on one store: etcd batches concurrent proposals into one commit.
  constexpr int kThreads = 8;
  std::vector<std::vector<uint64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const absl::Time start8 = absl::Now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (absl::Now() - start8 < absl::Seconds(1)) {
        absl::StatusOr<uint64_t> revision =
            store->put(absl::StrCat("bench-", t), "value", std::nullopt);
        if (!revision.ok()) {
          ++failures;
          return;
        }
        revisions[t].push_back(*revision);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start8);
  std::set<uint64_t> distinct;
  size_t total = 0;
  for (const auto& per_thread : revisions) {
    total += per_thread.size();
    distinct.insert(per_thread.begin(), per_thread.end());
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(distinct.size(), total);  // every put its own revision
  std::printf("EtcdStore::put: %.0f puts/s from one thread, %.0f puts/s from %d threads\n", one,
              total / elapsed, kThreads);
  RecordProperty("puts_per_second_1_thread", static_cast<int>(one));
  RecordProperty("puts_per_second_8_threads", static_cast<int>(total / elapsed));
}

class EtcdClusterFailoverTest : public EtcdStoreTest {
 protected:
  void SetUp() override { start_etcd(3); }
};

TEST_F(EtcdClusterFailoverTest, WritesAndTheWatchMoveToAnotherMember) {
  auto store = this->store();
  absl::StatusOr<StoreSnapshot> base = store->load();
  ASSERT_TRUE(base.ok()) << base.status();
  Recorder recorder(base->revision);
  ASSERT_TRUE(store->watch(base->revision, recorder.watcher()).ok());
  absl::StatusOr<uint64_t> first = store->put("first", "1", std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(recorder.wait_events(1));

  // The store talks to the first endpoint (it answered): kill it.
  etcd_->kill(0);
  std::vector<Event> written = {put_event("first", "1", *first)};
  int refused = 0;
  for (int i = 0; i < 5; ++i) {
    const std::string name = absl::StrCat("next", i);
    absl::StatusOr<uint64_t> revision = store->put(name, "v", std::nullopt);
    if (revision.ok()) {
      written.push_back(put_event(name, "v", *revision));
    } else {
      // Only while the other two elect a leader (if the first one led), and never a write
      // that might have happened as "unavailable".
      EXPECT_THAT(revision.status().code(), ::testing::AnyOf(absl::StatusCode::kUnavailable,
                                                             absl::StatusCode::kDeadlineExceeded))
          << revision.status();
      ++refused;
      --i;
      ASSERT_LT(refused, 5) << revision.status();
    }
  }
  ASSERT_TRUE(recorder.wait_events(written.size())) << recorder.events().size();
  absl::SleepFor(absl::Milliseconds(200));
  std::vector<Event> seen = as_tuples(recorder.events());
  EXPECT_EQ(seen, written);
  EXPECT_THAT(recorder.violations(), ::testing::IsEmpty());
  ASSERT_TRUE(recorder.wait(
      [](Recorder& r) { return !r.availability_.empty() && r.availability_.back(); }));

  absl::StatusOr<StoreSnapshot> loaded = store->load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->services.size(), 6u);
  ASSERT_TRUE(store->publish_clients("s1", {{"c", "client"}}, {}).ok());
  EXPECT_THAT(sorted_clients(*store), ElementsAre("client"));
}

TEST(EtcdStoreOptionsTest, RefusesBadOptionsNamingTheField) {
  EtcdStore::Options options;
  options.server_id = "s1";
  absl::StatusOr<std::unique_ptr<EtcdStore>> made = EtcdStore::create(options);
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("endpoints: etcd: no endpoints given"));

  options.endpoints = {"https://127.0.0.1:2379"};  // TLS: fine
  EXPECT_TRUE(EtcdStore::create(options).ok());
  options.endpoints = {"http://127.0.0.1:2379"};
  options.security.ca_pem = "-----BEGIN CERTIFICATE-----";  // TLS asked for, plaintext given
  EXPECT_THAT(EtcdStore::create(options).status().message(), HasSubstr("plaintext, but TLS"));
  options.security = {};
  options.security.cert_pem = "-----BEGIN CERTIFICATE-----";
  EXPECT_THAT(EtcdStore::create(options).status().message(),
              HasSubstr("a client certificate needs its key"));
  options.security = {};
  options.security.password = "secret";
  EXPECT_THAT(EtcdStore::create(options).status().message(),
              HasSubstr("a password without a user"));
  options.security = {};
  options.endpoints = {"127.0.0.1"};
  EXPECT_THAT(EtcdStore::create(options).status().message(), HasSubstr("want host:port"));
  options.endpoints = {"127.0.0.1:2379", "http://127.0.0.1:2379"};
  EXPECT_THAT(EtcdStore::create(options).status().message(), HasSubstr("is given twice"));

  options.endpoints = {"127.0.0.1:2379"};
  options.server_id = "a/b";
  EXPECT_THAT(EtcdStore::create(options).status().message(), HasSubstr("server_id:"));
  options.server_id = "s1";
  options.call_timeout = absl::ZeroDuration();
  EXPECT_THAT(EtcdStore::create(options).status().message(), HasSubstr("call_timeout:"));
  options.call_timeout = absl::Seconds(1);
  options.lease_ttl = -absl::Seconds(1);
  EXPECT_THAT(EtcdStore::create(options).status().message(), HasSubstr("lease_ttl:"));
  options.lease_ttl = absl::Seconds(1);
  // Valid, and nothing contacts etcd until a call.
  made = EtcdStore::create(options);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*made)->put("", "v", std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*made)->watch(0, StoreWatcher{}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ufc::metad
