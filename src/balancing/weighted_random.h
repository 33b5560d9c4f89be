// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/weighted_random.h: "weighted_random" — a random endpoint with probability
// proportional to its weight.

#ifndef UFC_BALANCING_WEIGHTED_RANDOM_H_
#define UFC_BALANCING_WEIGHTED_RANDOM_H_

#include <cstdint>
#include <vector>

#include "src/balancing/balancer.h"

namespace ufc::internal {

// WeightedRandom: Walker's alias method in Vose's numerically stable construction
// (Vose, "A linear algorithm for generating random numbers with a given distribution",
// IEEE TSE 1991). One 64-bit draw picks a column (high bits) and flips its biased coin
// (low 32 bits): O(1) whatever the weights. Memory: 16 bytes per endpoint.
class WeightedRandom final : public Balancer {
 public:
  explicit WeightedRandom(absl::Span<const WeightedEndpoint> endpoints);
  Endpoint* pick(const PickContext& context) const override {
    const uint64_t r = context.random.next();
    const Column& c = columns_[Random::reduce(r, static_cast<uint32_t>(columns_.size()))];
    return static_cast<uint32_t>(r) < c.threshold ? c.self : c.alias;
  }
  size_t memory_bytes() const override { return columns_.capacity() * sizeof(Column); }

 private:
  struct Column {
    Endpoint* self;
    Endpoint* alias;
    uint32_t threshold;  // P(self) * 2^32, saturated
  };
  std::vector<Column> columns_;
};

}  // namespace ufc::internal

#endif  // UFC_BALANCING_WEIGHTED_RANDOM_H_
