// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/random.h: the randomness UFC's decisions draw on (random and weighted-random
// balancing, power-of-two choices, consistent hashing without a key, routing percentages and
// weighted destinations, and fusing's random drops), injectable so tests are deterministic.

#ifndef UFC_RANDOM_H_
#define UFC_RANDOM_H_

#include <cstdint>

namespace ufc {

// RandomSource: a stream of uniformly distributed 64-bit values.
//
// When `ClientOptions::random` is left empty UFC uses its own per-thread xoshiro256**
// generators, seeded from std::random_device, which cost about a nanosecond and never
// contend. An injected source replaces them for every thread, so it must be thread-safe;
// it is meant for tests and simulations, where determinism matters more than speed.
class RandomSource {
 public:
  virtual ~RandomSource() = default;

  // Returns the next value. Called on the request path, from any thread.
  virtual uint64_t next() = 0;
};

}  // namespace ufc

#endif  // UFC_RANDOM_H_
