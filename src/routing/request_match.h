// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/routing/request_match.h: conditions on a request's attributes and its caller, as
// rules state them (a route's match, a fault rule's), read once and matched per pick.

#ifndef UFC_ROUTING_REQUEST_MATCH_H_
#define UFC_ROUTING_REQUEST_MATCH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "src/common/fast_random.h"
#include "src/config/validation_errors.h"
#include "ufc/pick.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

struct AttributeCondition {
  enum class Op : uint8_t { kExact, kPrefix, kPresent, kAbsent };
  std::string key;
  std::string value;
  Op op = Op::kExact;
};

// RequestMatch: a rule's conditions on the request, compiled. Immutable.
//
// Cost of matches(): each condition scans the request's attributes (a handful: a linear
// scan beats any index built per request), then the caller list. No allocation.
struct RequestMatch {
  std::vector<AttributeCondition> attributes;  // all must hold
  std::vector<std::string> caller_services;    // any of them; empty = every caller

  // Whether `request`, from `caller`, meets every attribute condition and the caller list.
  // Always inline: routing and fault rules call it per rule tried, on the request path
  // (a call per rule cost routing's ten-rule pick 6%).
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool matches(const PickRequest& request,
                                            std::string_view caller) const {
    for (const AttributeCondition& c : attributes) {
      const std::string_view* v = find_attribute(request.attributes, c.key);
      switch (c.op) {
        case AttributeCondition::Op::kExact:
          if (v == nullptr || *v != c.value) return false;
          break;
        case AttributeCondition::Op::kPrefix:
          if (v == nullptr || v->substr(0, c.value.size()) != c.value) return false;
          break;
        case AttributeCondition::Op::kPresent:
          if (v == nullptr) return false;
          break;
        case AttributeCondition::Op::kAbsent:
          if (v != nullptr) return false;
          break;
      }
    }
    if (!caller_services.empty()) {
      bool any = false;
      for (const std::string& s : caller_services) any = any || s == caller;
      if (!any) return false;
    }
    return true;
  }

 private:
  // The value of attribute `key`, or nullptr. Requests carry a handful of attributes: a
  // linear scan, comparing sizes before bytes, beats any index built per request.
  static const std::string_view* find_attribute(absl::Span<const Attribute> attributes,
                                                std::string_view key) {
    for (const Attribute& a : attributes) {
      if (a.first.size() == key.size() && a.first == key) return &a.second;
    }
    return nullptr;
  }
};

// Share: "this percentage of the requests, at random". At 100% (or absent) it spends no
// draw; below, a 64-bit draw under `threshold` is in.
struct Share {
  uint64_t threshold = 0;  // used when !always
  bool always = true;

  bool draw(const Random& random) const { return always || random.next() < threshold; }
};

// parse_share() reads an optional percentage `field`: [0, 100], absent meaning 100; adds
// "<field>: must be in [0, 100], got x" (NaN and infinities included) to `errors`.
Share parse_share(ValidationErrors& errors, absl::string_view field, bool present, double percent);

// parse_request_match() reads AttributeMatch conditions (under "attributes[i]" at the
// current path) and a caller list (under "caller_services[i]"), adding every problem to
// `errors`: an empty key, an unknown operator, a value with "present"/"absent", an empty
// caller. The counts and strings are checked before (service_policy.cc). Meaningful only
// when nothing was added.
RequestMatch parse_request_match(
    const google::protobuf::RepeatedPtrField<v1::AttributeMatch>& attributes,
    const google::protobuf::RepeatedPtrField<std::string>& caller_services,
    ValidationErrors& errors);

}  // namespace ufc::internal

#endif  // UFC_ROUTING_REQUEST_MATCH_H_
