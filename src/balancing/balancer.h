// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/balancer.h: the interface every load-balancing policy implements.
//
// A balancer is built once per config version (or routing subset) over a fixed list of
// endpoints and never changes afterwards except for its own relaxed cursors: the control
// path builds a new one and swaps the snapshot that owns it, the request path only calls
// pick(). Policies live one per file in this folder, each registering itself in the
// registry (policy_registry.h).

#ifndef UFC_BALANCING_BALANCER_H_
#define UFC_BALANCING_BALANCER_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/common/fast_random.h"
#include "src/endpoint/endpoint.h"

namespace ufc::internal {

// What a policy may use to decide, assembled by the client for each pick.
// (Laid out without padding, which lets the request path build one with plain stores.)
struct PickContext {
  Random random;
  uint32_t shard = 0;  // cpu_shard(): the endpoints' per-CPU view this pick reads and writes
  // thread_shard(): which round-robin cursor this pick advances. Per thread, not per CPU,
  // so that one thread sees a strict rotation even when it migrates between CPUs.
  uint32_t thread = 0;
  int64_t now_ns = 0;  // CoarseClock reading
  std::string_view hash_key;
  const uint64_t* hash = nullptr;  // pre-hashed key, if the caller gave one
  // 0 for the first choice; n when the previous n choices were unusable (banned, already
  // tried). Deterministic policies use it to move on to their next candidate.
  uint64_t attempt = 0;
};
static_assert(sizeof(PickContext) == 56, "PickContext has padding");

// A candidate as the factory receives it. Only weight > 0 candidates reach a policy.
struct WeightedEndpoint {
  Endpoint* endpoint;
  double weight;
};

// Balancer: chooses one endpoint.
//
// Thread-safety: pick() may run on any number of threads at once; it touches only
// per-shard cursors and the endpoints' own atomics. Cost: O(1) for every policy.
class Balancer {
 public:
  virtual ~Balancer() = default;

  // Never returns nullptr: the candidate list is not empty.
  virtual Endpoint* pick(const PickContext& context) const = 0;

  // Heap bytes the policy holds beyond sizeof(*this), for memory accounting.
  virtual size_t memory_bytes() const = 0;
};

// pick_admitted() is how the client asks a balancer: its choice, unless that endpoint's
// admission word refuses it (endpoint.h: held since its failure window tripped, or on
// probation and not drawn this time); then the balancer's next choice (context.attempt
// counts up, as for backends a request already tried), up to min(candidates, 64) times,
// and the last choice if none admits (fail open: never no backend).
// Cost: for an endpoint that takes picks as usual (admission 0), one load from a cache
// line pick reads anyway and a branch; the rest only while some endpoint is held or on
// probation. Thread-safety: as Balancer::pick.
Endpoint* pick_again(const Balancer& balancer, PickContext& context, size_t candidates,
                     Endpoint* refused);
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Endpoint* pick_admitted(const Balancer& balancer,
                                                            PickContext& context,
                                                            size_t candidates) {
  Endpoint* e = balancer.pick(context);
  if (__builtin_expect(e->admission() == 0, 1)) return e;
  return pick_again(balancer, context, candidates, e);
}

}  // namespace ufc::internal

#endif  // UFC_BALANCING_BALANCER_H_
