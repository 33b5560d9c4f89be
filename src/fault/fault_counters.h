// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/fault/fault_counters.h: how many faults a service's picks were given.

#ifndef UFC_FAULT_FAULT_COUNTERS_H_
#define UFC_FAULT_FAULT_COUNTERS_H_

#include <cstdint>

#include "src/common/sharded_counter.h"

namespace ufc::internal {

// FaultCounters: a service's injected aborts and delays, counted by pick(). Apart from
// every other count on purpose: an injected fault is not a backend's outcome, so neither
// banning nor fusing nor the endpoints' counters ever see it.
//
// Cost: one uncontended atomic add per injected fault (sharded by thread); 1 KiB, which
// is why the client allocates one only for a service that has had fault rules.
// Thread-safety: any thread adds, any thread reads.
class FaultCounters {
 public:
  void count_abort() { counts_.add(kAborts); }
  void count_delay() { counts_.add(kDelays); }
  uint64_t aborts() const { return counts_.value(kAborts); }
  uint64_t delays() const { return counts_.value(kDelays); }

 private:
  static constexpr size_t kAborts = 0;
  static constexpr size_t kDelays = 1;
  ShardedCounters<2> counts_;
};

}  // namespace ufc::internal

#endif  // UFC_FAULT_FAULT_COUNTERS_H_
