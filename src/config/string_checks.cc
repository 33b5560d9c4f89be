// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/string_checks.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/common/utf8.h"
#include "src/config/limits.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// What is wrong with `s` ("" when nothing): too long first, since then its bytes are not
// worth reading. A map key is named as such, since it cannot name its own path.
std::string string_problem(std::string_view s, size_t limit, bool key) {
  if (s.size() > limit) {
    return absl::StrCat(key ? "a key " : "", "must be at most ", limit, " bytes, got ", s.size());
  }
  if (const size_t at = utf8_invalid_at(s); at != std::string_view::npos) {
    return absl::StrCat(key ? "a key is " : "", "not valid UTF-8 at byte ", at);
  }
  return "";
}

void check_value(std::string_view s, size_t limit, ValidationErrors& errors) {
  if (std::string problem = string_problem(s, limit, false); !problem.empty()) errors.add(problem);
}

// The schema's string maps (Endpoint.tags, Subset.tags, ClientConfig.idc_map), read as the
// maps they are. Through reflection, a map is only reachable as repeated entries, and that
// view makes protobuf build and keep a message per entry beside the map: ~70 MiB left in
// the caller's config for 100,000 endpoints' tags. nullptr for any other map.
const google::protobuf::Map<std::string, std::string>* string_map(const Message& message,
                                                                  const FieldDescriptor& field) {
  if (&field == v1::Endpoint::descriptor()->FindFieldByNumber(v1::Endpoint::kTagsFieldNumber)) {
    return &static_cast<const v1::Endpoint&>(message).tags();
  }
  if (&field == v1::Subset::descriptor()->FindFieldByNumber(v1::Subset::kTagsFieldNumber)) {
    return &static_cast<const v1::Subset&>(message).tags();
  }
  if (&field ==
      v1::ClientConfig::descriptor()->FindFieldByNumber(v1::ClientConfig::kIdcMapFieldNumber)) {
    return &static_cast<const v1::ClientConfig&>(message).idc_map();
  }
  return nullptr;
}

// A map field: checked in key order (errors come out the same every time).
void check_map(const Message& message, const FieldDescriptor& field, ValidationErrors& errors) {
  const FieldDescriptor& key_field = *field.message_type()->map_key();
  const FieldDescriptor& value_field = *field.message_type()->map_value();
  struct Entry {
    std::string_view key;  // for sorting and the path; empty when the key is not a string
    std::string_view value;
    const Message* entry;  // when not a string map
  };
  std::vector<Entry> entries;
  std::vector<std::string> keys;  // the keys of a map read as entries
  const bool string_key = key_field.cpp_type() == FieldDescriptor::CPPTYPE_STRING;
  if (const auto* map = string_map(message, field); map != nullptr) {
    entries.reserve(map->size());
    for (const auto& [key, value] : *map) entries.push_back({key, value, nullptr});
  } else {
    const Reflection& reflection = *message.GetReflection();
    const int n = reflection.FieldSize(message, &field);
    keys.reserve(n);  // entries point into it: no reallocation
    for (int i = 0; i < n; ++i) {
      const Message& entry = reflection.GetRepeatedMessage(message, &field, i);
      keys.push_back(string_key ? entry.GetReflection()->GetString(entry, &key_field) : "");
      entries.push_back({keys.back(), {}, &entry});
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  for (const Entry& e : entries) {
    if (string_key) {
      if (std::string problem = string_problem(e.key, kMaxNameLength, true); !problem.empty()) {
        errors.add(problem);  // at the map; the entry has no printable name, skip its value
        continue;
      }
    }
    ValidationErrors::Scope scope(
        errors,
        string_key ? absl::StrCat(
                         "[\"", absl::CEscape(absl::string_view(e.key.data(), e.key.size())), "\"]")
                   : std::string("[]"));
    if (e.entry == nullptr) {
      check_value(e.value, string_limit(value_field), errors);
      continue;
    }
    const Reflection& entry_reflection = *e.entry->GetReflection();
    if (value_field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string scratch;
      check_value(entry_reflection.GetStringReference(*e.entry, &value_field, &scratch),
                  string_limit(value_field), errors);
    } else if (value_field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      check_strings(entry_reflection.GetMessage(*e.entry, &value_field), errors);
    }
  }
}

}  // namespace

size_t string_limit(const FieldDescriptor& field) {
  // Free-form values (limits.h says why these): everything else is a name.
  const std::string& name = field.full_name();
  if (name == "ufc.v1.AttributeMatch.value" || name == "ufc.v1.Endpoint.address") {
    return kMaxValueLength;
  }
  return kMaxNameLength;
}

void check_strings(const Message& message, const FieldDescriptor& field, ValidationErrors& errors) {
  const Reflection& reflection = *message.GetReflection();
  if (field.is_map()) {
    ValidationErrors::Scope scope(errors, field.name());
    check_map(message, field, errors);
    return;
  }
  const bool is_string = field.cpp_type() == FieldDescriptor::CPPTYPE_STRING;
  const bool is_message = field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!is_string && !is_message) return;
  ValidationErrors::Scope scope(errors, field.name());
  std::string scratch;  // GetStringReference's fallback; unused for ordinary fields
  if (field.is_repeated()) {
    const int n = reflection.FieldSize(message, &field);
    for (int i = 0; i < n; ++i) {
      ValidationErrors::Scope item(errors, absl::StrCat("[", i, "]"));
      if (is_string) {
        check_value(reflection.GetRepeatedStringReference(message, &field, i, &scratch),
                    string_limit(field), errors);
      } else {
        check_strings(reflection.GetRepeatedMessage(message, &field, i), errors);
      }
    }
    return;
  }
  if (is_string) {
    check_value(reflection.GetStringReference(message, &field, &scratch), string_limit(field),
                errors);
  } else {
    check_strings(reflection.GetMessage(message, &field), errors);
  }
}

void check_strings(const Message& message, ValidationErrors& errors) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // the set ones, by number
  for (const FieldDescriptor* field : fields) check_strings(message, *field, errors);
}

}  // namespace ufc::internal
