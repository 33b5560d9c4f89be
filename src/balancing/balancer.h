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
#include "src/balancing/sharded_cursor.h"
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
  Balancer() = default;
  Balancer(const Balancer&) = delete;  // show_cursor() points into the subclass
  Balancer& operator=(const Balancer&) = delete;
  virtual ~Balancer() = default;

  // Never returns nullptr: the candidate list is not empty.
  virtual Endpoint* pick(const PickContext& context) const = 0;

  // Heap bytes the policy holds beyond sizeof(*this), for memory accounting.
  virtual size_t memory_bytes() const = 0;

  // The simple policies' choice without a virtual call, for the request path's short path
  // (which then makes no call at all). Round robin and weighted round robin show their
  // cursor (kCursor: pick(context) is pick_by_cursor(context.thread)); random shows its
  // table (kUniform: pick(context) is pick_uniform(context.random.next())). The others
  // show nothing (kNone) and are asked through pick().
  enum class Shortcut : uint8_t { kNone, kCursor, kUniform };
  Shortcut shortcut() const { return shortcut_; }
  ABSL_ATTRIBUTE_ALWAYS_INLINE Endpoint* pick_by_cursor(uint32_t thread) const {
    const uint32_t i = cursor_->next(thread);
    return table_[schedule_ != nullptr ? schedule_[i] : i];
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE Endpoint* pick_uniform(uint64_t random) const {
    return table_[Random::reduce(random, size_)];
  }

 protected:
  // `cursor` steps over `schedule` (indices into `table`), or over `table` itself when
  // `schedule` is nullptr; or a uniform choice among the `size` entries of `table`. What
  // they point to is the subclass's and never changes after this.
  void show_cursor(const ShardedCursor* cursor, Endpoint* const* table, const uint32_t* schedule) {
    shortcut_ = Shortcut::kCursor;
    cursor_ = cursor;
    table_ = table;
    schedule_ = schedule;
  }
  void show_uniform(Endpoint* const* table, uint32_t size) {
    shortcut_ = Shortcut::kUniform;
    table_ = table;
    size_ = size;
  }

 private:
  Shortcut shortcut_ = Shortcut::kNone;
  uint32_t size_ = 0;
  const ShardedCursor* cursor_ = nullptr;
  Endpoint* const* table_ = nullptr;
  const uint32_t* schedule_ = nullptr;
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
