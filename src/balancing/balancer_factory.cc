// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "absl/time/time.h"
#include "src/balancing/balancer.h"
#include "src/balancing/least_loaded.h"
#include "src/balancing/maglev.h"
#include "src/balancing/random_choice.h"
#include "src/balancing/round_robin.h"
#include "src/balancing/weighted_random.h"
#include "src/balancing/weighted_round_robin.h"

namespace ufc::internal {

namespace {
constexpr absl::Duration kDefaultIdleReset = absl::Seconds(2);
}  // namespace

std::unique_ptr<Balancer> make_balancer(PolicyKind kind, const v1::Balancing& params,
                                        absl::Span<const WeightedEndpoint> endpoints) {
  switch (kind) {
    case PolicyKind::kRoundRobin:
      return std::make_unique<RoundRobin>(endpoints);
    case PolicyKind::kRandom:
      return std::make_unique<RandomChoice>(endpoints);
    case PolicyKind::kWeightedRoundRobin:
      return std::make_unique<WeightedRoundRobin>(endpoints);
    case PolicyKind::kWeightedRandom:
      return std::make_unique<WeightedRandom>(endpoints);
    case PolicyKind::kConsistentHash:
      return std::make_unique<Maglev>(endpoints, params.consistent_hash().min_table_size());
    case PolicyKind::kLeastLoaded: {
      absl::Duration idle = kDefaultIdleReset;
      if (params.least_loaded().has_idle_reset()) {
        const auto& d = params.least_loaded().idle_reset();
        idle = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
      }
      return std::make_unique<LeastLoaded>(endpoints, absl::ToInt64Nanoseconds(idle));
    }
  }
  return std::make_unique<RoundRobin>(endpoints);
}

}  // namespace ufc::internal
