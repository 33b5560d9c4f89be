// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/round_robin.h"

#include "src/balancing/policy_registry.h"

namespace ufc::internal {

RoundRobin::RoundRobin(absl::Span<const WeightedEndpoint> endpoints)
    : cursor_(static_cast<uint32_t>(endpoints.size())) {
  endpoints_.reserve(endpoints.size());
  for (const WeightedEndpoint& e : endpoints) endpoints_.push_back(e.endpoint);
  show_cursor(&cursor_, endpoints_.data(), nullptr);
}

extern const BalancingPolicy kRoundRobinPolicy = {
    "round_robin", "", nullptr, nullptr,
    [](const v1::Balancing&, absl::Span<const WeightedEndpoint> endpoints)
        -> std::unique_ptr<Balancer> { return std::make_unique<RoundRobin>(endpoints); }};

}  // namespace ufc::internal
