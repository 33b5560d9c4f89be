// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Endpoint state: per-CPU shards (separate views, exact sums, no shared cache lines) and
// the lifetime rule (Picks keep an endpoint alive after its last snapshot; the graveyard
// frees it once the last Pick lets go).

#include "src/endpoint/endpoint.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/common/cpu_shard.h"
#include "src/endpoint/failure_window.h"
#include "tests/testing/seeded_random.h"
#include "tests/testing/sim_client.h"

namespace ufc::internal {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kStart = 1'000'000 * kMs;

EndpointRef make_endpoint(const std::string& address) {
  EndpointIdentity id;
  id.address = address;
  id.port = 80;
  return EndpointRef::adopt(new Endpoint(std::move(id)));
}

TEST(EndpointShardsTest, EachShardKeepsItsOwnViewAndTheSumsAreExact) {
  ASSERT_GE(CpuShards::count(), 2u) << "core_test runs with UFC_CPU_SHARDS=4";
  EndpointRef e = make_endpoint("10.0.0.1:80");
  for (int i = 0; i < 3; ++i) e->on_pick(0);
  e->on_pick(1);
  EXPECT_EQ(e->inflight(0), 3u);
  EXPECT_EQ(e->inflight(1), 1u);
  EXPECT_EQ(e->inflight(), 4u);

  e->on_report(0, OutcomeClass::kSuccess, 10000, kStart);
  e->on_report(0, OutcomeClass::kServerError, 10000, kStart);
  e->on_report(1, OutcomeClass::kConnectRefused, 30000, kStart);
  EXPECT_EQ(e->inflight(0), 1u);
  EXPECT_EQ(e->inflight(1), 0u);
  EXPECT_EQ(e->count(OutcomeClass::kSuccess), 1u);
  EXPECT_EQ(e->count(OutcomeClass::kServerError), 1u);
  EXPECT_EQ(e->count(OutcomeClass::kConnectRefused), 1u);
  EXPECT_EQ(e->requests(), 3u);
  EXPECT_EQ(e->latency_sum_us(), 50000u);
  // Latency views are per shard: shard 0 saw 10 ms, shard 1 saw 30 ms.
  EXPECT_FLOAT_EQ(e->ewma_latency_us(0, kStart, 2000 * kMs), 10000);
  EXPECT_FLOAT_EQ(e->ewma_latency_us(1, kStart, 2000 * kMs), 30000);
  // An idle view reads as unknown (0).
  EXPECT_EQ(e->ewma_latency_us(1, kStart + 3000 * kMs, 2000 * kMs), 0);
  EXPECT_NEAR(e->last_report_ns(kStart + 5 * kMs), kStart, 1.1 * kMs);

  for (int i = 0; i < 3; ++i) e->release(0, true);
  e->release(0, false);  // the fourth pick on shard 0 was never reported
  e->release(1, true);
  EXPECT_EQ(e->inflight(), 0u);
}

// What makes two threads scale: the records two shards write never share a cache line.
TEST(EndpointShardsTest, TwoShardsNeverWriteOneCacheLine) {
  ASSERT_GE(CpuShards::count(), 2u) << "core_test runs with UFC_CPU_SHARDS=4";
  const uint32_t shards = CpuShards::count();
  StatsArena& arena = StatsArena::global();
  std::vector<ShardStats*> slots;
  for (uint32_t i = 0; i < 2 * StatsArena::kSlotsPerChunk; ++i) slots.push_back(arena.allocate());
  std::vector<std::set<uintptr_t>> lines(shards);
  for (ShardStats* slot : slots) {
    for (uint32_t s = 0; s < shards; ++s) {
      const auto begin = reinterpret_cast<uintptr_t>(&slot[s * StatsArena::kSlotsPerChunk]);
      lines[s].insert(begin / 64);
      lines[s].insert((begin + sizeof(ShardStats) - 1) / 64);
    }
  }
  for (uint32_t s = 0; s < shards; ++s) {
    for (uint32_t t = s + 1; t < shards; ++t) {
      for (uintptr_t line : lines[s]) EXPECT_EQ(lines[t].count(line), 0u) << s << " vs " << t;
    }
  }
  for (ShardStats* slot : slots) arena.release(slot);
}

TEST(EndpointShardsTest, ReleasedSlotsComeBackZeroed) {
  StatsArena& arena = StatsArena::global();
  ShardStats* slot = arena.allocate();
  slot[0].counts[0].store(7);
  slot[(CpuShards::count() - 1) * StatsArena::kSlotsPerChunk].word.store(3);
  arena.release(slot);
  ShardStats* again = arena.allocate();
  ASSERT_EQ(again, slot);  // the lowest free slot goes first
  for (uint32_t s = 0; s < CpuShards::count(); ++s) {
    EXPECT_EQ(again[s * StatsArena::kSlotsPerChunk].counts[0].load(), 0u);
    EXPECT_EQ(again[s * StatsArena::kSlotsPerChunk].word.load(), 0u);
  }
  arena.release(again);
}

TEST(EndpointShardsTest, AnEmptiedChunkGoesBackToTheHeapButOneSpareStays) {
  StatsArena& arena = StatsArena::global();
  const size_t chunks = arena.chunks();
  const size_t in_use = arena.slots_in_use();
  std::vector<ShardStats*> slots;
  for (uint32_t i = 0; i < 3 * StatsArena::kSlotsPerChunk; ++i) slots.push_back(arena.allocate());
  EXPECT_EQ(arena.slots_in_use(), in_use + slots.size());
  EXPECT_GE(arena.chunks(), chunks + 2);
  for (ShardStats* slot : slots) arena.release(slot);
  EXPECT_EQ(arena.slots_in_use(), in_use);
  // Every chunk but one with room is freed again.
  EXPECT_LE(arena.chunks(), chunks + 1);
}

EndpointRef make_cold_endpoint(const std::string& address, bool histogram) {
  EndpointIdentity id;
  id.address = address;
  id.port = 80;
  return EndpointRef::adopt(new Endpoint(std::move(id), nullptr, histogram, /*live=*/false));
}

// Memory follows use: an endpoint built without records holds none until activated, reads
// as zeros meanwhile, and folds them into one record when they are given back, with every
// count, the latency sum, the histogram and the EWMA carried over both ways.
TEST(EndpointRecordsTest, ActivateReleaseAndActivateAgainKeepEveryCount) {
  StatsArena& stats = StatsArena::global();
  ShardArena<LatencyBuckets>& buckets = ShardArena<LatencyBuckets>::global();
  const size_t stats_before = stats.slots_in_use();
  const size_t buckets_before = buckets.slots_in_use();
  EndpointRef e = make_cold_endpoint("10.0.0.1:80", /*histogram=*/true);
  EXPECT_FALSE(e->live());
  EXPECT_EQ(stats.slots_in_use(), stats_before) << "no records before the first use";
  EXPECT_EQ(e->requests(), 0u);
  EXPECT_EQ(e->activity(), 0u);
  LatencyCounts hist;
  ASSERT_TRUE(e->latency_histogram(hist));
  EXPECT_EQ(hist[0], 0u);

  ASSERT_TRUE(e->activate());
  EXPECT_FALSE(e->activate()) << "once";
  EXPECT_TRUE(e->live());
  EXPECT_EQ(stats.slots_in_use(), stats_before + 1);
  EXPECT_EQ(buckets.slots_in_use(), buckets_before + 1);
  e->on_pick(0);
  e->on_pick(1);
  e->on_pick(2);
  e->on_report(0, OutcomeClass::kSuccess, 100, kStart);
  e->on_report(1, OutcomeClass::kServerError, 300, kStart);
  e->on_report(2, OutcomeClass::kConnectRefused, 1000, kStart);
  e->release(0, true);
  e->release(1, true);
  e->on_pick(3);  // still held: the records stay
  EXPECT_FALSE(e->release_records()) << "a Pick holds it";
  EXPECT_TRUE(e->live());
  e->release(3, false);
  e->release(2, true);
  const uint64_t activity = e->activity();
  EXPECT_NE(activity, 0u);
  const float ewma = e->ewma_latency_us();

  ASSERT_TRUE(e->release_records());
  EXPECT_FALSE(e->live());
  EXPECT_FALSE(e->release_records()) << "nothing left to give";
  EpochDomain::global().synchronize();  // the slots go back once no reader is left
  EXPECT_EQ(stats.slots_in_use(), stats_before);
  EXPECT_EQ(buckets.slots_in_use(), buckets_before);
  EXPECT_EQ(e->count(OutcomeClass::kSuccess), 1u);
  EXPECT_EQ(e->count(OutcomeClass::kServerError), 1u);
  EXPECT_EQ(e->count(OutcomeClass::kConnectRefused), 1u);
  EXPECT_EQ(e->requests(), 3u);
  EXPECT_EQ(e->latency_sum_us(), 1400u);
  const Endpoint::Totals t = e->totals();
  EXPECT_EQ(t.requests, 3u);
  EXPECT_EQ(t.answered, 2u);
  EXPECT_EQ(t.client_errors, 0u);
  EXPECT_EQ(t.server_errors, 1u);
  EXPECT_EQ(t.latency_sum_us, 1400u);
  EXPECT_EQ(e->inflight(), 0u);
  EXPECT_FLOAT_EQ(e->ewma_latency_us(), ewma);
  EXPECT_NEAR(e->last_report_ns(kStart + 5 * kMs), kStart, 1.1 * kMs);
  ASSERT_TRUE(e->latency_histogram(hist));
  EXPECT_EQ(hist[0] + hist[1] + hist[2], 3u);

  ASSERT_TRUE(e->activate());
  EXPECT_EQ(e->requests(), 3u) << "the folded counts continue in shard 0";
  EXPECT_EQ(e->latency_sum_us(), 1400u);
  e->on_pick(1);
  e->on_report(1, OutcomeClass::kSuccess, 200, kStart);
  e->release(1, true);
  EXPECT_EQ(e->count(OutcomeClass::kSuccess), 2u);
  EXPECT_EQ(e->requests(), 4u);
  EXPECT_EQ(e->totals().requests, 4u) << "live: summed over the shards";
  EXPECT_EQ(e->totals().latency_sum_us, 1600u);
  ASSERT_TRUE(e->latency_histogram(hist));
  uint64_t total = 0;
  for (uint64_t n : hist) total += n;
  EXPECT_EQ(total, 4u);
}

TEST(EndpointRecordsTest, ANewEndpointInheritsTheLatencyViewWithoutRecords) {
  EndpointRef old = make_endpoint("10.0.0.1:80");
  old->on_pick(0);
  old->on_report(0, OutcomeClass::kSuccess, 5000, kStart);
  old->release(0, true);
  EndpointRef next = make_cold_endpoint("10.0.0.1:80", /*histogram=*/false);
  next->inherit_latency_from(*old);
  EXPECT_FALSE(next->live());
  EXPECT_FLOAT_EQ(next->ewma_latency_us(), 5000);
  EXPECT_EQ(next->requests(), 0u) << "counts stay with the old endpoint";
  ASSERT_TRUE(next->activate());
  EXPECT_FLOAT_EQ(next->ewma_latency_us(0, kStart, 2000 * kMs), 5000);
}

TEST(EndpointLifetimeTest, APickKeepsTheEndpointAfterItsLastReference) {
  const size_t parked = Endpoint::graveyard_size();
  EndpointRef ref = make_endpoint("10.0.0.9:80");
  Endpoint* e = ref.get();
  e->on_pick(1 % CpuShards::count());
  ref = EndpointRef();  // the last structural reference: parked, not deleted
  EXPECT_EQ(Endpoint::graveyard_size(), parked + 1);
  Endpoint::sweep_graveyard();  // still held: stays
  EXPECT_EQ(Endpoint::graveyard_size(), parked + 1);
  // The Pick may still report and read its endpoint (ASan checks these touches).
  e->on_report(1 % CpuShards::count(), OutcomeClass::kSuccess, 1000, kStart);
  EXPECT_EQ(e->address(), "10.0.0.9:80");
  const ShardStats* slot = e->stats_base();
  e->release(1 % CpuShards::count(), true);
  Endpoint::sweep_graveyard();  // let go: deleted
  EXPECT_EQ(Endpoint::graveyard_size(), parked);
  ShardStats* again = StatsArena::global().allocate();
  EXPECT_EQ(again, slot);
  StatsArena::global().release(again);
}

TEST(EndpointLifetimeTest, WithoutPicksTheLastReferenceDeletesAtOnce) {
  const size_t parked = Endpoint::graveyard_size();
  EndpointRef ref = make_endpoint("10.0.0.10:80");
  const ShardStats* slot = ref->stats_base();
  ref->on_pick(0);
  ref->on_report(0, OutcomeClass::kSuccess, 1000, kStart);
  ref->release(0, true);
  ref = EndpointRef();
  EXPECT_EQ(Endpoint::graveyard_size(), parked);
  // Deleted: its records went back to the arena (the free list is LIFO), zeroed.
  ShardStats* again = StatsArena::global().allocate();
  EXPECT_EQ(again, slot);
  EXPECT_EQ(again->counts[0].load(), 0u);
  StatsArena::global().release(again);
}

TEST(EndpointLifetimeTest, APickOutlivesItsClientAndItsEndpointIsFreedAfterwards) {
  const size_t parked = Endpoint::graveyard_size();
  std::optional<Pick> pick;
  std::string address;
  {
    v1::ClientConfig config;
    *config.add_services() = testing::make_service("echo", 2, "round_robin", 1);
    testing::SimClient c(config);
    absl::StatusOr<Pick> p = c.client->pick({.service = "echo"});
    ASSERT_TRUE(p.ok());
    c.client->report(*p, Outcome::ok(absl::Milliseconds(1)));
    address = std::string(p->address());
    pick = *std::move(p);
  }
  // The client is gone; the reported Pick still shows its backend (ASan checks the read).
  EXPECT_EQ(pick->address(), address);
  EXPECT_EQ(Endpoint::graveyard_size(), parked + 1);
  pick.reset();
  Endpoint::sweep_graveyard();
  EXPECT_EQ(Endpoint::graveyard_size(), parked);
}

// --- Admission: what pick checks beyond the snapshot ---

// An endpoint that reports trips to `queue` under the default rule (5 of 10, 5 in a row).
EndpointRef watched_endpoint(const std::string& address, SuspectQueue* queue, TripGate* gate) {
  EndpointIdentity id;
  id.address = address;
  id.port = 80;
  EndpointRef e = EndpointRef::adopt(new Endpoint(std::move(id), queue));
  e->set_window_rule(WindowRule::pack(true, 10, 5, 5));
  e->set_trip_gate(gate);
  return e;
}

void refuse(Endpoint& e, int times) {
  for (int i = 0; i < times; ++i) {
    e.on_pick(0);
    e.on_report(0, OutcomeClass::kConnectRefused, 1000, kStart);
    e.release(0, true);
  }
}

// Drops the queue's references (what the ban manager does after a drain).
void drain(SuspectQueue& queue) {
  for (Endpoint* e = queue.take_all(); e != nullptr;) {
    Endpoint* next = SuspectQueue::next(e);
    e->clear_suspect();
    e->unref();
    e = next;
  }
}

TEST(EndpointAdmissionTest, ATrippedWindowHoldsTheEndpointAtOnceWhileTheGateHasASlot) {
  SuspectQueue queue;
  TripGate gate;
  gate.set_allowance(1);
  gate.set_min_failures(1);
  EndpointRef a = watched_endpoint("10.0.0.1:80", &queue, &gate);
  EndpointRef b = watched_endpoint("10.0.0.2:80", &queue, &gate);
  testing::SeededRandom seeded(1);
  const Random random(&seeded);
  refuse(*a, 4);
  EXPECT_EQ(a->admission(), 0u) << "four refusals do not trip 5 of 10";
  refuse(*a, 1);
  EXPECT_TRUE(a->held());
  EXPECT_FALSE(a->admits(random));
  EXPECT_TRUE(a->holds_claim());
  EXPECT_EQ(gate.claims(), 1u);
  EXPECT_FALSE(queue.empty()) << "and queued for the ban manager to judge";
  // The gate's one slot is taken: the next tripped endpoint is only queued.
  refuse(*b, 5);
  EXPECT_FALSE(b->held());
  EXPECT_EQ(gate.claims(), 1u);
  // Judged: let go, and the slot is free again.
  a->clear_hold();
  EXPECT_EQ(a->admission(), 0u);
  EXPECT_EQ(gate.claims(), 0u);
  drain(queue);
}

TEST(EndpointAdmissionTest, NoHoldBelowTheGatesThresholdOrWithoutAGate) {
  SuspectQueue queue;
  TripGate gate;
  gate.set_allowance(5);
  gate.set_min_failures(8);  // peers failing ~10%: 8 of 10 make an outlier
  EndpointRef a = watched_endpoint("10.0.0.1:80", &queue, &gate);
  refuse(*a, 7);
  EXPECT_FALSE(a->held());
  EXPECT_FALSE(queue.empty()) << "still a suspect: the manager judges it exactly";
  refuse(*a, 1);
  EXPECT_TRUE(a->held());
  a->clear_hold();
  drain(queue);

  EndpointRef lone = watched_endpoint("10.0.0.2:80", &queue, nullptr);
  refuse(*lone, 10);
  EXPECT_FALSE(lone->held());
  drain(queue);
}

TEST(EndpointAdmissionTest, ATrialKeepsItsShareOfPicksAndNoMoreThanItsCount) {
  EndpointRef e = make_endpoint("10.0.0.1:80");
  testing::SeededRandom seeded(7);
  const Random random(&seeded);
  EXPECT_TRUE(e->admits(random));
  e->start_trial(0.25, 10);
  EXPECT_NE(e->admission(), 0u);
  int kept = 0, asked = 0;
  while (kept < 10 && asked < 1000) {
    ++asked;
    kept += e->admits(random);
  }
  EXPECT_EQ(kept, 10);
  EXPECT_GT(asked, 20) << "about a quarter of the picks: ~40";
  EXPECT_LT(asked, 80);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(e->admits(random)) << "its ten are spent";
  EXPECT_LE(e->trial_picks_left(), 0);
  e->end_trial();
  EXPECT_EQ(e->admission(), 0u);
  EXPECT_TRUE(e->admits(random));
}

TEST(EndpointAdmissionTest, AProbationerThatTripsIsHeldWithoutASlot) {
  SuspectQueue queue;
  TripGate gate;  // no allowance at all: the max ratio is reached
  gate.set_min_failures(1);
  EndpointRef e = watched_endpoint("10.0.0.1:80", &queue, &gate);
  e->start_trial(1, 100);
  refuse(*e, 5);
  EXPECT_TRUE(e->held()) << "on probation it holds its slot already";
  EXPECT_FALSE(e->holds_claim());
  EXPECT_EQ(gate.claims(), 0u);
  e->clear_hold();
  e->end_trial();
  drain(queue);
}

}  // namespace
}  // namespace ufc::internal
