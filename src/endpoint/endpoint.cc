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

using HistogramArena = ShardArena<LatencyBuckets>;

// What an endpoint without records reads as.
const ShardStats kNoStats;

void release_stats_slot(void* slot) {
  StatsArena::global().release(static_cast<ShardStats*>(slot));
}
void release_histogram_slot(void* slot) {
  HistogramArena::global().release(static_cast<LatencyBuckets*>(slot));
}

// Which of two coarse ticks (0: none) is the later one, across the counter's wrap.
uint32_t later_tick(uint32_t a, uint32_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return static_cast<int32_t>(b - a) > 0 ? b : a;
}

}  // namespace

Endpoint::Endpoint(EndpointIdentity identity, SuspectQueue* suspects, bool histogram, bool live)
    : histogram_(histogram), identity_(std::move(identity)), suspects_(suspects) {
  if (live) activate();
}

Endpoint::~Endpoint() {
  // Nothing reads a dying endpoint: its records go back at once.
  if (ShardStats* s = stats_.load(std::memory_order_relaxed); s != nullptr) {
    if (folded(s)) {
      delete unfold(s);
    } else {
      StatsArena::global().release(s);
    }
  }
  if (LatencyBuckets* h = hist_.load(std::memory_order_relaxed); h != nullptr) {
    if (folded(h)) {
      delete unfold(h);
    } else {
      HistogramArena::global().release(h);
    }
  }
}

Endpoint::StatsView Endpoint::stats_view() const {
  const ShardStats* s = stats_.load(std::memory_order_acquire);
  if (s == nullptr) return {&kNoStats, 1};
  if (folded(s)) return {unfold(s), 1};
  return {s, CpuShards::count()};
}

Endpoint::HistogramView Endpoint::histogram_view() const {
  const LatencyBuckets* h = hist_.load(std::memory_order_acquire);
  if (h == nullptr) return {nullptr, 0};
  if (folded(h)) return {unfold(h), 1};
  return {h, CpuShards::count()};
}

template <typename F>
uint64_t Endpoint::sum_shards(F field) const {
  EpochDomain::Guard guard;  // a folded or released record stays readable until it ends
  const StatsView v = stats_view();
  uint64_t n = 0;
  for (uint32_t s = 0; s < v.shards; ++s) n += field(v.base[s * StatsArena::kSlotsPerChunk]);
  return n;
}

