// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/round_robin.h"

namespace ufc::internal {

RoundRobin::RoundRobin(absl::Span<const WeightedEndpoint> endpoints)
    : cursor_(static_cast<uint32_t>(endpoints.size())) {
  endpoints_.reserve(endpoints.size());
  for (const WeightedEndpoint& e : endpoints) endpoints_.push_back(e.endpoint);
}

}  // namespace ufc::internal
