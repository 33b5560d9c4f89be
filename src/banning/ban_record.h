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
  kHealthy,  // in rotation
  kBanned,   // out of rotation until `until`
  kProbing,  // the ban expired; out of rotation until the port probe answers
};

const char* ban_state_name(BanState state);

// BanHistory: what a backend's bans were. Created at its first ban, so backends that are
// never banned (nearly all) do not carry it.
struct BanHistory {
  std::string reason;   // why the current (or last) ban happened
  uint32_t streak = 0;  // consecutive bans; the n-th lasts base x 2^(n-1)
  absl::Time until;     // the current ban ends (monotonic)
  absl::Time streak_started;
  absl::Time unbanned_at = absl::InfinitePast();
  absl::Time probe_started;  // while probing
  bool long_ban_reported = false;
  uint64_t generation = 0;  // bumped by every ban: a stale probe answer is ignored
};

// BanRecord: everything the ban manager remembers about a backend across bans and config
// versions, kept in the manager (one per endpoint of a tracked service), under its mutex.
// The request path learns of bans through the snapshot, which leaves banned backends out.
struct BanRecord {
  BanState state = BanState::kHealthy;

  // Business-signal baselines: cumulative figures at the previous interval evaluation.
  bool has_baseline = false;
  uint64_t base_requests = 0, base_4xx = 0, base_5xx = 0, base_latency_us = 0;

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
    has_baseline = o.has_baseline;
    base_requests = o.base_requests;
    base_4xx = o.base_4xx;
    base_5xx = o.base_5xx;
    base_latency_us = o.base_latency_us;
    history_ = o.history_ != nullptr ? std::make_unique<BanHistory>(*o.history_) : nullptr;
    return *this;
  }

 private:
  std::unique_ptr<BanHistory> history_;
};

}  // namespace ufc::internal

#endif  // UFC_BANNING_BAN_RECORD_H_
