// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/endpoint.h: one backend's identity and live state, shared by every snapshot
// that lists it and by every Pick that chose it.
//
// The endpoint room sits below every policy: balancing, routing, banning and fusing read
// endpoints, and an endpoint knows none of them. It records what happened (per-CPU counts,
// latency, the failure window) and signals when its failure window trips; what that means
// (a ban) is the ban manager's business, kept in the manager's own records.

#ifndef UFC_ENDPOINT_ENDPOINT_H_
#define UFC_ENDPOINT_ENDPOINT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/casts.h"
#include "src/common/epoch.h"
#include "src/common/fast_random.h"
#include "src/endpoint/endpoint_stats.h"
#include "src/endpoint/latency_histogram.h"
#include "src/endpoint/suspect_queue.h"
#include "src/endpoint/trip_gate.h"
#include "ufc/outcome.h"
#include "ufc/pick.h"

namespace ufc::internal {

// The immutable part: what a Pick shows the caller.
struct EndpointIdentity {
  std::string address;      // as configured
  uint16_t host_begin = 0;  // host = address.substr(host_begin, host_size); hosts are
  uint16_t host_size = 0;   // validated to <= 253 characters
  uint16_t port = 0;
  std::shared_ptr<const std::vector<Tag>> tags;  // sorted by key; shared by equal sets
};

// Endpoint: a backend's identity and live state, kept across config versions while its
// address and tags stay the same.
//
// Layout: what pick and report write on every request lives in per-CPU ShardStats (see
// endpoint_stats.h), so two cores never write one line; the Endpoint itself is read-mostly
// (written on failures only: the failure window when it changes, transport failure
// counts). A report lands in the shard its pick was taken on (the Pick remembers it).
//
// Failure window: the last N outcomes in one word (failure_window.h). When a report trips
// the rule its watcher set (set_window_rule), the endpoint puts itself on the watcher's
// SuspectQueue, once until the watcher clears it (clear_suspect). `watch()` is an opaque
// handle the watcher keeps on the endpoint to find its own record again (the ban manager:
// which service, which position); the endpoint never interprets it.
//
// Admission: a word pick checks after its balancer chose this endpoint, 0 for nearly every
// endpoint at nearly every moment (then the check is one load of a line pick reads anyway,
// and a branch). Not 0 when the endpoint must not, or only sometimes, take the pick until
// the next snapshot says otherwise:
//  * held: its window tripped and its watcher's TripGate (set_trip_gate) let the report
//    take it out at once, holding a slot of the gate, so the ban does not wait for the
//    watcher's timer; the watcher judges it and lets go (settle_claim, clear_hold);
//  * on trial: its watcher let it back on probation (start_trial): picks keep it with a
//    given probability, and only so many of them.
// A pick refused by admits() asks its balancer again (balancing/balancer.h).
//
// Per-CPU records follow use: an endpoint built for a client (build_endpoints) starts
// without them and gets them from activate(), which the client runs at its service's first
// pick; release_records() folds them into one compact record when the service has gone
// idle, and activate() carries that record over. Queries read whichever the endpoint holds
// (nothing: zeros). pick and report only ever see an endpoint with records.
//
// Lifetime: two kinds of holders. Structural references (snapshots listing it, the
// departed list, probes, the suspect queue) are counted in `refs_`, on the control path.
// Picks are counted per CPU shard in ShardStats::word (high half), on the request path.
// When the last structural reference goes (always on the control path: snapshots die by
// epoch reclamation, after any pick that could see them has left), the endpoint is
// deleted if no Pick holds it, or else parked in a graveyard that housekeeping sweeps.
// Once `refs_` reaches zero it never rises again, so no pick can start afterwards.
//
// Thread-safety: the request-path methods are thread-safe; counters are relaxed (they
// are statistics).
class Endpoint {
 public:
  // `suspects`: where a tripped failure window sends this endpoint (nullptr: nowhere).
  // `histogram`: whether reports fill a latency histogram (CpuShards::count() x 128 bytes
  // more while it has records, and a store per report). `live`: born with per-CPU records
  // (tests and direct users); false leaves them to activate().
  explicit Endpoint(EndpointIdentity identity, SuspectQueue* suspects = nullptr,
                    bool histogram = false, bool live = true);
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointIdentity& identity() const { return identity_; }
  std::string_view address() const { return identity_.address; }

