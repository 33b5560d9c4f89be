// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/seeded_random.h: a deterministic, thread-safe RandomSource.

#ifndef UFC_TESTS_TESTING_SEEDED_RANDOM_H_
#define UFC_TESTS_TESTING_SEEDED_RANDOM_H_

#include <cstdint>
#include <mutex>
#include <random>

#include "ufc/random.h"

namespace ufc::testing {

// SeededRandom: std::mt19937_64 behind a mutex. The same seed gives the same stream.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next() override {
    std::lock_guard<std::mutex> lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_SEEDED_RANDOM_H_
