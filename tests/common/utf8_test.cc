// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

constexpr size_t kValid = std::string_view::npos;

TEST(Utf8Test, AcceptsEveryLengthOfWellFormedSequence) {
  EXPECT_EQ(utf8_invalid_at(""), kValid);
  EXPECT_EQ(utf8_invalid_at("plain ascii"), kValid);
  EXPECT_EQ(utf8_invalid_at("caf\xc3\xa9"), kValid);       // U+00E9
  EXPECT_EQ(utf8_invalid_at("\xe2\x82\xac"), kValid);      // U+20AC
  EXPECT_EQ(utf8_invalid_at("\xed\x9f\xbf"), kValid);      // U+D7FF, below surrogates
  EXPECT_EQ(utf8_invalid_at("\xf0\x9f\x98\x80"), kValid);  // U+1F600
  EXPECT_EQ(utf8_invalid_at("\xf4\x8f\xbf\xbf"), kValid);  // U+10FFFF, the last
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80 tail"), 4u);
}

TEST(Utf8Test, NamesTheFirstBadByte) {
  EXPECT_EQ(utf8_invalid_at("abcd\x80"), 4u);                  // stray continuation byte
  EXPECT_EQ(utf8_invalid_at("ab\xe2\x82"), 2u);                // truncated
  EXPECT_EQ(utf8_invalid_at("\xc0\xaf"), 0u);                  // overlong '/'
  EXPECT_EQ(utf8_invalid_at("\xe0\x80\xaf"), 0u);              // overlong, 3 bytes
  EXPECT_EQ(utf8_invalid_at("\xf0\x80\x80\xaf"), 0u);          // overlong, 4 bytes
  EXPECT_EQ(utf8_invalid_at("x\xed\xa0\x80"), 1u);             // U+D800, a surrogate
  EXPECT_EQ(utf8_invalid_at("\xf4\x90\x80\x80"), 0u);          // U+110000
  EXPECT_EQ(utf8_invalid_at("\xc3\xa9\xf5\x80\x80\x80"), 2u);  // F5 never leads
  EXPECT_EQ(utf8_invalid_at("\xe2\x28\xa1"), 0u);              // bad second byte
  EXPECT_EQ(utf8_invalid_at(std::string("a\0\xff", 3)), 2u);   // NUL is valid UTF-8
}

}  // namespace
}  // namespace ufc::internal