  // --- Structural references (control path) ---
  // Another reference; the caller already holds one.
  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one deletes the endpoint or parks it (see above).
  void unref();

  // --- Request path ---
  // A pick on `shard`: one more holder and one more request in flight. Returns the word
  // that counts them, which the Pick keeps to let go (ufc/pick.h) and to report with.
  // Only on an endpoint with records (live()).
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::atomic<uint64_t>* on_pick(uint32_t shard) {
    std::atomic<uint64_t>& word = stats(shard).word;
    word.fetch_add(ShardStats::kHolder + 1, std::memory_order_relaxed);
    return &word;
  }
  // A report for a pick taken on `shard`: the request left flight; count it, fold its
  // latency into the shard's EWMA and interval sum, and push the outcome into the failure
  // window (see failure_window.h); a window that trips queues the endpoint as a suspect.
  // Inline, the failures out of line: a success costs no call.
  void on_report(uint32_t shard, OutcomeClass cls, int64_t latency_us, int64_t now_ns) {
    on_report(&stats(shard).word, shard, cls, latency_us, coarse_tick(now_ns));
  }
  // The same with the word on_pick(shard) returned, which saves finding it again, and the
  // time as coarse_tick(now_ns) (CoarseClock::tick()).
  void on_report(std::atomic<uint64_t>* hold, uint32_t shard, OutcomeClass cls, int64_t latency_us,
                 uint32_t now_tick);
  // A Pick taken on `shard` is gone (`reported` or not): its last touch of the endpoint.
  void release(uint32_t shard, bool reported) {
    stats(shard).word.fetch_sub(ShardStats::kHolder + (reported ? 0 : 1),
                                std::memory_order_release);
  }

  // This shard's view, for least-loaded balancing: its requests in flight and latency
  // EWMA (0 when it has no sample younger than `idle_ns`). Only while live(), as in a pick.
  uint32_t inflight(uint32_t shard) const { return shard_inflight(stats(shard)); }
  float ewma_latency_us(uint32_t shard, int64_t now_ns, int64_t idle_ns) const {
    return shard_ewma_us(stats(shard), now_ns, idle_ns);
  }
  // The admission word (see the class comment): 0 means "take it". kHeld, kTrial bits.
  static constexpr uint32_t kHeld = 1;
  static constexpr uint32_t kTrial = 2;
  uint32_t admission() const { return admission_.load(std::memory_order_relaxed); }
  // Whether a pick that chose this endpoint keeps it, when admission() != 0: not while
  // held; on trial, with the trial's probability while it has picks left (each kept pick
  // uses one). Draws from `random` only on trial. Lock-free, no allocation.
  bool admits(const Random& random);

  // Shard 0's record; shard s's is stats_base()[s * StatsArena::kSlotsPerChunk]. Only while
  // live(): in a pick, which reads it with this line's admission word.
  const ShardStats* stats_base() const { return stats_.load(std::memory_order_acquire); }

  // --- Per-CPU records (control path; the first pick of an idle service) ---
  // Whether the endpoint holds per-CPU records.
  bool live() const {
    const ShardStats* s = stats_.load(std::memory_order_acquire);
    return s != nullptr && !folded(s);
  }
  // Gives the endpoint its per-CPU records, carrying over what release_records() folded
  // (counts, latency sum and histogram, the EWMA, into shard 0). false if it had them.
  // Allocates (ShardArena: a mutex); the folded record is freed through `domain` once no
  // reader is left. Callers serialize activate() and release_records() of one endpoint
  // (the client: its service's activation mutex).
  bool activate(EpochDomain& domain = EpochDomain::global());
  // Folds the per-CPU records into one record (48 B, and 128 B with a histogram) and gives
  // them back through `domain`. false, and nothing done, if it holds none or a Pick still
  // holds it. The caller makes sure no pick can start on it meanwhile (the client: its
  // snapshot sends picks to activation, and every pick that could have missed that left).
  bool release_records(EpochDomain& domain = EpochDomain::global());
  // A signature of the request path's writes while live() (0 otherwise), what an idle
  // check compares: it moves with every report, and while a Pick is alive. A pick that is
  // released unreported leaves no trace, so a caller that never reports looks idle (its
  // records are folded, and come back at its next pick).
  uint64_t activity() const;

