// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fusing/fuse_gate.h: what the request path reads and writes of a service's fusing.

#ifndef UFC_FUSING_FUSE_GATE_H_
#define UFC_FUSING_FUSE_GATE_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "src/common/sharded_counter.h"
#include "src/fusing/shedding.h"

namespace ufc::internal {

// FuseGate: one service's fusing decision as published for `pick`, and the counters pick
// feeds back. The FuseManager writes the decision every tick (fusing: strict timeouts, no
// retries; a drop threshold per traffic class; retry tokens for the next tick) and reads
// the counters. Lives in the client's per-service slot, next to what pick already loads.
//
// Cost on the request path: one relaxed load while the service is healthy. Thread-safety:
// atomics and sharded counters only.
struct FuseGate {
  // Read by every pick.
  alignas(64) std::atomic<bool> fusing{false};
  std::atomic<uint64_t> drop[kTrafficClasses] = {};  // a 64-bit draw below it: drop
  // Retries left until the next tick; taken by retry picks only.
  alignas(64) std::atomic<int64_t> retry_tokens{0};
  // Written on the fusing path only (per-class demand while fusing, drops) and by refused
  // retries.
  void count_demand(int traffic_class) { counts_.add(traffic_class); }
  void count_fused() { counts_.add(kFused); }
  uint64_t demand(int traffic_class) const { return counts_.value(traffic_class); }
  uint64_t fused() const { return counts_.value(kFused); }
  uint64_t retries_refused() const { return counts_.value(kRetriesRefused); }

  // A retry takes a token from the budget; without one it is refused (and counted).
  bool take_retry_token() {
    if (retry_tokens.fetch_sub(1, std::memory_order_relaxed) > 0) return true;
    retry_tokens.fetch_add(1, std::memory_order_relaxed);
    counts_.add(kRetriesRefused);
    return false;
  }
  // A retry that took a token and did not go out gives it back.
  void return_retry_token() { retry_tokens.fetch_add(1, std::memory_order_relaxed); }

 private:
  // Per-class demand, then drops and refused retries, sharded as one block (2 KiB a
  // service; ten separate counters took 10 KiB, 100 MB for 10,000 services).
  static constexpr size_t kFused = kTrafficClasses;
  static constexpr size_t kRetriesRefused = kTrafficClasses + 1;
  ShardedCounters<kTrafficClasses + 2> counts_;
};

}  // namespace ufc::internal

#endif  // UFC_FUSING_FUSE_GATE_H_
