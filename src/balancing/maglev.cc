// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/maglev.h"

#include <algorithm>
#include <numeric>
#include <queue>

#include "absl/strings/str_cat.h"
#include "src/balancing/policy_registry.h"
#include "src/common/stable_hash.h"

namespace ufc::internal {
namespace {

constexpr uint32_t kDefaultTableSize = 65537;
constexpr uint64_t kOffsetSeed = 0x6d61676c6576ULL;  // "maglev"
constexpr uint64_t kSkipSeed = 0x736b6970ULL;        // "skip"

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint32_t d = 3; uint64_t{d} * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

}  // namespace

uint32_t next_prime(uint32_t n) {
  while (!is_prime(n)) ++n;
  return n;
}

Maglev::Maglev(absl::Span<const WeightedEndpoint> input, uint32_t min_table_size) {
  std::vector<WeightedEndpoint> sorted(input.begin(), input.end());
  std::sort(sorted.begin(), sorted.end(), [](const WeightedEndpoint& a, const WeightedEndpoint& b) {
    return a.endpoint->address() < b.endpoint->address();
  });
  const uint32_t n = static_cast<uint32_t>(sorted.size());
  const uint64_t wanted = std::max<uint64_t>(
      min_table_size == 0 ? kDefaultTableSize : min_table_size, uint64_t{100} * n);
  size_ = next_prime(static_cast<uint32_t>(std::min<uint64_t>(wanted, kMaxMaglevTableSize)));
  const uint32_t m = size_;

  double max_weight = 0;
  for (const WeightedEndpoint& e : sorted) max_weight = std::max(max_weight, e.weight);
  std::vector<uint32_t> position(n), skip(n);
  std::vector<double> share(n);
  for (uint32_t i = 0; i < n; ++i) {
    endpoints_.push_back(sorted[i].endpoint);
    const std::string_view address = sorted[i].endpoint->address();
    position[i] = static_cast<uint32_t>(stable_hash(address, kOffsetSeed) % m);
    skip[i] = static_cast<uint32_t>(stable_hash(address, kSkipSeed) % (m - 1)) + 1;
    share[i] = sorted[i].weight / max_weight;  // in (0, 1]
  }

  // Endpoint i earns its k-th slot (k = 1, 2, ...) at "round" k / share_i; claims are made
  // in round order, ties by endpoint order. A heap keyed by the next claim's round makes
  // the fill O(m log n) however uneven the weights (scanning every endpoint every round
  // would cost m x n x max_w / sum(w)). Plain IEEE arithmetic on the same inputs keeps the
  // table identical in every process.
  struct Claim {
    double round;
    uint32_t i;
    uint64_t k;
  };
  auto later = [](const Claim& a, const Claim& b) {
    return a.round != b.round ? a.round > b.round : a.i > b.i;
  };
  std::priority_queue<Claim, std::vector<Claim>, decltype(later)> claims(later);
  for (uint32_t i = 0; i < n; ++i) claims.push(Claim{1.0 / share[i], i, 1});

  constexpr uint32_t kEmpty = UINT32_MAX;
  std::vector<uint32_t> table(m, kEmpty);
  for (uint32_t filled = 0; filled < m; ++filled) {
    Claim c = claims.top();
    claims.pop();
    const uint32_t i = c.i;
    // Walk endpoint i's permutation (position + j * skip mod m) to its next free slot.
    while (table[position[i]] != kEmpty) {
      position[i] = static_cast<uint32_t>((uint64_t{position[i]} + skip[i]) % m);
    }
    table[position[i]] = i;
    position[i] = static_cast<uint32_t>((uint64_t{position[i]} + skip[i]) % m);
    ++c.k;
    c.round = static_cast<double>(c.k) / share[i];
    claims.push(c);
  }
  if (n <= 65536) {
    narrow_.assign(table.begin(), table.end());
  } else {
    wide_ = std::move(table);
  }
}

Endpoint* Maglev::slot(uint32_t s) const {
  return endpoints_[narrow_.empty() ? wide_[s] : narrow_[s]];
}

Endpoint* Maglev::pick(const PickContext& context) const {
  uint64_t h;
  if (context.hash != nullptr) {
    h = mix64(*context.hash);
  } else if (!context.hash_key.empty()) {
    h = stable_hash(context.hash_key);
  } else {
    h = context.random.next();  // no key: place the request anywhere
  }
  uint32_t s = Random::reduce(h, size_);
  // A retry after an unusable choice moves to a neighbouring slot: deterministic, so every
  // caller fails over the same key to the same backend.
  if (context.attempt != 0)
    s = static_cast<uint32_t>((uint64_t{s} + context.attempt * 7919ULL) % size_);
  return slot(s);
}

extern const BalancingPolicy kConsistentHashPolicy = {
    "consistent_hash", "consistent_hash",
    [](const v1::Balancing& b) { return b.has_consistent_hash(); },
    [](const v1::Balancing& b, ValidationErrors& errors) {
      if (b.consistent_hash().min_table_size() > kMaxMaglevTableSize) {
        ValidationErrors::Scope size(errors, "min_table_size");
        errors.add(absl::StrCat("must be <= ", kMaxMaglevTableSize, ", got ",
                                b.consistent_hash().min_table_size()));
      }
    },
    [](const v1::Balancing& params,
       absl::Span<const WeightedEndpoint> endpoints) -> std::unique_ptr<Balancer> {
      return std::make_unique<Maglev>(endpoints, params.consistent_hash().min_table_size());
    }};

}  // namespace ufc::internal