  // --- Sums over the shards (queries, detectors; not the request path) ---
  uint32_t inflight() const;
  // Picks alive, over all shards (acquire: what their holders did before letting go shows).
  uint64_t holders() const;
  // Mean of the shards' EWMAs, weighted by their request counts; 0 until the first report.
  float ewma_latency_us() const;
  // CoarseClock time of the latest report, to ~1 ms; 0 if none. `now_ns` anchors it.
  int64_t last_report_ns(int64_t now_ns) const;
  uint64_t count(OutcomeClass cls) const;
  uint64_t requests() const;  // all classes
  uint64_t latency_sum_us() const;
  // The counts detectors compare, in one pass over the shards (one epoch section): what
  // requests(), count() of the first three classes and latency_sum_us() would say. An
  // endpoint never picked costs one load.
  struct Totals {
    uint64_t requests = 0;  // every class
    uint64_t answered = 0;  // success + 4xx + 5xx: no transport failure
    uint64_t client_errors = 0, server_errors = 0;
    uint64_t latency_sum_us = 0;
  };
  Totals totals() const;
  bool has_latency_histogram() const { return histogram_; }
  // The latency histogram summed over the shards; false (and `out` untouched) without one.
  bool latency_histogram(LatencyCounts& out) const;
  uint64_t window() const { return window_.load(std::memory_order_relaxed); }

  // --- Control path ---
  // The trip rule (WindowRule::pack) this endpoint applies in on_report; 0 = none.
  void set_window_rule(uint32_t rule) { rule_.store(rule, std::memory_order_relaxed); }
  // Forgets the window (after a ban or unban: a fresh start).
  void clear_window() { window_.store(0, std::memory_order_relaxed); }
  // Lets report() queue this endpoint again after the control path handled it.
  void clear_suspect() { watch_.fetch_and(~kSuspect, std::memory_order_acq_rel); }

  // Where a tripped window may claim a slot to hold this endpoint at once (nullptr: it is
  // only queued as a suspect). The gate must outlive every report that can still see it.
  void set_trip_gate(TripGate* gate) { gate_.store(gate, std::memory_order_release); }
  // Whether a report holds this endpoint (kHeld), and whether with a gate slot.
  bool held() const { return (admission() & kHeld) != 0; }
  bool holds_claim() const { return (admission_.load(std::memory_order_acquire) & kClaimed) != 0; }
  // Gives back the gate slot the hold took, if any; the hold itself stays. Call it after
  // the gate's allowance counts the ban the hold became, or on letting go.
  void settle_claim();
  // Holds the endpoint without a slot (the control path, until a snapshot without it is
  // published), and lets it go again. clear_hold() settles a claim first.
  void hold() { admission_.fetch_or(kHeld, std::memory_order_acq_rel); }
  void clear_hold();
  // Probation: picks keep it with probability `share` (in (0, 1]), `picks` of them at most,
  // until end_trial(). The hold, if any, stays.
  void start_trial(double share, uint32_t picks);
  void end_trial();
  // Picks a trial may still keep (<= 0: none).
  int32_t trial_picks_left() const { return trial_left_.load(std::memory_order_relaxed); }

  // The watcher's handle (see the class comment); kNoWatch until one is set. 63 bits.
  static constexpr uint64_t kNoWatch = (uint64_t{1} << 63) - 1;
  uint64_t watch() const { return watch_.load(std::memory_order_acquire) >> 1; }
  void set_watch(uint64_t handle);

  // Carries the latency view over from the endpoint this one replaces (same address, new
  // tags). Counts are not copied: the old endpoint keeps them, and late reports to it,
  // among the service's departed endpoints.
  void inherit_latency_from(const Endpoint& other);

  // Deletes parked endpoints no Pick holds any more. Housekeeping calls it.
  static void sweep_graveyard();
  // Endpoints parked now (tests).
  static size_t graveyard_size();

