// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/stats/json_writer.h: emits the JSON that `Client::query` returns.

#ifndef UFC_STATS_JSON_WRITER_H_
#define UFC_STATS_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace ufc::internal {

// JsonWriter: a streaming writer for objects, arrays, strings and numbers, with commas
// and string escaping handled. Writing only: UFC parses JSON with protobuf's mapping.
// The output is always valid JSON text in UTF-8, whatever bytes the strings hold: a byte
// that does not start a well-formed UTF-8 sequence is written as U+FFFD.
//
//   JsonWriter w;
//   w.begin_object().key("request_cnt").value(6).end_object();  // {"request_cnt":6}
//
// Thread-safety: none.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& key(const char* k) { return key(std::string_view(k)); }
  JsonWriter& key(const std::string& k) { return key(std::string_view(k)); }
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(const std::string& v) { return value(std::string_view(v)); }
  JsonWriter& value(absl::string_view v) { return value(std::string_view(v.data(), v.size())); }
  JsonWriter& value(uint64_t v);
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
  JsonWriter& value(double v);  // non-finite values are written as null
  JsonWriter& value(bool v);

  const std::string& str() const { return out_; }

 private:
  void separate();
  void write_string(std::string_view s);

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Appends `s` as a quoted JSON string: escapes, control characters as \u00XX, and U+FFFD
// for each byte that does not start a well-formed UTF-8 sequence.
void append_json_string(std::string& out, std::string_view s);

}  // namespace ufc::internal

#endif  // UFC_STATS_JSON_WRITER_H_