bool Endpoint::activate(EpochDomain& domain) {
  ShardStats* now = stats_.load(std::memory_order_acquire);
  if (now != nullptr && !folded(now)) return false;
  ShardStats* live = StatsArena::global().allocate();
  if (now != nullptr) {
    // What the endpoint did before it went idle continues in shard 0.
    const ShardStats& f = *unfold(now);
    for (int c = 0; c < 3; ++c) {
      live->counts[c].store(f.counts[c].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    live->latency_sum_us.store(f.latency_sum_us.load(std::memory_order_relaxed),
                               std::memory_order_relaxed);
    live->ewma_us.store(f.ewma_us.load(std::memory_order_relaxed), std::memory_order_relaxed);
    live->last_tick.store(f.last_tick.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  if (histogram_) {
    LatencyBuckets* h = hist_.load(std::memory_order_acquire);
    LatencyBuckets* buckets = HistogramArena::global().allocate();
    if (h != nullptr) {
      for (int i = 0; i < kLatencyBuckets; ++i) {
        buckets->n[i].store(unfold(h)->n[i].load(std::memory_order_relaxed),
                            std::memory_order_relaxed);
      }
    }
    // Before the records: a pick that finds them finds the buckets.
    hist_.store(buckets, std::memory_order_release);
    if (h != nullptr) domain.retire(unfold(h));
  }
  stats_.store(live, std::memory_order_release);
  if (now != nullptr) domain.retire(unfold(now));
  return true;
}

bool Endpoint::release_records(EpochDomain& domain) {
  ShardStats* live = stats_.load(std::memory_order_acquire);
  if (live == nullptr || folded(live)) return false;
  // No pick can start (the caller's part), so once no Pick holds it nothing writes it.
  if (holders() != 0) return false;
  const uint32_t shards = CpuShards::count();
  auto* f = new ShardStats();
  double ewma_sum = 0, ewma_weight = 0;
  uint32_t last = 0;
  for (uint32_t s = 0; s < shards; ++s) {
    const ShardStats& st = live[s * StatsArena::kSlotsPerChunk];
    double requests = 1.0;
    for (int c = 0; c < 3; ++c) {
      const uint64_t n = st.counts[c].load(std::memory_order_relaxed);
      f->counts[c].store(f->counts[c].load(std::memory_order_relaxed) + n,
                         std::memory_order_relaxed);
      requests += static_cast<double>(n);
    }
    f->latency_sum_us.store(f->latency_sum_us.load(std::memory_order_relaxed) +
                                st.latency_sum_us.load(std::memory_order_relaxed),
                            std::memory_order_relaxed);
    const float e = st.ewma_us.load(std::memory_order_relaxed);
    if (e > 0) {
      ewma_sum += e * requests;
      ewma_weight += requests;
    }
    last = later_tick(last, st.last_tick.load(std::memory_order_relaxed));
  }
  f->ewma_us.store(ewma_weight > 0 ? static_cast<float>(ewma_sum / ewma_weight) : 0.0f,
                   std::memory_order_relaxed);
  f->last_tick.store(last, std::memory_order_relaxed);
  if (LatencyBuckets* h = hist_.load(std::memory_order_acquire); h != nullptr && !folded(h)) {
    auto* fh = new LatencyBuckets();
    for (uint32_t s = 0; s < shards; ++s) {
      const LatencyBuckets& b = h[s * HistogramArena::kSlotsPerChunk];
      for (int i = 0; i < kLatencyBuckets; ++i) {
        fh->n[i].store(
            fh->n[i].load(std::memory_order_relaxed) + b.n[i].load(std::memory_order_relaxed),
            std::memory_order_relaxed);
      }
    }
    hist_.store(fold_mark(fh), std::memory_order_release);
    domain.retire(h, release_histogram_slot);
  }
  stats_.store(fold_mark(f), std::memory_order_release);
  domain.retire(live, release_stats_slot);
  return true;
}

uint64_t Endpoint::activity() const {
  EpochDomain::Guard guard;
  const ShardStats* live = stats_.load(std::memory_order_acquire);
  if (live == nullptr || folded(live)) return 0;
  uint64_t n = 0;
  for (uint32_t s = 0; s < CpuShards::count(); ++s) {
    const ShardStats& st = live[s * StatsArena::kSlotsPerChunk];
    n += st.word.load(std::memory_order_relaxed);
    for (const auto& c : st.counts) n += c.load(std::memory_order_relaxed);
  }
  for (const auto& f : failures_) n += f.load(std::memory_order_relaxed);
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
  EpochDomain::Guard guard;
  const StatsView v = stats_view();
  double sum = 0, weight = 0;
  for (uint32_t s = 0; s < v.shards; ++s) {
    const ShardStats& st = v.base[s * StatsArena::kSlotsPerChunk];
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
  EpochDomain::Guard guard;
  const StatsView v = stats_view();
  int64_t newest = 0;
  for (uint32_t s = 0; s < v.shards; ++s) {
    const uint32_t last =
        v.base[s * StatsArena::kSlotsPerChunk].last_tick.load(std::memory_order_relaxed);
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
  if (!histogram_) return false;
  out.fill(0);
  EpochDomain::Guard guard;
  const HistogramView v = histogram_view();
  for (uint32_t s = 0; s < v.shards; ++s) {
    const LatencyBuckets& b = v.base[s * HistogramArena::kSlotsPerChunk];
    for (int i = 0; i < kLatencyBuckets; ++i) out[i] += b.n[i].load(std::memory_order_relaxed);
  }
  return true;
}

Endpoint::Totals Endpoint::totals() const {
  Totals t;
  if (stats_.load(std::memory_order_acquire) != nullptr) {
    EpochDomain::Guard guard;
    const StatsView v = stats_view();
    for (uint32_t s = 0; s < v.shards; ++s) {
      const ShardStats& st = v.base[s * StatsArena::kSlotsPerChunk];
      const uint64_t ok = st.counts[0].load(std::memory_order_relaxed);
      const uint64_t c4 = st.counts[1].load(std::memory_order_relaxed);
      const uint64_t c5 = st.counts[2].load(std::memory_order_relaxed);
      t.answered += ok + c4 + c5;
      t.client_errors += c4;
      t.server_errors += c5;
      t.latency_sum_us += st.latency_sum_us.load(std::memory_order_relaxed);
    }
  }
  t.requests = t.answered;
  for (const auto& f : failures_) t.requests += f.load(std::memory_order_relaxed);
  return t;
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
  EpochDomain::Guard guard;
  const StatsView from = other.stats_view();
  ShardStats* to = stats_.load(std::memory_order_acquire);
  if (to != nullptr && !folded(to) && from.shards > 1) {
    // Both live: each CPU's view carries over to the same CPU.
    for (uint32_t s = 0; s < from.shards; ++s) {
      const ShardStats& a = from.base[s * StatsArena::kSlotsPerChunk];
      ShardStats& b = to[s * StatsArena::kSlotsPerChunk];
      b.ewma_us.store(a.ewma_us.load(std::memory_order_relaxed), std::memory_order_relaxed);
      b.last_tick.store(a.last_tick.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    return;
  }
  // Otherwise one view: the other's blended EWMA and its latest report.
  const float ewma = other.ewma_latency_us();
  uint32_t last = 0;
  for (uint32_t s = 0; s < from.shards; ++s) {
    last = later_tick(
        last, from.base[s * StatsArena::kSlotsPerChunk].last_tick.load(std::memory_order_relaxed));
  }
  if (ewma <= 0 || last == 0) return;
  if (to == nullptr) {
    // A new endpoint without records (not yet published): the view waits in a folded
    // record for activate().
    to = new ShardStats();
    stats_.store(fold_mark(to), std::memory_order_release);
  }
  ShardStats& b = *unfold(to);
  b.ewma_us.store(ewma, std::memory_order_relaxed);
  b.last_tick.store(last, std::memory_order_relaxed);
}

}  // namespace ufc::internal
