// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/pick.h: what a caller asks `Client::pick` for (PickRequest) and what it gets back
// (Pick): the chosen backend and the policy for this attempt.

#ifndef UFC_PICK_H_
#define UFC_PICK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ufc/deadline.h"

namespace ufc {

namespace internal {
class Endpoint;
class ClientCore;
// Drops the Pick's reference to `endpoint` (and its in-flight slot if unreported).
void release_pick(Endpoint* endpoint, bool reported) noexcept;
}  // namespace internal

// How much a request matters when a service must shed load; the lowest go first.
enum class Priority : uint8_t { kCritical = 0, kNormal = 1, kLow = 2, kOffline = 3 };

// A routing attribute: a request header or any key/value the caller wants rules to see.
using Attribute = std::pair<std::string_view, std::string_view>;

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

  // --- Declared now, used by later capabilities (ignored today) ---
  // Attributes routing rules match on (issue "Routing").
  absl::Span<const Attribute> attributes;
  // Overrides ClientOptions::self_service for routing (an agent serving many callers).
  std::string_view caller_service;
  // Shedding weight and retry status, for fusing and the retry budget (issue "Fusing").
  Priority priority = Priority::kNormal;
  bool is_retry = false;
  // The caller's deadline (issue "Deadlines across hops").
  Deadline deadline;
};

// The timeouts for one attempt. Infinite means "no limit from UFC".
struct Timeouts {
  absl::Duration connect = absl::InfiniteDuration();
  absl::Duration read = absl::InfiniteDuration();
  absl::Duration write = absl::InfiniteDuration();
};

// A tag of the chosen endpoint, e.g. {"idc", "bj"}.
using Tag = std::pair<std::string, std::string>;

// Pick: the chosen backend and the attempt's policy.
//
// A Pick is a move-only handle: it keeps the backend's identity (address, tags) alive even
// if a config update removes the backend meanwhile, and it is how `report` finds the
// backend's live state in O(1), without a lookup by name. Hand it back to
// `Client::report` exactly once; a Pick destroyed unreported releases its in-flight slot.
//
// Cost: moving is a pointer copy; destroying is one atomic decrement.
// Thread-safety: a Pick is not itself thread-safe; use each from one thread at a time.
// It may outlive neither the Client's `report` contract (report on the Client that made
// it) nor be reported after that Client is destroyed; destroying it later is fine.
class Pick {
 public:
  Pick(Pick&& other) noexcept
      : endpoint_(other.endpoint_),
        reported_(other.reported_),
        retry_allowed_(other.retry_allowed_),
        timeouts_(other.timeouts_) {
    other.endpoint_ = nullptr;
  }
  Pick& operator=(Pick&& other) noexcept {
    if (this != &other) {
      if (endpoint_ != nullptr) internal::release_pick(endpoint_, reported_);
      endpoint_ = other.endpoint_;
      reported_ = other.reported_;
      retry_allowed_ = other.retry_allowed_;
      timeouts_ = other.timeouts_;
      other.endpoint_ = nullptr;
    }
    return *this;
  }
  Pick(const Pick&) = delete;
  Pick& operator=(const Pick&) = delete;
  ~Pick() {
    if (endpoint_ != nullptr) internal::release_pick(endpoint_, reported_);
  }

  // "host:port" exactly as configured (IPv6 hosts in brackets).
  std::string_view address() const;
  // The host without brackets, e.g. "10.0.0.7", "::1" or "db1.example".
  std::string_view host() const;
  uint16_t port() const;
  // The endpoint's tags, sorted by key.
  absl::Span<const Tag> tags() const;
  // The value of tag `key`, or "" when absent.
  std::string_view tag(std::string_view key) const;

  // The attempt's timeouts. Today always infinite: per-service timeouts (T1/T2) arrive
  // with the fusing issue.
  const Timeouts& timeouts() const { return timeouts_; }
  // Whether the caller may retry this attempt if it fails. Today always true: the retry
  // policy and budget arrive with the fusing issue.
  bool retry_allowed() const { return retry_allowed_; }

 private:
  friend class internal::ClientCore;
  explicit Pick(internal::Endpoint* endpoint) : endpoint_(endpoint) {}

  internal::Endpoint* endpoint_ = nullptr;  // holds one reference
  mutable bool reported_ = false;
  bool retry_allowed_ = true;
  Timeouts timeouts_;
};

}  // namespace ufc

#endif  // UFC_PICK_H_
