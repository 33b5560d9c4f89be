// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/epoch.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "src/common/thread_shard.h"

namespace ufc::internal {
namespace {

struct Tracked {
  explicit Tracked(std::atomic<int>* deleted, int value = 42) : deleted(deleted), value(value) {}
  ~Tracked() { deleted->fetch_add(1); }
  std::atomic<int>* deleted;
  int value;
};

TEST(EpochTest, RetiredObjectIsFreedOnceNoReaderIsInside) {
  EpochDomain& domain = EpochDomain::global();
  domain.drain();
  std::atomic<int> deleted{0};
  domain.retire(new Tracked(&deleted));
  domain.reclaim();
  EXPECT_EQ(deleted.load(), 1);
  EXPECT_EQ(domain.pending(), 0u);
}

TEST(EpochTest, ReaderInsideKeepsObjectAliveUntilItLeaves) {
  EpochDomain& domain = EpochDomain::global();
  std::atomic<int> deleted{0};
  std::atomic<Tracked*> published{new Tracked(&deleted)};
  std::atomic<bool> inside{false}, leave{false};
  std::thread reader([&] {
    EpochDomain::Guard guard;
    Tracked* t = published.load(std::memory_order_acquire);
    inside = true;
    while (!leave) std::this_thread::yield();
    EXPECT_EQ(t->value, 42);  // still valid: we are inside the section that loaded it
  });
  while (!inside) std::this_thread::yield();
  Tracked* old = published.exchange(new Tracked(&deleted, 7));
  domain.retire(old);
  domain.reclaim();
  EXPECT_EQ(deleted.load(), 0) << "freed while a reader could still hold it";
  leave = true;
  reader.join();
  domain.drain();
  EXPECT_EQ(deleted.load(), 1);
  delete published.load();
}

TEST(EpochTest, ReaderEnteringAfterRetireDoesNotBlockReclaim) {
  EpochDomain& domain = EpochDomain::global();
  std::atomic<int> deleted{0};
  domain.retire(new Tracked(&deleted));
  EpochDomain::Guard guard;  // entered after the retire: cannot hold the old object
  domain.reclaim();
  EXPECT_EQ(deleted.load(), 1);
}

TEST(EpochTest, SectionsNest) {
  EpochDomain& domain = EpochDomain::global();
  std::atomic<int> deleted{0};
  std::atomic<bool> inner_done{false}, retired{false};
  std::thread reader([&] {
    EpochDomain::Guard outer;
    { EpochDomain::Guard inner; }
    inner_done = true;
    while (!retired) std::this_thread::yield();
  });
  while (!inner_done) std::this_thread::yield();
  domain.retire(new Tracked(&deleted));
  domain.reclaim();
  EXPECT_EQ(deleted.load(), 0) << "leaving the inner section must not end the outer one";
  retired = true;
  reader.join();
  domain.drain();
  EXPECT_EQ(deleted.load(), 1);
}

// try_enter(): nothing for a thread without a record or inside a section already (the
// caller takes a Guard then); otherwise a section like a Guard's, which keeps what it may
// have loaded until leave(). A thread with a record has its thread_shard() assigned.
TEST(EpochTest, TryEnterOpensAnOutermostSectionOnly) {
  EpochDomain& domain = EpochDomain::global();
  std::atomic<int> deleted{0};
  std::atomic<bool> entered{false}, retired{false};
  std::atomic<int> fresh_thread = -1, nested = -1;
  std::thread reader([&] {
    fresh_thread = domain.try_enter() == nullptr;  // no record yet: nothing entered
    { EpochDomain::Guard registers; }
    EXPECT_NE(thread_shard_internal::shard, UINT32_MAX);
    EpochDomain::Record* section = domain.try_enter();
    ASSERT_NE(section, nullptr);
    nested = domain.try_enter() == nullptr;  // inside: nothing more entered
    entered = true;
    while (!retired) std::this_thread::yield();
    EpochDomain::leave(section);
  });
  while (!entered) std::this_thread::yield();
  domain.retire(new Tracked(&deleted));
  domain.reclaim();
  EXPECT_EQ(deleted.load(), 0) << "the section try_enter() opened must keep the object";
  retired = true;
  reader.join();
  domain.drain();
  EXPECT_EQ(deleted.load(), 1);
  EXPECT_EQ(fresh_thread.load(), 1);
  EXPECT_EQ(nested.load(), 1);
}

// Readers dereference whatever is published while a writer keeps replacing and retiring
// it. Under ASan any premature free is a heap-use-after-free report.
TEST(EpochTest, StressReadersNeverSeeFreedObjects) {
  EpochDomain& domain = EpochDomain::global();
  std::atomic<int> deleted{0};
  std::atomic<Tracked*> published{new Tracked(&deleted)};
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  std::atomic<long> reads{0};
  std::atomic<int> started{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      long local = 0;
      started.fetch_add(1);
      do {
        EpochDomain::Guard guard;
        Tracked* p = published.load(std::memory_order_acquire);
        ASSERT_EQ(p->value, 42);
        ++local;
      } while (!stop.load(std::memory_order_relaxed));
      reads += local;
    });
  }
  // On a loaded machine the writer could otherwise finish before any reader ran.
  while (started.load() < 4) std::this_thread::yield();
  for (int i = 0; i < 20000; ++i) {
    domain.retire(published.exchange(new Tracked(&deleted)));
    if (i % 16 == 0) domain.reclaim();
  }
  stop = true;
  for (auto& t : readers) t.join();
  domain.drain();
  EXPECT_EQ(deleted.load(), 20000);
  EXPECT_GT(reads.load(), 0);
  delete published.load();
}

}  // namespace
}  // namespace ufc::internal
