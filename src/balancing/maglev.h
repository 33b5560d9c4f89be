// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/maglev.h: "consistent_hash" — weighted Maglev hashing.

#ifndef UFC_BALANCING_MAGLEV_H_
#define UFC_BALANCING_MAGLEV_H_

#include <cstdint>
#include <vector>

#include "src/balancing/balancer.h"

namespace ufc::internal {

// The largest table, and the most `consistent_hash.min_table_size` may ask for: a prime just
// under 2^22 (8 MiB of table).
inline constexpr uint32_t kMaxMaglevTableSize = 4194301;

// Maglev: a lookup table of M (prime) slots filled by each endpoint's own permutation of
// the slots, taking turns (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
// Load Balancer", NSDI 2016, section 3.4). Weighted like Envoy's Maglev: per turn an
// endpoint earns weight/max_weight of a slot and claims one per whole slot earned.
//
// Every caller builds the same table: endpoints are ordered by address and hashed with
// a process-independent hash, so a key maps to the same backend from every process.
// Removing one of N endpoints moves about 1/N of keys (plus a little, shrinking with
// M/N). A pick is one hash of the key and one table load.
//
// M is the smallest prime >= max(min_table_size or 65537, 100 x endpoints), at most
// kMaxMaglevTableSize. Memory: 2 bytes per slot (4 beyond 65535 endpoints).
class Maglev final : public Balancer {
 public:
  Maglev(absl::Span<const WeightedEndpoint> endpoints, uint32_t min_table_size);
  Endpoint* pick(const PickContext& context) const override;
  size_t memory_bytes() const override {
    return endpoints_.capacity() * sizeof(Endpoint*) + narrow_.capacity() * 2 +
           wide_.capacity() * 4;
  }

  uint32_t table_size() const { return size_; }
  // The endpoint in slot `slot`, for tests.
  Endpoint* slot(uint32_t slot) const;

 private:
  std::vector<Endpoint*> endpoints_;  // sorted by address
  std::vector<uint16_t> narrow_;      // the table when endpoints <= 65536
  std::vector<uint32_t> wide_;        // otherwise
  uint32_t size_ = 0;
};

// M for `endpoints` endpoints, as above.
uint32_t maglev_table_size(uint32_t min_table_size, size_t endpoints);

// The smallest prime >= n (n <= 2^31). Exposed for tests.
uint32_t next_prime(uint32_t n);

}  // namespace ufc::internal

#endif  // UFC_BALANCING_MAGLEV_H_