  // EWMA weighting: a sample counts at least kMinAlpha; after a silence of dt it counts
  // dt/(dt+kDecay), so stale history fades in time rather than only in samples.
  static constexpr float kMinAlpha = 0.1f;
  static constexpr int64_t kDecayNs = 1'000'000'000;

 private:
  friend class SuspectQueue;  // links queued endpoints through next_suspect_
  static constexpr uint64_t kSuspect = 1;
  ~Endpoint();
  // The request path's record (live only).
  ShardStats& stats(uint32_t shard) const {
    return stats_.load(std::memory_order_acquire)[shard * StatsArena::kSlotsPerChunk];
  }
  // Whatever the endpoint holds, for readers inside an epoch section: `shards` records at
  // the arena's stride (one when folded; one of zeros when it holds none).
  struct StatsView {
    const ShardStats* base;
    uint32_t shards;
  };
  StatsView stats_view() const;
  // The same for the histogram: base == nullptr without one.
  struct HistogramView {
    const LatencyBuckets* base;
    uint32_t shards;
  };
  HistogramView histogram_view() const;
  // A folded record is marked in its pointer's low bit.
  template <typename T>
  static bool folded(const T* p) {
    return (reinterpret_cast<uintptr_t>(p) & 1) != 0;
  }
  template <typename T>
  static T* unfold(T* p) {
    return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{1});
  }
  template <typename T>
  static T* fold_mark(T* p) {
    return reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(p) | 1);
  }
  // The sum of `field(record)` over the shards (any state; takes an epoch section).
  template <typename F>
  uint64_t sum_shards(F field) const;
  // A structural reference from the request path: fails once the count reached zero.
  bool try_ref();
  // Queues the endpoint unless queued already; false if it could not (no snapshot lists
  // it any more).
  bool mark_suspect();
  // A report tripped the window: hold if the gate allows, and queue.
  void on_trip(uint64_t window);
  // on_report() of a transport failure (cls >= kConnectRefused).
  void on_failed_report(uint32_t shard, OutcomeClass cls, int64_t latency_us, uint32_t now_tick);
  // Pushes an outcome into the failure window under the rule in force (none: nothing).
  void push_outcome(bool failure);
  // The shard's latency sum and histogram bucket, and its EWMA (see on_report()).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void add_latency(ShardStats& st, uint32_t shard,
                                                int64_t latency_us) {
    // A plain load and store (for the interval mean the business detector compares): an
    // atomic add here cost ~25% of a pick+report (bench, side by side). Two reports racing
    // on one shard (a thread preempted mid-update) may lose one sample.
    st.latency_sum_us.store(
        st.latency_sum_us.load(std::memory_order_relaxed) + static_cast<uint64_t>(latency_us),
        std::memory_order_relaxed);
    LatencyBuckets* const hist = hist_.load(std::memory_order_relaxed);
    if (hist != nullptr) hist[shard * StatsArena::kSlotsPerChunk].add(latency_us);
  }
  static void update_ewma(ShardStats& st, int64_t latency_us, uint32_t tick);
  static constexpr uint32_t kClaimed = 4;  // the hold took a slot of claimed_gate_

  // Shard 0's record (a StatsArena slot) while live; a folded record (marked); or nullptr.
  std::atomic<ShardStats*> stats_{nullptr};
  // The same for the histogram's buckets; nullptr also without a histogram.
  std::atomic<LatencyBuckets*> hist_{nullptr};
  // Beside stats_, which every pick loads: checking it costs no extra cache line.
  std::atomic<uint32_t> admission_{0};  // kHeld | kTrial | kClaimed | trial share << 16
  std::atomic<uint32_t> refs_{1};       // structural; born with one reference
  std::atomic<uint32_t> rule_{0};       // WindowRule; 0 = by-request detection off
  const bool histogram_;                // reports fill a latency histogram
  std::atomic<uint64_t> window_{0};     // FailureWindow word
  // The watcher's handle (high 63 bits) and whether the endpoint is queued (bit 0).
  std::atomic<uint64_t> watch_{kNoWatch << 1};
  // Transport failures by class (kConnectRefused...): rare, so not sharded.
  std::atomic<uint64_t> failures_[kOutcomeClassCount - 3] = {};
  const EndpointIdentity identity_;
  SuspectQueue* const suspects_;      // set once; see the constructor
  Endpoint* next_suspect_ = nullptr;  // SuspectQueue link, while queued
  std::atomic<TripGate*> gate_{nullptr};
  std::atomic<TripGate*> claimed_gate_{nullptr};  // the gate of the kClaimed slot
  std::atomic<int32_t> trial_left_{0};            // picks a trial may still keep
};

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Endpoint::update_ewma(ShardStats& st, int64_t latency_us,
                                                               uint32_t tick) {
  // Racing reports on one shard may lose one update; the average stays meaningful and the
  // request path stays free of compare-and-swap loops.
  const float sample = static_cast<float>(latency_us);
  const float old = st.ewma_us.load(std::memory_order_relaxed);
  const uint32_t last = st.last_tick.load(std::memory_order_relaxed);
  float next = sample;
  // `old > 0` on the bits: the EWMA is never negative or NaN, and a positive float's bits
  // are a positive integer (an integer test, not a float compare).
  if (last != 0 && absl::bit_cast<int32_t>(old) > 0) {
    float alpha = kMinAlpha;
    // dt/(dt+D) exceeds kMinAlpha only when dt > D*a/(1-a): divide only then (rarely at
    // high request rates, where reports arrive within the same clock tick).
    if (tick != last) {
      const int64_t dt = tick_age(last, tick) * kCoarseTickNs;
      if (dt > static_cast<int64_t>(kDecayNs * kMinAlpha / (1 - kMinAlpha))) {
        alpha = static_cast<float>(dt) / static_cast<float>(dt + kDecayNs);
      }
    }
    next = old + alpha * (sample - old);
  }
  st.ewma_us.store(next, std::memory_order_relaxed);
  if (tick != last) st.last_tick.store(tick, std::memory_order_relaxed);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Endpoint::on_report(std::atomic<uint64_t>* hold,
                                                             uint32_t shard, OutcomeClass cls,
                                                             int64_t latency_us,
                                                             uint32_t now_tick) {
  if (__builtin_expect(cls >= OutcomeClass::kConnectRefused, 0)) {
    return on_failed_report(shard, cls, latency_us, now_tick);
  }
  // The word is the record's first member (endpoint_stats.h).
  ShardStats& st = *reinterpret_cast<ShardStats*>(hold);
  st.word.fetch_sub(1, std::memory_order_relaxed);
  st.counts[static_cast<int>(cls)].fetch_add(1, std::memory_order_relaxed);
  if (latency_us < 0) latency_us = 0;
  add_latency(st, shard, latency_us);
  update_ewma(st, latency_us, now_tick);
  // The failure window: a success leaves a window of successes (0) as it is, so only a
  // window with a failure in it needs the push. Last, a tail call: the success path calls
  // nothing and saves no registers.
  if (__builtin_expect(window_.load(std::memory_order_relaxed) != 0, 0)) push_outcome(false);
}

// EndpointRef: an owning pointer (one reference).
class EndpointRef {
 public:
  EndpointRef() = default;
  // Adopts the reference `e` was born with.
  static EndpointRef adopt(Endpoint* e) { return EndpointRef(e); }
  static EndpointRef share(Endpoint* e) {
    e->ref();
    return EndpointRef(e);
  }
  EndpointRef(EndpointRef&& o) noexcept : e_(o.e_) { o.e_ = nullptr; }
  EndpointRef& operator=(EndpointRef&& o) noexcept {
    std::swap(e_, o.e_);
    return *this;
  }
  EndpointRef(const EndpointRef&) = delete;
  EndpointRef& operator=(const EndpointRef&) = delete;
  ~EndpointRef() {
    if (e_ != nullptr) e_->unref();
  }
  Endpoint* get() const { return e_; }
  Endpoint* operator->() const { return e_; }
  Endpoint& operator*() const { return *e_; }

 private:
  explicit EndpointRef(Endpoint* e) : e_(e) {}
  Endpoint* e_ = nullptr;
};

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_ENDPOINT_H_
