// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/banning/ban_record.h: what the ban manager remembers about one backend.

#ifndef UFC_BANNING_BAN_RECORD_H_
#define UFC_BANNING_BAN_RECORD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"

namespace ufc::internal {

enum class BanState : uint8_t {
  kHealthy,    // in rotation
  kBanned,     // out of rotation until `until`
  kProbing,    // a transport ban expired; out of rotation until the port probe answers
  kProbation,  // a business ban expired; back in rotation on a small share of traffic
               // until judged on its own requests against its peers'. Still holds its
               // slot under the max ratio.
};

// The query's name for a state: "ok", "banned", "probing", "probation".
const char* ban_state_name(BanState state);

// Which detector issued a ban; it decides how the ban ends (a transport ban is ended by a
// TCP probe, a business ban by probation).
enum class Detector : uint8_t {
  kByRequest,   // the failure window tripped (transport failures)
  kByBusiness,  // status shares or latency against the peers
};
const char* detector_name(Detector detector);

// What a backend's own figures and its peers' were when its probation began.
struct Figures {
  uint64_t requests = 0, status_4xx = 0, status_5xx = 0, latency_us = 0;
};

// BanHistory: what a backend's bans were. Created at its first ban, so backends that are
// never banned (nearly all) do not carry it.
struct BanHistory {
  // Why the backend was banned: the detector's verdict at the ban that began this time
  // out of rotation. A failed probe or probation bans it again without replacing it.
  std::string reason;
  // The latest verdict while out or since: "probe failed", "probation failed: ...",
  // "probe answered", "passed probation: ...", "replaced by ...". Empty until one.
  std::string last;
  Detector detector = Detector::kByRequest;
  double severity = 0;  // of the current ban (outlier_detector.h), for the max ratio
  uint32_t streak = 0;  // consecutive bans; the n-th lasts base x 2^(n-1)
  absl::Time until;     // the current ban ends (monotonic)
  absl::Time streak_started;
  absl::Time unbanned_at = absl::InfinitePast();
  absl::Time probe_started;  // while probing
  bool long_ban_reported = false;
  uint64_t generation = 0;  // bumped by every ban: a stale probe answer is ignored

  // While on probation: since when, and the counters it is judged from.
  absl::Time probation_started;
  Figures trial_base;  // its own cumulative figures then
  Figures peers_base;  // the sum of every other endpoint's then
};

// BanCounts: what the detectors keep of a backend's counts between passes. Only for a
// service in use: created at the first pass that needs them, dropped once the service has
// gone idle and settled (BanManager), so a known-but-idle backend does not carry them.
struct BanCounts {
  // Business-signal baselines: cumulative figures at the previous interval evaluation.
  bool has_baseline = false;
  uint64_t base_requests = 0, base_4xx = 0, base_5xx = 0, base_latency_us = 0;

  // Transport failures and requests lately, decayed (time constant 1 s), for its peers'
  // failure rate when another endpoint's window trips; and the counts they were taken at.
  double recent_failures = 0, recent_requests = 0;
  uint64_t seen_failures = 0, seen_requests = 0;
};

// BanRecord: everything the ban manager remembers about a backend across bans and config
// versions, kept in the manager (one per endpoint of a tracked service), under its mutex.
// The request path learns of bans through the snapshot, which leaves banned backends out.
// 24 bytes for a backend that is healthy and idle (nearly all of a large fleet); the counts
// and the history are allocated when needed.
struct BanRecord {
  BanState state = BanState::kHealthy;

  // Out of rotation: banned or probing (a backend on probation takes traffic).
  bool out() const { return state == BanState::kBanned || state == BanState::kProbing; }
  // Holds a slot under the max ratio: anything but healthy.
  bool holds_slot() const { return state != BanState::kHealthy; }

  // The counts: all zero (no baseline) until mutable_counts() first made them.
  const BanCounts& counts() const { return counts_ != nullptr ? *counts_ : kNoCounts; }
  BanCounts& mutable_counts() {
    if (counts_ == nullptr) counts_ = std::make_unique<BanCounts>();
    return *counts_;
  }
  bool has_counts() const { return counts_ != nullptr; }
  void drop_counts() { counts_.reset(); }

  BanHistory& history() {
    if (history_ == nullptr) history_ = std::make_unique<BanHistory>();
    return *history_;
  }
  // nullptr until the first ban.
  const BanHistory* peek() const { return history_.get(); }

  BanRecord() = default;
  BanRecord(const BanRecord& o) { *this = o; }
  BanRecord& operator=(const BanRecord& o) {
    state = o.state;
    counts_ = o.counts_ != nullptr ? std::make_unique<BanCounts>(*o.counts_) : nullptr;
    history_ = o.history_ != nullptr ? std::make_unique<BanHistory>(*o.history_) : nullptr;
    return *this;
  }
  BanRecord(BanRecord&&) = default;
  BanRecord& operator=(BanRecord&&) = default;

 private:
  static const BanCounts kNoCounts;
  std::unique_ptr<BanCounts> counts_;
  std::unique_ptr<BanHistory> history_;
};
static_assert(sizeof(BanRecord) <= 24, "what every known endpoint costs the ban manager");

}  // namespace ufc::internal

#endif  // UFC_BANNING_BAN_RECORD_H_
