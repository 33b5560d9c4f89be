// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/maglev.h"

#include <algorithm>
#include <map>
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

uint32_t maglev_table_size(uint32_t min_table_size, size_t endpoints) {
  const uint64_t wanted = std::max<uint64_t>(
      min_table_size == 0 ? kDefaultTableSize : min_table_size, uint64_t{100} * endpoints);
  return next_prime(static_cast<uint32_t>(std::min<uint64_t>(wanted, kMaxMaglevTableSize)));
}

Maglev::Maglev(absl::Span<const WeightedEndpoint> input, uint32_t min_table_size) {
  std::vector<WeightedEndpoint> sorted(input.begin(), input.end());
  std::sort(sorted.begin(), sorted.end(), [](const WeightedEndpoint& a, const WeightedEndpoint& b) {
    return a.endpoint->address() < b.endpoint->address();
  });
  const uint32_t n = static_cast<uint32_t>(sorted.size());
  size_ = maglev_table_size(min_table_size, n);
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
  // in round order, ties by endpoint order. Endpoints of equal weight claim at the same
  // rounds, so the heap holds one entry per distinct weight (one in all for equal
  // weights), keyed by its next round: O(m log w) for w distinct weights, however uneven
  // (scanning every endpoint every round would cost m x n x max_w / sum(w)). Plain IEEE
  // arithmetic on the same inputs keeps the table identical in every process.
  std::vector<std::vector<uint32_t>> classes;  // endpoints by equal share, ascending
  {
    std::map<double, uint32_t> class_of;
    for (uint32_t i = 0; i < n; ++i) {
      auto [it, inserted] = class_of.try_emplace(share[i], classes.size());
      if (inserted) classes.emplace_back();
      classes[it->second].push_back(i);
    }
  }
  struct Claim {
    double round;
    uint32_t cls;
    uint64_t k;
  };
  auto later = [&classes](const Claim& a, const Claim& b) {
    return a.round != b.round ? a.round > b.round : classes[a.cls].front() > classes[b.cls].front();
  };
  std::priority_queue<Claim, std::vector<Claim>, decltype(later)> claims(later);
  for (uint32_t c = 0; c < classes.size(); ++c) {
    claims.push(Claim{1.0 / share[classes[c].front()], c, 1});
  }
  // The fill probes a bitmap of taken slots (m / 8 bytes: cache-resident where the table
  // is not) and writes each slot of the table once.
  std::vector<uint64_t> taken((m + 63) / 64, 0);
  std::vector<uint32_t> table(m);
  uint32_t filled = 0;
  auto claim = [&](uint32_t i) {
    uint32_t p = position[i];
    while (taken[p >> 6] & (uint64_t{1} << (p & 63))) {  // walk i's permutation to a free slot
      p += skip[i];
      if (p >= m) p -= m;
    }
    taken[p >> 6] |= uint64_t{1} << (p & 63);
    table[p] = i;
    p += skip[i];
    position[i] = p >= m ? p - m : p;
    ++filled;
  };
  std::vector<Claim> due;
  std::vector<size_t> next;
  while (filled < m) {
    // Every class due at the earliest round claims, merged by endpoint order.
    due.assign(1, claims.top());
    claims.pop();
    while (!claims.empty() && claims.top().round == due[0].round) {
      due.push_back(claims.top());
      claims.pop();
    }
    if (due.size() == 1) {
      for (uint32_t i : classes[due[0].cls]) {
        if (filled == m) break;
        claim(i);
      }
    } else {
      next.assign(due.size(), 0);
      while (filled < m) {
        size_t best = due.size();
        for (size_t d = 0; d < due.size(); ++d) {
          if (next[d] == classes[due[d].cls].size()) continue;
          if (best == due.size() ||
              classes[due[d].cls][next[d]] < classes[due[best].cls][next[best]]) {
            best = d;
          }
        }
        if (best == due.size()) break;
        claim(classes[due[best].cls][next[best]++]);
      }
    }
    for (Claim c : due) {
      ++c.k;
      c.round = static_cast<double>(c.k) / share[classes[c.cls].front()];
      claims.push(c);
    }
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
    "consistent_hash",
    "consistent_hash",
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
    },
    [](const v1::Balancing& params, size_t endpoints) -> uint64_t {
      return maglev_table_size(params.consistent_hash().min_table_size(), endpoints);
    }};

}  // namespace ufc::internal
