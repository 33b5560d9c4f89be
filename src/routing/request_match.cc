// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/routing/request_match.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"

namespace ufc::internal {

Share parse_share(ValidationErrors& errors, absl::string_view field, bool present, double percent) {
  Share out;
  if (present && check_range(errors, field, percent, 0, 100) && percent < 100) {
    out.always = false;
    out.threshold = static_cast<uint64_t>(std::ldexp(percent / 100.0, 64));
  }
  return out;
}

RequestMatch parse_request_match(
    const google::protobuf::RepeatedPtrField<v1::AttributeMatch>& attributes,
    const google::protobuf::RepeatedPtrField<std::string>& caller_services,
    ValidationErrors& errors) {
  RequestMatch out;
  for (int i = 0; i < attributes.size(); ++i) {
    const v1::AttributeMatch& a = attributes.Get(i);
    ValidationErrors::Scope item(errors, absl::StrCat("attributes[", i, "]"));
    if (a.key().empty()) {
      ValidationErrors::Scope key(errors, "key");
      errors.add("must not be empty");
    }
    AttributeCondition cond{a.key(), a.value(), AttributeCondition::Op::kExact};
    const std::string& op = a.op();
    if (op == "prefix") cond.op = AttributeCondition::Op::kPrefix;
    if (op == "present") cond.op = AttributeCondition::Op::kPresent;
    if (op == "absent") cond.op = AttributeCondition::Op::kAbsent;
    if (op != "" && op != "exact" && op != "prefix" && op != "present" && op != "absent") {
      ValidationErrors::Scope field(errors, "op");
      errors.add(
          absl::StrCat("unknown operator \"", op, "\"; expected exact, prefix, present or absent"));
    } else if ((op == "present" || op == "absent") && !a.value().empty()) {
      ValidationErrors::Scope field(errors, "value");
      errors.add(absl::StrCat("must be empty with operator \"", op, "\""));
    }
    out.attributes.push_back(std::move(cond));
  }
  for (int i = 0; i < caller_services.size(); ++i) {
    if (caller_services.Get(i).empty()) {
      ValidationErrors::Scope field(errors, absl::StrCat("caller_services[", i, "]"));
      errors.add("must not be empty");
    }
  }
  out.caller_services.assign(caller_services.begin(), caller_services.end());
  return out;
}

}  // namespace ufc::internal
