// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/config/validation_errors.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Value;
using internal::ValidationErrors;

// Why a second look at the JSON: protobuf 3.21's JSON parser is lenient where a config
// from the network must not be. In a repeated field it flattens an array inside the array
// ({"services":[[]]} is an empty config, and applying it removes every service), drops
// null elements ([null] is empty too) and takes a lone value as a one-element array; it
// turns a null map value into ""; and when a key appears twice in one object the last one
// wins. So the text is also read as a google.protobuf.Value (whose parser rejects
// duplicate keys) and that tree is walked beside the schema, each such shape an error
// naming its field. (A Duration written as {"seconds": 1} is also accepted; it means what
// it says, so it is left alone. A whole field set to null is the field's default, as the
// proto3 JSON mapping says.)

const char* kind_name(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return "a number";
    case Value::kStringValue:
      return "a string";
    case Value::kBoolValue:
      return "a boolean";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue:
      return "an array";
    default:
      return "nothing";
  }
}

// The field a JSON key names: its proto name or its JSON (lowerCamelCase) name, as the
// parser accepts both. nullptr for an unknown key (the message parser has rejected it).
const FieldDescriptor* field_for(const Descriptor& message, const std::string& key) {
  if (const FieldDescriptor* f = message.FindFieldByName(key)) return f;
  for (int i = 0; i < message.field_count(); ++i) {
    if (message.field(i)->json_name() == key) return message.field(i);
  }
  return nullptr;
}

// An object's entries in key order, so errors come out in the same order every time.
std::vector<std::pair<std::string, const Value*>> sorted_fields(const Value& object) {
  std::vector<std::pair<std::string, const Value*>> out;
  for (const auto& [key, value] : object.struct_value().fields()) out.emplace_back(key, &value);
  std::sort(out.begin(), out.end());
  return out;
}

void check_message(const Value& v, const Descriptor& message, ValidationErrors& errors);

void check_field(const Value& v, const FieldDescriptor& field, ValidationErrors& errors) {
  if (v.kind_case() == Value::kNullValue) return;  // the field's default
  if (field.is_map()) {
    if (v.kind_case() != Value::kStructValue) return;  // the message parser rejects it
    const FieldDescriptor& value_field = *field.message_type()->map_value();
    for (const auto& [key, value] : sorted_fields(v)) {
      ValidationErrors::Scope entry(errors, absl::StrCat("[\"", absl::CEscape(key), "\"]"));
      if (value->kind_case() == Value::kNullValue) {
        errors.add("null is not a map value (protobuf would read it as \"\")");
      } else if (value_field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        check_message(*value, *value_field.message_type(), errors);
      }
    }
    return;
  }
  if (field.is_repeated()) {
    if (v.kind_case() != Value::kListValue) {
      errors.add(absl::StrCat("must be an array, got ", kind_name(v)));
      return;
    }
    const google::protobuf::ListValue& list = v.list_value();
    for (int i = 0; i < list.values_size(); ++i) {
      ValidationErrors::Scope item(errors, absl::StrCat("[", i, "]"));
      const Value& element = list.values(i);
      if (element.kind_case() == Value::kListValue) {
        errors.add(
            "nested array: an array inside an array is not an element (protobuf would merge "
            "its contents into the outer array)");
      } else if (element.kind_case() == Value::kNullValue) {
        errors.add("null is not an element (protobuf would drop it)");
      } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        check_message(element, *field.message_type(), errors);
      }
    }
    return;
  }
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    check_message(v, *field.message_type(), errors);
  }
}

void check_message(const Value& v, const Descriptor& message, ValidationErrors& errors) {
  // Well-known types have JSON forms of their own (a Duration is "1.5s"); none repeats.
  if (v.kind_case() != Value::kStructValue ||
      message.well_known_type() != Descriptor::WELLKNOWNTYPE_UNSPECIFIED) {
    return;
  }
  for (const auto& [key, value] : sorted_fields(v)) {
    const FieldDescriptor* field = field_for(message, key);
    if (field == nullptr) continue;
    ValidationErrors::Scope scope(errors, field->name());
    check_field(*value, *field, errors);
  }
}

absl::Status parse_error(const google::protobuf::util::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("config JSON does not parse: ", std::string(status.message())));
}

}  // namespace

absl::StatusOr<v1::ClientConfig> parse_config_json(std::string_view json) {
  const google::protobuf::StringPiece text(json.data(), json.size());
  v1::ClientConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a typo must not silently disable a setting
  if (auto status = google::protobuf::util::JsonStringToMessage(text, &config, options);
      !status.ok()) {
    return parse_error(status);
  }
  // The same text as a plain JSON tree, for the shapes the message parser lets through.
  Value tree;
  if (auto status = google::protobuf::util::JsonStringToMessage(text, &tree); !status.ok()) {
    // It parsed as a ClientConfig, so this is most likely a key given twice in one object
    // ("Repeated map key: 'name' is already set."). Value's parser prefixes a path into the
    // Value message, which means nothing to the config's author: drop it.
    std::string message(status.message());
    if (!message.empty() && message[0] == '(') {
      const size_t end = message.find(") ");
      if (end != std::string::npos) message.erase(0, end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("config JSON does not parse: ", message));
  }
  ValidationErrors errors;
  check_message(tree, *v1::ClientConfig::descriptor(), errors);
  if (!errors.empty()) return errors.status();
  return config;
}

}  // namespace ufc
