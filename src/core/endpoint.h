// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/endpoint.h: one backend's identity and live state, shared by every snapshot
// that lists it and by every Pick that chose it.

#ifndef UFC_CORE_ENDPOINT_H_
#define UFC_CORE_ENDPOINT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/banning/ban_record.h"
#include "src/banning/suspect_queue.h"
#include "ufc/outcome.h"
#include "ufc/pick.h"

namespace ufc::internal {

struct ServiceState;

// The immutable part: what a Pick shows the caller.
struct EndpointIdentity {
  std::string address;      // as configured
  uint32_t host_begin = 0;  // host = address.substr(host_begin, host_size)
  uint32_t host_size = 0;
  uint16_t port = 0;
  std::shared_ptr<const std::vector<Tag>> tags;  // sorted by key; shared by equal sets
};

// The cold part: identity plus what only the control path touches, under the owning
// client's config mutex (never the request path, apart from `queue`, set once).
struct EndpointMeta {
  explicit EndpointMeta(EndpointIdentity id) : identity(std::move(id)) {}
  const EndpointIdentity identity;
  SuspectQueue* queue = nullptr;     // where report() sends a by-request suspect
  Endpoint* next_suspect = nullptr;  // SuspectQueue link
  ServiceState* owner = nullptr;     // while listed by a current snapshot of that service
  BanRecord ban;
};

// Endpoint: a backend's live state, kept across config versions while its address and
// tags stay the same.
//
// Layout: 124 bytes of atomics the request path touches plus the pointer to the cold
// part, in two cache lines, aligned so that two endpoints never share one. Lifetime:
// reference counted; each snapshot listing it and each live Pick holds one reference. The
// count shares a 64-bit word with the in-flight count (high and low halves) so a pick
// costs one atomic add. Thread-safety: the request-path methods are thread-safe; counters
// are relaxed (they are statistics).
class alignas(64) Endpoint {
 public:
  explicit Endpoint(EndpointIdentity identity, SuspectQueue* queue = nullptr);
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointIdentity& identity() const { return meta_->identity; }
  std::string_view address() const { return meta_->identity.address; }
  // Control-path state (see EndpointMeta).
  EndpointMeta& meta() const { return *meta_; }

  // --- References ---
  void ref() { word_.fetch_add(kOneRef, std::memory_order_relaxed); }
  // Drops a reference and `inflight` in-flight slots; deletes the endpoint on the last.
  void unref(uint32_t inflight = 0) {
    const uint64_t before = word_.fetch_sub(kOneRef + inflight, std::memory_order_acq_rel);
    if ((before >> 32) == 1) delete this;
  }

  // --- Request path ---
  // A pick: one more reference (held by the Pick) and one more request in flight.
  void on_pick() { word_.fetch_add(kOneRef + 1, std::memory_order_relaxed); }
  // A report: the request left flight; count it, fold its latency into the EWMA and the
  // interval sum, and run the by-request ban rule (see src/banning/request_window.h).
  void on_report(OutcomeClass cls, int64_t latency_us, int64_t now_ns);

  uint32_t inflight() const {
    return static_cast<uint32_t>(word_.load(std::memory_order_relaxed) & 0xffffffffu);
  }
  // Latency EWMA in microseconds; 0 until the first report.
  float ewma_latency_us() const { return ewma_us_.load(std::memory_order_relaxed); }
  // CoarseClock time of the latest report; 0 if none.
  int64_t last_report_ns() const { return last_report_ns_.load(std::memory_order_relaxed); }
  uint64_t count(OutcomeClass cls) const {
    return counts_[static_cast<int>(cls)].load(std::memory_order_relaxed);
  }
  uint64_t requests() const;  // all classes
  uint64_t latency_sum_us() const { return latency_sum_us_.load(std::memory_order_relaxed); }
  uint64_t window() const { return window_.load(std::memory_order_relaxed); }

  // --- Control path ---
  // The by-request ban rule (WindowRule::pack) this endpoint applies in on_report.
  void set_window_rule(uint32_t rule) { rule_.store(rule, std::memory_order_relaxed); }
  // Forgets the window (after a ban or unban: a fresh start).
  void clear_window() { window_.store(0, std::memory_order_relaxed); }
  // Lets report() queue this endpoint again after the control path handled it.
  void clear_suspect() { flags_.fetch_and(~kSuspect, std::memory_order_acq_rel); }

  // Carries the latency view and ban history over from the endpoint this one replaces
  // (same address, new tags). Counts are not copied: the old endpoint keeps them, and late
  // reports to it, among the service's departed endpoints.
  void inherit_from(const Endpoint& other);

  // EWMA weighting: a sample counts at least kMinAlpha; after a silence of dt it counts
  // dt/(dt+kDecay), so stale history fades in time rather than only in samples.
  static constexpr float kMinAlpha = 0.1f;
  static constexpr int64_t kDecayNs = 1'000'000'000;

 private:
  static constexpr uint64_t kOneRef = uint64_t{1} << 32;
  static constexpr uint32_t kSuspect = 1;
  ~Endpoint() = default;
  void mark_suspect();

  std::atomic<uint64_t> word_{kOneRef};  // refs << 32 | inflight; born with one reference
  std::atomic<float> ewma_us_{0};
  std::atomic<uint32_t> rule_{0};  // WindowRule; 0 = by-request detection off
  std::atomic<int64_t> last_report_ns_{0};
  std::atomic<uint64_t> window_{0};  // RequestWindow word
  std::atomic<uint64_t> latency_sum_us_{0};
  std::atomic<uint64_t> counts_[kOutcomeClassCount] = {};
  std::atomic<uint32_t> flags_{0};
  std::unique_ptr<EndpointMeta> meta_;
};

static_assert(sizeof(Endpoint) == 128, "two cache lines");

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

#endif  // UFC_CORE_ENDPOINT_H_
