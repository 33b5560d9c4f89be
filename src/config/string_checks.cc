// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/string_checks.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "src/common/utf8.h"
#include "src/config/schema_maps.h"
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

void check_all(const Message& message, ValidationErrors& errors);

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
  if (const auto* map = schema_string_map(message, field); map != nullptr) {
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
      check_all(entry_reflection.GetMessage(*e.entry, &value_field), errors);
    }
  }
}

// check_field() and check_all(): the walk that names every problem's path.
void check_field(const Message& message, const FieldDescriptor& field, ValidationErrors& errors) {
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
        check_all(reflection.GetRepeatedMessage(message, &field, i), errors);
      }
    }
    return;
  }
  if (is_string) {
    check_value(reflection.GetStringReference(message, &field, &scratch), string_limit(field),
                errors);
  } else {
    check_all(reflection.GetMessage(message, &field), errors);
  }
}

void check_all(const Message& message, ValidationErrors& errors) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // the set ones, by number
  for (const FieldDescriptor* field : fields) check_field(message, *field, errors);
}

// The fast path: whether every string is fine, without paths, sorting or allocation. A
// config that passes (nearly every one) is checked by it alone; one that does not is
// walked again by check_all() for its errors. It only has to be conservative: "clean"
// must mean check_all() would find nothing.
//
// StringPlan: the fields of a message type that can hold a string (strings, maps, and
// messages with strings somewhere below), each with its limit. Built once per type.
struct StringPlan {
  struct Field {
    const FieldDescriptor* field;
    size_t limit;               // a string field's, or a string map's values'
    const StringPlan* message;  // a message field's (or a message-valued map's)
  };
  std::vector<Field> fields;
};

bool clean(std::string_view s, size_t limit) {
  return s.size() <= limit && utf8_invalid_at(s) == std::string_view::npos;
}

const StringPlan* plan_for(const google::protobuf::Descriptor* type) {
  static absl::Mutex mu;
  static auto* plans = new absl::node_hash_map<const google::protobuf::Descriptor*, StringPlan>;
  absl::MutexLock lock(&mu);
  // Built depth first; a type's entry exists (empty) before its fields are read, so a
  // recursive type ends. node_hash_map: plans never move.
  struct Builder {
    absl::node_hash_map<const google::protobuf::Descriptor*, StringPlan>& plans;
    absl::flat_hash_set<const google::protobuf::Descriptor*> building;
    const StringPlan* build(const google::protobuf::Descriptor* t) {
      if (auto it = plans.find(t); it != plans.end()) return &it->second;
      StringPlan& plan = plans[t];
      building.insert(t);
      for (int i = 0; i < t->field_count(); ++i) {
        const FieldDescriptor* f = t->field(i);
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          plan.fields.push_back({f, string_limit(*f), nullptr});
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          const StringPlan* sub = build(f->message_type());
          // A type still being built (recursion) may look empty here: keep its field.
          if (!sub->fields.empty() || building.contains(f->message_type())) {
            plan.fields.push_back({f, 0, sub});
          }
        }
      }
      building.erase(t);
      return &plan;
    }
  };
  Builder builder{*plans, {}};
  return builder.build(type);
}

bool clean_message(const Message& message, const StringPlan& plan);

bool clean_map(const Message& message, const FieldDescriptor& field) {
  if (const auto* map = schema_string_map(message, field); map != nullptr) {
    const size_t limit = string_limit(*field.message_type()->map_value());
    for (const auto& [key, value] : *map) {
      if (!clean(key, kMaxNameLength) || !clean(value, limit)) return false;
    }
    return true;
  }
  return false;  // any other map: the full walk decides
}

bool clean_message(const Message& message, const StringPlan& plan) {
  const Reflection& reflection = *message.GetReflection();
  std::string scratch;
  for (const StringPlan::Field& f : plan.fields) {
    const FieldDescriptor& field = *f.field;
    if (field.is_map()) {
      if (reflection.FieldSize(message, &field) > 0 && !clean_map(message, field)) return false;
    } else if (field.is_repeated()) {
      const int n = reflection.FieldSize(message, &field);
      for (int i = 0; i < n; ++i) {
        if (f.message == nullptr
                ? !clean(reflection.GetRepeatedStringReference(message, &field, i, &scratch),
                         f.limit)
                : !clean_message(reflection.GetRepeatedMessage(message, &field, i), *f.message)) {
          return false;
        }
      }
    } else if (f.message == nullptr) {
      if (!clean(reflection.GetStringReference(message, &field, &scratch), f.limit)) return false;
    } else if (reflection.HasField(message, &field) &&
               !clean_message(reflection.GetMessage(message, &field), *f.message)) {
      return false;
    }
  }
  return true;
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
  const StringPlan* plan = plan_for(message.GetDescriptor());
  for (const StringPlan::Field& f : plan->fields) {
    if (f.field != &field) continue;
    StringPlan one;
    one.fields.push_back(f);
    if (clean_message(message, one)) return;
  }
  check_field(message, field, errors);
}

void check_strings(const Message& message, ValidationErrors& errors) {
  if (clean_message(message, *plan_for(message.GetDescriptor()))) return;
  check_all(message, errors);
}

}  // namespace ufc::internal
