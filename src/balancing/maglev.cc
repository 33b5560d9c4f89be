// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/maglev.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>
#include <utility>

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

// a^-1 mod m, for a in [1, m) and m prime (extended Euclid).
uint32_t inverse_mod(uint32_t a, uint32_t m) {
  int64_t t = 0, next_t = 1, r = m, next_r = a;
  while (next_r != 0) {
    const int64_t q = r / next_r;
    t = std::exchange(next_t, t - q * next_t);
    r = std::exchange(next_r, r - q * next_r);
  }
  return static_cast<uint32_t>(t < 0 ? t + m : t);
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
  // By address. Sorted with the address's first 8 bytes (big-endian) beside it: most
  // comparisons end there, without a trip to the endpoint.
  struct Keyed {
    uint64_t prefix;
    std::string_view address;
    WeightedEndpoint endpoint;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(input.size());
  for (const WeightedEndpoint& e : input) {
    const std::string_view address = e.endpoint->address();
    uint64_t prefix = 0;
    for (size_t b = 0; b < 8; ++b) {
      prefix = prefix << 8 | (b < address.size() ? static_cast<unsigned char>(address[b]) : 0);
    }
    keyed.push_back(Keyed{prefix, address, e});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.address < b.address;
  });
  std::vector<WeightedEndpoint> sorted;
  sorted.reserve(keyed.size());
  for (const Keyed& k : keyed) sorted.push_back(k.endpoint);
  keyed = {};
  const uint32_t n = static_cast<uint32_t>(sorted.size());
  size_ = maglev_table_size(min_table_size, n);
  const uint32_t m = size_;

  double max_weight = 0;
  for (const WeightedEndpoint& e : sorted) max_weight = std::max(max_weight, e.weight);
  // Each endpoint's place in its permutation and its step, side by side: a claim reads
  // both, and endpoints claim ~100 apart in index, so apart they were two cache misses.
  struct Walk {
    uint32_t position;
    uint32_t skip;
  };
  std::vector<Walk> walks(n);
  std::vector<double> share(n);
  for (uint32_t i = 0; i < n; ++i) {
    endpoints_.push_back(sorted[i].endpoint);
    const std::string_view address = sorted[i].endpoint->address();
    walks[i].position = static_cast<uint32_t>(stable_hash(address, kOffsetSeed) % m);
    walks[i].skip = static_cast<uint32_t>(stable_hash(address, kSkipSeed) % (m - 1)) + 1;
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
  // The fill walks each endpoint's permutation over a bitmap of taken slots (m / 8
  // bytes: cache-resident where the table is not) and writes each slot of the table once.
  // A walk costs about m / F probes while F slots are free, which would make the last
  // slots most of the build (m ln m probes in all). So once F is down to ~sqrt(m), each
  // claim scans the free slots instead, for the one its walk would reach first: the one
  // the fewest steps ahead, (slot - position) / skip mod m. The same slot, so the same
  // table, at F modular products a claim.
  std::vector<uint64_t> taken((m + 63) / 64, 0);
  // Claims land on random slots: written straight into a table of up to 16 MiB, nearly
  // every one would be a cache miss (staging saves ~15% of the build at 100,000). They
  // are staged by table region instead (each region gets exactly as many claims as it has
  // slots: 64 KiB of table, one append stream each) and written region by region at the
  // end. A staged claim packs the slot within its region and the endpoint in 32 bits.
  constexpr uint32_t kRegionBits = 14, kEndpointBits = 32 - kRegionBits;
  const bool stage = n <= (uint32_t{1} << kEndpointBits);
  // Regions are staged 64 KiB + one cache line apart: at exactly 64 KiB, every stream's
  // head would map to the same L1 and L2 set.
  const uint32_t regions = stage ? ((m - 1) >> kRegionBits) + 1 : 0;
  constexpr uint32_t kSkew = 16;  // uint32s: one cache line
  auto region_base = [](uint32_t r) { return (r << kRegionBits) + r * kSkew; };
  std::vector<uint32_t> staged(stage ? region_base(regions) : m);  // the table when not staging
  std::vector<uint32_t> region_end(regions);
  for (uint32_t r = 0; r < regions; ++r) region_end[r] = region_base(r);
  uint32_t filled = 0;
  const uint32_t scan_from = std::max<uint32_t>(16, static_cast<uint32_t>(std::sqrt(m)));
  std::vector<uint32_t> free_slots;  // filled only once the scan takes over
  std::vector<uint32_t> inverse;     // skip[i]^-1 mod m, 0 until endpoint i needs it
  auto walk = [&](uint32_t i) {
    // Locals, so that the loop is the probe alone (no reloads through the captures).
    uint64_t* const bits = taken.data();
    const uint32_t step = walks[i].skip, size = m;
    uint32_t p = walks[i].position;
    while (bits[p >> 6] & (uint64_t{1} << (p & 63))) {
      p += step;
      if (p >= size) p -= size;
    }
    bits[p >> 6] |= uint64_t{1} << (p & 63);
    return p;
  };
  auto scan = [&](uint32_t i) {
    if (inverse[i] == 0) inverse[i] = inverse_mod(walks[i].skip, m);
    const uint64_t from = walks[i].position, step_inverse = inverse[i];
    size_t best = 0;
    uint64_t best_steps = ~uint64_t{0};
    for (size_t f = 0; f < free_slots.size(); ++f) {
      const uint64_t ahead = free_slots[f] >= from ? free_slots[f] - from : free_slots[f] + m - from;
      const uint64_t steps = ahead * step_inverse % m;
      if (steps < best_steps) {
        best_steps = steps;
        best = f;
      }
    }
    const uint32_t p = free_slots[best];
    free_slots[best] = free_slots.back();
    free_slots.pop_back();
    return p;
  };
  auto claim = [&](uint32_t i) {
    uint32_t p = free_slots.empty() ? walk(i) : scan(i);
    if (stage) {
      staged[region_end[p >> kRegionBits]++] =
          (p & ((uint32_t{1} << kRegionBits) - 1)) << kEndpointBits | i;
    } else {
      staged[p] = i;
    }
    p += walks[i].skip;
    walks[i].position = p >= m ? p - m : p;
    ++filled;
    if (free_slots.empty() && m - filled <= scan_from && filled < m) {
      free_slots.reserve(m - filled);
      for (uint32_t s = 0; s < m; ++s) {
        if (!(taken[s >> 6] & (uint64_t{1} << (s & 63)))) free_slots.push_back(s);
      }
      inverse.assign(n, 0);
    }
  };
  std::vector<Claim> due;
  // Several classes due at once (with weights 1..100, every class at round 100) claim in
  // endpoint order. Many members in all: mark them in a bitmap over the endpoints and
  // claim its set bits in order (O(n / 64) a round, paid for by at least n / 64 claims);
  // few: a k-way merge of their member lists, one heap step a claim.
  struct Cursor {
    uint32_t endpoint;  // the next of its class to claim
    uint32_t cls;
    uint32_t next;      // index of `endpoint` in its class
  };
  std::vector<Cursor> merge;
  auto after = [](const Cursor& a, const Cursor& b) { return a.endpoint > b.endpoint; };
  std::vector<uint64_t> members_due((n + 63) / 64, 0);
  // A round's claims, in order. Which endpoints claim, and in what order, never depends on
  // the slots they get, so the first probe of a claim a few ahead is known: prefetched,
  // the claims' probes overlap instead of each waiting out its own cache miss (the fill
  // of 100,000 endpoints' 4,194,301 slots: ~290 -> ~205 ms).
  std::vector<uint32_t> order;
  auto claim_in_order = [&](const std::vector<uint32_t>& endpoints) {
    constexpr size_t kAhead = 8;  // the bitmap word of the claim this far ahead
    const size_t count = endpoints.size();
    for (size_t k = 0; k < count && filled < m; ++k) {
      if (k + 2 * kAhead < count) __builtin_prefetch(&walks[endpoints[k + 2 * kAhead]]);
      if (k + kAhead < count) __builtin_prefetch(&taken[walks[endpoints[k + kAhead]].position >> 6]);
      claim(endpoints[k]);
    }
  };
  while (filled < m) {
    // Every class due at the earliest round claims, merged by endpoint order.
    due.assign(1, claims.top());
    claims.pop();
    size_t members = classes[due[0].cls].size();
    while (!claims.empty() && claims.top().round == due[0].round) {
      due.push_back(claims.top());
      members += classes[claims.top().cls].size();
      claims.pop();
    }
    if (due.size() == 1) {
      claim_in_order(classes[due[0].cls]);
    } else if (members >= members_due.size()) {
      order.clear();
      for (const Claim& c : due) {
        for (uint32_t i : classes[c.cls]) members_due[i >> 6] |= uint64_t{1} << (i & 63);
      }
      for (size_t w = 0; w < members_due.size(); ++w) {
        for (uint64_t bits = std::exchange(members_due[w], 0); bits != 0; bits &= bits - 1) {
          order.push_back(static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits)));
        }
      }
      claim_in_order(order);
    } else {
      order.clear();
      merge.clear();
      for (const Claim& c : due) merge.push_back(Cursor{classes[c.cls].front(), c.cls, 0});
      std::make_heap(merge.begin(), merge.end(), after);
      while (!merge.empty()) {
        std::pop_heap(merge.begin(), merge.end(), after);
        Cursor& first = merge.back();
        order.push_back(first.endpoint);
        const std::vector<uint32_t>& of_class = classes[first.cls];
        if (++first.next == of_class.size()) {
          merge.pop_back();
        } else {
          first.endpoint = of_class[first.next];
          std::push_heap(merge.begin(), merge.end(), after);
        }
      }
      claim_in_order(order);
    }
    for (Claim c : due) {
      ++c.k;
      c.round = static_cast<double>(c.k) / share[classes[c.cls].front()];
      claims.push(c);
    }
  }
  auto unstage = [&](auto& table) {
    table.resize(m);
    for (uint32_t r = 0; r < regions; ++r) {
      const uint32_t region_start = r << kRegionBits;
      for (uint32_t at = region_base(r); at < region_end[r]; ++at) {
        const uint32_t claim = staged[at];
        table[region_start | claim >> kEndpointBits] =
            claim & ((uint32_t{1} << kEndpointBits) - 1);
      }
    }
  };
  if (n <= 65536) {
    unstage(narrow_);
  } else if (stage) {
    unstage(wide_);
  } else {
    wide_ = std::move(staged);
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
