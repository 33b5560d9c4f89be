// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/random_choice.h"

namespace ufc::internal {

RandomChoice::RandomChoice(absl::Span<const WeightedEndpoint> endpoints) {
  endpoints_.reserve(endpoints.size());
  for (const WeightedEndpoint& e : endpoints) endpoints_.push_back(e.endpoint);
}

}  // namespace ufc::internal
