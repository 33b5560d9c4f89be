// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/endpoint/endpoint.h"

#include <algorithm>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "src/common/cpu_shard.h"
#include "src/endpoint/failure_window.h"

namespace ufc::internal {
namespace {

constexpr int kFirstFailure = static_cast<int>(OutcomeClass::kConnectRefused);

// Endpoints no snapshot lists any more but some Pick still holds. Process-wide, so that a
// Pick may outlive its client: any client's housekeeping sweeps it.
struct Graveyard {
  absl::Mutex mu;
  std::vector<Endpoint*> endpoints ABSL_GUARDED_BY(mu);
};

Graveyard& graveyard() {
  static Graveyard* g = new Graveyard();  // never destroyed: Picks may outlive main()
  return *g;
}

}  // namespace

Endpoint::Endpoint(EndpointIdentity identity, SuspectQueue* suspects, bool histogram)
    : stats_(StatsArena::global().allocate()),
      hist_(histogram ? ShardArena<LatencyBuckets>::global().allocate() : nullptr),
      identity_(std::move(identity)),
      suspects_(suspects) {}

Endpoint::~Endpoint() {
  StatsArena::global().release(stats_);
  if (hist_ != nullptr) ShardArena<LatencyBuckets>::global().release(hist_);
}

template <typename F>
uint64_t Endpoint::sum_shards(F field) const {
  uint64_t n = 0;
  const uint32_t shards = CpuShards::count();
  for (uint32_t s = 0; s < shards; ++s) n += field(stats(s));
  return n;
}

uint64_t Endpoint::holders() const {
  return sum_shards(
      [](const ShardStats& st) { return st.word.load(std::memory_order_acquire) >> 32; });
}

void Endpoint::unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // No snapshot lists this endpoint and none can be read any more, so no pick can start
  // on it; Picks taken before may still hold it. Each shard's holder count only falls
  // from here, and a Pick's release is its last touch (release order): reading zero
  // everywhere (acquire) means every Pick is done with it.
  if (holders() == 0) {
    delete this;
    return;
  }
  Graveyard& g = graveyard();
  absl::MutexLock lock(&g.mu);
  g.endpoints.push_back(this);
}

void Endpoint::sweep_graveyard() {
  std::vector<Endpoint*> dead;
  {
    Graveyard& g = graveyard();
    absl::MutexLock lock(&g.mu);
    auto alive = std::partition(g.endpoints.begin(), g.endpoints.end(),
                                [](const Endpoint* e) { return e->holders() != 0; });
    dead.assign(alive, g.endpoints.end());
    g.endpoints.erase(alive, g.endpoints.end());
  }
  for (Endpoint* e : dead) delete e;
}

size_t Endpoint::graveyard_size() {
  Graveyard& g = graveyard();
  absl::MutexLock lock(&g.mu);
  return g.endpoints.size();
}

