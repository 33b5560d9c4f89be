// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/stable_hash.h"

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

// Consistent hashing relies on every process computing the same values. The expected
// values come from an independent Python port of MurmurHash64A, so a change of byte order,
// tail handling or constants fails here.
TEST(StableHashTest, MatchesReferenceValues) {
  EXPECT_EQ(stable_hash(""), 0x0u);
  EXPECT_EQ(stable_hash("hello"), 0x1e68d17c457bf117u);
  EXPECT_EQ(stable_hash("10.0.0.1:8080"), 0xf4825df126d4920au);
  EXPECT_EQ(stable_hash("The quick brown fox jumps over the lazy dog"), 0x5589ca33042a861bu);
  EXPECT_EQ(stable_hash("abcdefgh", 42), 0x5383a9b618142929u);
}

TEST(StableHashTest, SeedChangesTheHash) {
  EXPECT_NE(stable_hash("10.0.0.1:80", 1), stable_hash("10.0.0.1:80", 2));
}

TEST(StableHashTest, Mix64SpreadsSequentialKeys) {
  // Sequential ids must not land in sequential buckets: the top bits differ.
  int same_top_byte = 0;
  for (uint64_t k = 0; k < 256; ++k) same_top_byte += (mix64(k) >> 56) == (mix64(k + 1) >> 56);
  EXPECT_LT(same_top_byte, 8);
}

}  // namespace
}  // namespace ufc::internal
