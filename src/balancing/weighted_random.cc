// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/weighted_random.h"

#include <cmath>

#include "src/balancing/policy_registry.h"

namespace ufc::internal {

WeightedRandom::WeightedRandom(absl::Span<const WeightedEndpoint> endpoints) {
  const size_t n = endpoints.size();
  double sum = 0;
  for (const WeightedEndpoint& e : endpoints) sum += e.weight;
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = endpoints[i].weight * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  columns_.resize(n);
  auto set = [&](uint32_t i, double p, uint32_t alias) {
    const double t = std::ldexp(p, 32);
    columns_[i] = Column{endpoints[i].endpoint, endpoints[alias].endpoint,
                         t >= 4294967295.0 ? UINT32_MAX : static_cast<uint32_t>(t)};
  };
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    set(s, scaled[s], l);
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What remains is 1 up to rounding: always itself.
  for (uint32_t i : large) set(i, 1.0, i);
  for (uint32_t i : small) set(i, 1.0, i);
}

extern const BalancingPolicy kWeightedRandomPolicy = {
    "weighted_random", "", nullptr, nullptr,
    [](const v1::Balancing&, absl::Span<const WeightedEndpoint> endpoints)
        -> std::unique_ptr<Balancer> { return std::make_unique<WeightedRandom>(endpoints); }};

}  // namespace ufc::internal