bool Endpoint::try_ref() {
  uint32_t n = refs_.load(std::memory_order_relaxed);
  do {
    if (n == 0) return false;
  } while (!refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

uint32_t Endpoint::inflight() const { return static_cast<uint32_t>(sum_shards(shard_inflight)); }

float Endpoint::ewma_latency_us() const {
  double sum = 0, weight = 0;
  const uint32_t shards = CpuShards::count();
  for (uint32_t s = 0; s < shards; ++s) {
    const ShardStats& st = stats(s);
    const float e = st.ewma_us.load(std::memory_order_relaxed);
    if (e <= 0) continue;
    double w = 1.0;
    for (const auto& c : st.counts) w += static_cast<double>(c.load(std::memory_order_relaxed));
    sum += e * w;
    weight += w;
  }
  return weight > 0 ? static_cast<float>(sum / weight) : 0.0f;
}

int64_t Endpoint::last_report_ns(int64_t now_ns) const {
  int64_t newest = 0;
  const uint32_t shards = CpuShards::count();
  for (uint32_t s = 0; s < shards; ++s) {
    const uint32_t last = stats(s).last_tick.load(std::memory_order_relaxed);
    if (last == 0) continue;
    newest = std::max(newest, now_ns - ticks_since(last, now_ns));
  }
  return newest;
}

uint64_t Endpoint::count(OutcomeClass cls) const {
  const int c = static_cast<int>(cls);
  if (c >= kFirstFailure) return failures_[c - kFirstFailure].load(std::memory_order_relaxed);
  return sum_shards(
      [c](const ShardStats& st) { return st.counts[c].load(std::memory_order_relaxed); });
}

uint64_t Endpoint::requests() const {
  uint64_t total = 0;
  for (int c = 0; c < kOutcomeClassCount; ++c) total += count(static_cast<OutcomeClass>(c));
  return total;
}

bool Endpoint::latency_histogram(LatencyCounts& out) const {
  if (hist_ == nullptr) return false;
  out.fill(0);
  const uint32_t shards = CpuShards::count();
  for (uint32_t s = 0; s < shards; ++s) {
    const LatencyBuckets& b = hist_[s * ShardArena<LatencyBuckets>::kSlotsPerChunk];
    for (int i = 0; i < kLatencyBuckets; ++i) out[i] += b.n[i].load(std::memory_order_relaxed);
  }
  return true;
}

uint64_t Endpoint::latency_sum_us() const {
  return sum_shards(
      [](const ShardStats& st) { return st.latency_sum_us.load(std::memory_order_relaxed); });
}

void Endpoint::on_failed_report(uint32_t shard, OutcomeClass cls, int64_t latency_us,
                                uint32_t now_tick) {
  ShardStats& st = stats(shard);
  st.word.fetch_sub(1, std::memory_order_relaxed);
  failures_[static_cast<int>(cls) - kFirstFailure].fetch_add(1, std::memory_order_relaxed);
  if (latency_us < 0) latency_us = 0;
  add_latency(st, shard, latency_us);
  push_outcome(/*failure=*/true);
  update_ewma(st, latency_us, now_tick);
}

void Endpoint::push_outcome(bool failure) {
  const uint32_t rule = rule_.load(std::memory_order_relaxed);
  if (!WindowRule::enabled(rule)) return;
  // Shared by the shards, so written only when it changes: a healthy endpoint's window
  // stays all successes and its line stays shared between cores. A plain load and store,
  // not a CAS loop: two reports racing may drop one outcome, which delays a ban by one
  // attempt at most.
  const uint64_t before = window_.load(std::memory_order_relaxed);
  const uint64_t w = FailureWindow::push(before, failure, WindowRule::window(rule));
  if (w != before) window_.store(w, std::memory_order_relaxed);
  if (failure && FailureWindow::tripped(w, rule)) on_trip(w);
}

bool Endpoint::mark_suspect() {
  if (suspects_ == nullptr) return false;
  if ((watch_.fetch_or(kSuspect, std::memory_order_acq_rel) & kSuspect) != 0) return true;
  // Held while queued. An endpoint no snapshot lists any more is not worth banning.
  if (!try_ref()) return false;
  suspects_->push(this);
  return true;
}

// Out of line: only a report that finds the window tripped comes here, so the common
// report pays nothing for holds.
__attribute__((noinline, cold)) void Endpoint::on_trip(uint64_t window) {
  TripGate* gate = gate_.load(std::memory_order_acquire);
  bool claimed = false;
  if (gate != nullptr && FailureWindow::failures(window) >= gate->min_failures()) {
    uint32_t a = admission_.load(std::memory_order_relaxed);
    if ((a & kHeld) == 0) {
      if ((a & kTrial) != 0) {
        // On probation it holds its slot already: a trip takes it out without a claim.
        admission_.fetch_or(kHeld, std::memory_order_acq_rel);
      } else if (gate->try_claim()) {
        claimed_gate_.store(gate, std::memory_order_relaxed);
        // Only one racing report may own the hold; the loser gives its slot back.
        if (admission_.compare_exchange_strong(a, a | kHeld | kClaimed, std::memory_order_acq_rel,
                                               std::memory_order_relaxed)) {
          claimed = true;
        } else {
          gate->release_claim();
        }
      }
    }
  }
  if (!mark_suspect() && claimed) clear_hold();  // nobody would ever judge it
}

bool Endpoint::admits(const Random& random) {
  const uint32_t a = admission_.load(std::memory_order_relaxed);
  if ((a & kHeld) != 0) return false;
  if ((a & kTrial) == 0) return true;
  if (trial_left_.load(std::memory_order_relaxed) <= 0) return false;
  if (Random::reduce(random.next(), 65536) >= (a >> 16)) return false;
  return trial_left_.fetch_sub(1, std::memory_order_relaxed) > 0;
}

void Endpoint::settle_claim() {
  const uint32_t before = admission_.fetch_and(~kClaimed, std::memory_order_acq_rel);
  if ((before & kClaimed) == 0) return;
  if (TripGate* gate = claimed_gate_.exchange(nullptr, std::memory_order_acq_rel)) {
    gate->release_claim();
  }
}

void Endpoint::clear_hold() {
  settle_claim();
  admission_.fetch_and(~kHeld, std::memory_order_acq_rel);
}

void Endpoint::start_trial(double share, uint32_t picks) {
  // In 1/65536: a share of 1 is 65535 (every pick but one in 65536; close enough).
  const uint32_t fixed = static_cast<uint32_t>(std::clamp(share, 1.0 / 65536, 1.0) * 65535);
  trial_left_.store(static_cast<int32_t>(std::min<uint32_t>(picks, INT32_MAX)),
                    std::memory_order_relaxed);
  uint32_t a = admission_.load(std::memory_order_relaxed);
  while (!admission_.compare_exchange_weak(a, (a & (kHeld | kClaimed)) | kTrial | fixed << 16,
                                           std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
}

void Endpoint::end_trial() {
  uint32_t a = admission_.load(std::memory_order_relaxed);
  while (!admission_.compare_exchange_weak(a, a & (kHeld | kClaimed), std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
  }
  trial_left_.store(0, std::memory_order_relaxed);
}

void Endpoint::set_watch(uint64_t handle) {
  // Keep the suspect bit a concurrent report may be setting.
  uint64_t word = watch_.load(std::memory_order_relaxed);
  while (!watch_.compare_exchange_weak(word, (handle << 1) | (word & kSuspect),
                                       std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
}

void SuspectQueue::push(Endpoint* endpoint) {
  Endpoint* head = head_.load(std::memory_order_relaxed);
  do {
    endpoint->next_suspect_ = head;
  } while (!head_.compare_exchange_weak(head, endpoint, std::memory_order_release,
                                        std::memory_order_relaxed));
}

Endpoint* SuspectQueue::next(const Endpoint* endpoint) { return endpoint->next_suspect_; }

void Endpoint::inherit_latency_from(const Endpoint& other) {
  const uint32_t shards = CpuShards::count();
  for (uint32_t s = 0; s < shards; ++s) {
    stats(s).ewma_us.store(other.stats(s).ewma_us.load(std::memory_order_relaxed),
                           std::memory_order_relaxed);
    stats(s).last_tick.store(other.stats(s).last_tick.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
  }
}

}  // namespace ufc::internal
