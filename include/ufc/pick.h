// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/pick.h: what a caller asks `Client::pick` for (PickRequest) and what it gets back
// (Pick): the chosen backend and the policy for this attempt.

#ifndef UFC_PICK_H_
#define UFC_PICK_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ufc/deadline.h"

namespace ufc {

namespace internal {
class Endpoint;
class ClientCore;
}  // namespace internal

// How much a request matters when a service must shed load; the lowest go first.
enum class Priority : uint8_t { kCritical = 0, kNormal = 1, kLow = 2, kOffline = 3 };

// A routing attribute: a request header or any key/value the caller wants rules to see.
using Attribute = std::pair<std::string_view, std::string_view>;

// The timeouts for one attempt. Infinite means "no limit from UFC".
struct Timeouts {
  absl::Duration connect = absl::InfiniteDuration();
  absl::Duration read = absl::InfiniteDuration();
  absl::Duration write = absl::InfiniteDuration();
};

// PickRequest: one attempt's question. A plain aggregate of views: nothing is copied, so
// everything it points to must outlive the `pick` call (and only the call).
struct PickRequest {
  // The target service_name. Required.
  std::string_view service;
  // Key for the "consistent_hash" policy: requests with the same key go to the same
  // backend while it is in the set. Ignored by the other policies. When both are empty /
  // unset under "consistent_hash", the request is placed at random.
  std::string_view hash_key;
  // A pre-computed 64-bit key; takes precedence over `hash_key`.
  std::optional<uint64_t> hash;

