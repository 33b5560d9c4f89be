// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/round_robin.h: "round_robin" — every endpoint in turn, weights ignored
// (weight 0 still drains).

#ifndef UFC_BALANCING_ROUND_ROBIN_H_
#define UFC_BALANCING_ROUND_ROBIN_H_

#include <vector>

#include "src/balancing/balancer.h"
#include "src/balancing/sharded_cursor.h"

namespace ufc::internal {

// RoundRobin: endpoints in config order, one per pick, per thread shard.
// Cost: one relaxed load and store. Memory: one pointer per endpoint + 1 KiB of cursors.
class RoundRobin final : public Balancer {
 public:
  explicit RoundRobin(absl::Span<const WeightedEndpoint> endpoints);
  Endpoint* pick(const PickContext& context) const override {
    return pick_by_cursor(context.thread);
  }
  size_t memory_bytes() const override { return endpoints_.capacity() * sizeof(Endpoint*); }

 private:
  std::vector<Endpoint*> endpoints_;
  ShardedCursor cursor_;
};

}  // namespace ufc::internal

#endif  // UFC_BALANCING_ROUND_ROBIN_H_
