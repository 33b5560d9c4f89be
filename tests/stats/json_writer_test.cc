// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/stats/json_writer.h"

#include <limits>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

TEST(JsonWriterTest, NestsWithCommas) {
  JsonWriter w;
  w.begin_object()
      .key("a")
      .value(1)
      .key("b")
      .begin_array()
      .value("x")
      .value(2.5)
      .begin_object()
      .end_object();
  w.end_array().key("c").value(true).end_object();
  EXPECT_EQ(w.str(), R"({"a":1,"b":["x",2.5,{}],"c":true})");
}

TEST(JsonWriterTest, EscapesStringsAndNullsNonFiniteNumbers) {
  JsonWriter w;
  w.begin_array()
      .value("q\"b\\n\n\x01")
      .value(std::numeric_limits<double>::quiet_NaN())
      .end_array();
  EXPECT_EQ(w.str(), "[\"q\\\"b\\\\n\\n\\u0001\",null]");
}

}  // namespace
}  // namespace ufc::internal