  // Routing: attributes rules match on (request headers, or any key/value), and the
  // caller's service name when it is not ClientOptions::self_service (an agent serving
  // many callers).
  absl::Span<const Attribute> attributes;
  std::string_view caller_service;
  // Fusing: a fusing service sheds the lowest priority first, and retries before first
  // attempts of the same priority.
  Priority priority = Priority::kNormal;
  // A retry: refused while the service is fusing, and when the service's retry budget
  // (a share of its requests) is spent.
  bool is_retry = false;
  // The caller's deadline. Once it has passed (or is within the service's margin), pick
  // refuses with DEADLINE_EXCEEDED without choosing a backend; otherwise the attempt's
  // timeouts are capped by what is left. Read against the client's cached clock (1 ms).
  Deadline deadline;
  // Backends already tried for this request ("host:port" as configured): a retry goes
  // elsewhere, or fails with UNAVAILABLE when there is nowhere else.
  absl::Span<const std::string_view> avoid;
  // Replaces the service's normal timeouts (T1) for this request (must outlive the call).
  // Never the strict set (T2) a fusing service imposes.
  const Timeouts* timeouts = nullptr;
};

// InjectedFault: what the service's fault rules (ServiceConfig.faults, for chaos drills)
// decided for one pick. The library only decides; the caller that sends the request
// honours it (the agent's HTTP proxy does):
//   abort_status != 0  do not contact any backend: answer the request with this HTTP
//                      status (200..599). The Pick then has no backend (address() is "",
//                      port() 0, no tags) and reporting it does nothing: an injected abort
//                      is counted only as one ("faults" in query "request_info^<service>"),
//                      never in banning, fusing, latency or in-flight counts.
//   delay > 0          wait this long before sending the request (whole milliseconds:
//                      the configured delay rounded up), then send it to the Pick's
//                      backend as usual and report it normally, with the latency
//                      measured from the send (the injected delay excluded).
// Both zero (the default, and always for a service without fault rules): nothing
// injected. An abort is never delayed. Retries (PickRequest::is_retry) are never faulted.
struct InjectedFault {
  uint16_t abort_status = 0;
  absl::Duration delay = absl::ZeroDuration();
};

// A tag of the chosen endpoint, e.g. {"idc", "bj"}.
using Tag = std::pair<std::string, std::string>;

// Pick: the chosen backend and the attempt's policy.
//
// A Pick is a move-only handle: it keeps the backend's identity (address, tags) alive even
// if a config update removes the backend meanwhile, and it is how `report` finds the
// backend's live state in O(1), without a lookup by name. Hand it back to
// `Client::report` exactly once; a Pick destroyed unreported releases its in-flight slot.
// With fault injection configured (ServiceConfig.faults), check fault() before sending.
//
// Cost: moving copies seven words; destroying is one atomic decrement, inline, on the
// per-CPU record of the CPU that picked it (reporting or destroying it on another thread
// is fine).
// Thread-safety: a Pick is not itself thread-safe; use each from one thread at a time.
// Report it on the Client that made it, and not after that Client is destroyed; reading
// it or destroying it later is fine (its backend's identity stays alive until then).
class Pick {
 public:
  // Inline, always: the request path returns a Pick through a temporary, which the compiler
  // removes only when it sees the moved-from temporary's release() do nothing.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Pick(Pick&& other) noexcept { take(other); }
  Pick& operator=(Pick&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  Pick(const Pick&) = delete;
  Pick& operator=(const Pick&) = delete;
  ABSL_ATTRIBUTE_ALWAYS_INLINE ~Pick() { release(); }

  // "host:port" exactly as configured (IPv6 hosts in brackets). "" for an injected abort
  // (fault().abort_status != 0), which has no backend; so are host() and tag(), port() is
  // 0 and tags() empty.
  std::string_view address() const;
  // The host without brackets, e.g. "10.0.0.7", "::1" or "db1.example".
  std::string_view host() const;
  uint16_t port() const;
  // The endpoint's tags, sorted by key.
  absl::Span<const Tag> tags() const;
  // The value of tag `key`, or "" when absent.
  std::string_view tag(std::string_view key) const;

  // The fault injected into this request, if any (see InjectedFault): check it before
  // contacting the backend.
  InjectedFault fault() const {
    return InjectedFault{static_cast<uint16_t>(fault_ & kAbortMask),
                         absl::Milliseconds(fault_ >> kDelayShift)};
  }

  // The attempt's timeouts: the service's normal set T1 (or the request's override), the
  // strict set T2 while the service is fusing; infinite where none is configured; each
  // capped by the request's remaining deadline minus the service's margin.
  Timeouts timeouts() const {
    return Timeouts{from_ns(connect_ns_), from_ns(read_ns_), from_ns(write_ns_)};
  }
  // The request's deadline, to pass on to the next hop (see ufc/deadline.h).
  Deadline deadline() const {
    return deadline_ns_ == kNone ? Deadline::none()
                                 : Deadline::at(MonotonicTime() + absl::Nanoseconds(deadline_ns_));
  }
  // Whether the caller may retry this attempt if it fails in transport: not while the
  // service is fusing, nor when the service allows one attempt only. (A retry's pick can
  // still be refused by the retry budget.)
  bool retry_allowed() const { return retry_allowed_; }
  // The service's attempt limit (Retry.max_attempts, 1..10), for callers that run the
  // retry loop themselves (see Client::call): pick() does not count a request's attempts.
  uint32_t max_attempts() const { return max_attempts_; }

 private:
  friend class internal::ClientCore;
  // Durations and instants are kept as nanoseconds (kNone: infinite / none) so that the
  // request path builds and moves a Pick with a few integer stores.
  static constexpr int64_t kNone = INT64_MAX;
  static absl::Duration from_ns(int64_t ns) {
    return ns == kNone ? absl::InfiniteDuration() : absl::Nanoseconds(ns);
  }
  // An injected fault in one word (fault_): the abort status in the low 10 bits (a status
  // is at most 599), the delay in milliseconds above them (22 bits: up to 69 minutes; the
  // config allows one hour). One word so that the Pick stays six words.
  static constexpr uint32_t kAbortMask = 0x3ff;
  static constexpr int kDelayShift = 10;
  static uint32_t abort_fault(uint16_t status) { return status; }
  static uint32_t delay_fault(uint32_t delay_ms) { return delay_ms << kDelayShift; }
  static bool is_abort(uint32_t fault) { return (fault & kAbortMask) != 0; }
  // `endpoint` and `hold` are nullptr only for an injected abort (`fault` from
  // abort_fault()); `hold` is the word Endpoint::on_pick counted this pick in.
  Pick(internal::Endpoint* endpoint, std::atomic<uint64_t>* hold, uint32_t shard,
       int64_t connect_ns, int64_t read_ns, int64_t write_ns, int64_t deadline_ns,
       bool retry_allowed, uint32_t max_attempts, uint32_t fault)
      : endpoint_(endpoint),
        hold_(hold),
        connect_ns_(connect_ns),
        read_ns_(read_ns),
        write_ns_(write_ns),
        deadline_ns_(deadline_ns),
        retry_allowed_(retry_allowed),
        max_attempts_(static_cast<uint8_t>(max_attempts)),
        shard_(static_cast<uint8_t>(shard)),
        fault_(fault) {}
  // The endpoint's per-CPU word counts the Picks holding it (high half: its memory stays
  // while one does) and the picks in flight (low half: until reported). Letting go takes
  // this Pick out of both, or of the first only once report() took it out of flight.
  static constexpr uint64_t kHolder = uint64_t{1} << 32;
  ABSL_ATTRIBUTE_ALWAYS_INLINE void release() {
    if (hold_ != nullptr) {
      hold_->fetch_sub(kHolder + (reported_ ? 0 : 1), std::memory_order_release);
    }
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void take(Pick& other) {
    endpoint_ = other.endpoint_;
    hold_ = other.hold_;
    connect_ns_ = other.connect_ns_;
    read_ns_ = other.read_ns_;
    write_ns_ = other.write_ns_;
    deadline_ns_ = other.deadline_ns_;
    reported_ = other.reported_;
    retry_allowed_ = other.retry_allowed_;
    max_attempts_ = other.max_attempts_;
    shard_ = other.shard_;
    fault_ = other.fault_;
    other.endpoint_ = nullptr;
    other.hold_ = nullptr;
    other.reported_ = true;  // nothing left to report
  }

  internal::Endpoint* endpoint_ = nullptr;  // held (keeps the endpoint alive)
  std::atomic<uint64_t>* hold_ = nullptr;   // the endpoint's word this Pick is counted in
  int64_t connect_ns_ = kNone;
  int64_t read_ns_ = kNone;
  int64_t write_ns_ = kNone;
  int64_t deadline_ns_ = kNone;  // on the client's monotonic clock
  // Reported, or nothing to report (an injected abort, a moved-from Pick): report() reads
  // this alone.
  mutable bool reported_ = false;
  bool retry_allowed_ = true;
  uint8_t max_attempts_ = 1;
  uint8_t shard_ = 0;   // the CPU shard the pick was counted on (at most 16); the report too
  uint32_t fault_ = 0;  // the injected fault, in what was padding (see abort_fault())
};

}  // namespace ufc

#endif  // UFC_PICK_H_
