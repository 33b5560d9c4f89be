// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/random_choice.h: "random" — a uniformly random endpoint, weights ignored
// (weight 0 still drains).

#ifndef UFC_BALANCING_RANDOM_CHOICE_H_
#define UFC_BALANCING_RANDOM_CHOICE_H_

#include <vector>

#include "src/balancing/balancer.h"

namespace ufc::internal {

// RandomChoice: one random draw per pick; no shared state at all.
class RandomChoice final : public Balancer {
 public:
  explicit RandomChoice(absl::Span<const WeightedEndpoint> endpoints);
  Endpoint* pick(const PickContext& context) const override {
    return pick_uniform(context.random.next());
  }
  size_t memory_bytes() const override { return endpoints_.capacity() * sizeof(Endpoint*); }

 private:
  std::vector<Endpoint*> endpoints_;
};

}  // namespace ufc::internal

#endif  // UFC_BALANCING_RANDOM_CHOICE_H_
