// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/random_choice.h"

#include "src/balancing/policy_registry.h"

namespace ufc::internal {

RandomChoice::RandomChoice(absl::Span<const WeightedEndpoint> endpoints) {
  endpoints_.reserve(endpoints.size());
  for (const WeightedEndpoint& e : endpoints) endpoints_.push_back(e.endpoint);
  show_uniform(endpoints_.data(), static_cast<uint32_t>(endpoints_.size()));
}

extern const BalancingPolicy kRandomPolicy = {
    "random", "", nullptr, nullptr,
    [](const v1::Balancing&, absl::Span<const WeightedEndpoint> endpoints)
        -> std::unique_ptr<Balancer> { return std::make_unique<RandomChoice>(endpoints); }};

}  // namespace ufc::internal
