// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/stats/json_writer.h"

#include <limits>
#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
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

// Whether `json` is valid JSON, by protobuf's parser (which also checks UTF-8).
bool parses_as_json(const std::string& json) {
  google::protobuf::Value value;
  return google::protobuf::util::JsonStringToMessage(json, &value).ok();
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharactersAndTheOutputStaysValidJson) {
  // A stray continuation byte, a truncated sequence, an overlong '/', a surrogate, a code
  // point above U+10FFFF, a lone F5: each bad byte is written as U+FFFD ("\xef\xbf\xbd").
  const std::string bad[] = {
      "a\x80"
      "b",
      "a\xe2\x82",
      "\xc0\xaf",
      "\xed\xa0\x80",
      "\xf4\x90\x80\x80",
      "\xf5"};
  for (const std::string& s : bad) {
    JsonWriter w;
    w.begin_object().key(s).value(s).end_object();
    EXPECT_TRUE(parses_as_json(w.str())) << w.str();
  }
  JsonWriter w;
  w.value(
      std::string("a\x80"
                  "b\xe2\x82"));
  EXPECT_EQ(w.str(),
            "\"a\xef\xbf\xbd"
            "b\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(JsonWriterTest, WellFormedUtf8IsCopiedAsIs) {
  const std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd";
  JsonWriter w;
  w.value(s);
  EXPECT_EQ(w.str(), "\"" + s + "\"");
  EXPECT_TRUE(parses_as_json(w.str()));
}

}  // namespace
}  // namespace ufc::internal
