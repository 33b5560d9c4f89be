// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/routing/route_validation.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/config/config_validator.h"
#include "src/config/field_checks.h"

namespace ufc::internal {
namespace {

std::string index(int i) { return absl::StrCat("[", i, "]"); }

std::string describe(const google::protobuf::Map<std::string, std::string>& tags) {
  std::map<std::string, std::string> sorted(tags.begin(), tags.end());
  return absl::StrCat("{", absl::StrJoin(sorted, ", ", absl::PairFormatter(": ")), "}");
}

void validate_match(const v1::RouteMatch& match, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "match");
  for (int i = 0; i < match.attributes_size(); ++i) {
    const v1::AttributeMatch& a = match.attributes(i);
    ValidationErrors::Scope attribute(errors, "attributes");
    ValidationErrors::Scope item(errors, index(i));
    if (a.key().empty()) {
      ValidationErrors::Scope key(errors, "key");
      errors.add("must not be empty");
    }
    const std::string& op = a.op();
    if (op != "" && op != "exact" && op != "prefix" && op != "present" && op != "absent") {
      ValidationErrors::Scope field(errors, "op");
      errors.add(
          absl::StrCat("unknown operator \"", op, "\"; expected exact, prefix, present or absent"));
    } else if ((op == "present" || op == "absent") && !a.value().empty()) {
      ValidationErrors::Scope field(errors, "value");
      errors.add(absl::StrCat("must be empty with operator \"", op, "\""));
    }
  }
  for (int i = 0; i < match.caller_services_size(); ++i) {
    if (match.caller_services(i).empty()) {
      ValidationErrors::Scope field(errors, absl::StrCat("caller_services[", i, "]"));
      errors.add("must not be empty");
    }
  }
  for (int i = 0; i < match.caller_idcs_size(); ++i) {
    if (match.caller_idcs(i).empty()) {
      ValidationErrors::Scope field(errors, absl::StrCat("caller_idcs[", i, "]"));
      errors.add("must not be empty");
    }
  }
  if (match.has_percent()) check_range(errors, "percent", match.percent(), 0, 100);
}

void validate_destinations(const v1::Route& route, const v1::ServiceConfig& service,
                           ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "destinations");
  if (route.destinations().empty()) {
    errors.add("must not be empty");
    return;
  }
  bool weights_valid = true, any_positive = false;
  std::set<std::string> names;
  for (int i = 0; i < route.destinations_size(); ++i) {
    const v1::Subset& subset = route.destinations(i);
    ValidationErrors::Scope item(errors, index(i));
    if (!subset.name().empty() && !names.insert(subset.name()).second) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(absl::StrCat("duplicate subset name \"", subset.name(), "\""));
    }
    int selected = 0;
    for (const v1::Endpoint& e : service.endpoints())
      selected += tags_match(e.tags(), subset.tags());
    if (selected == 0) {
      ValidationErrors::Scope field(errors, "tags");
      errors.add(absl::StrCat(describe(subset.tags()), " selects no endpoint"));
    }
    const double w = subset.has_weight() ? subset.weight() : 1.0;
    if (!check_range(errors, "weight", w, 0, 1e6)) {
      weights_valid = false;
    } else if (w > 0) {
      any_positive = true;
    }
    if (subset.has_balancing()) validate_balancing(subset.balancing(), errors);
  }
  if (weights_valid && !any_positive) errors.add("all weights are 0");
}

}  // namespace

bool tags_match(const google::protobuf::Map<std::string, std::string>& endpoint_tags,
                const google::protobuf::Map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    auto it = endpoint_tags.find(key);
    if (it == endpoint_tags.end() || it->second != value) return false;
  }
  return true;
}

void validate_routing(const v1::ServiceConfig& service, ValidationErrors& errors) {
  std::set<std::string> names;
  for (int i = 0; i < service.routes_size(); ++i) {
    const v1::Route& route = service.routes(i);
    ValidationErrors::Scope scope(errors, "routes");
    ValidationErrors::Scope item(errors, index(i));
    if (!route.name().empty() && !names.insert(route.name()).second) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(absl::StrCat("duplicate rule name \"", route.name(), "\""));
    }
    validate_match(route.match(), errors);
    validate_destinations(route, service, errors);
  }
  if (service.has_idc_affinity()) {
    ValidationErrors::Scope scope(errors, "idc_affinity");
    const v1::IdcAffinity& a = service.idc_affinity();
    if (a.has_min_healthy())
      check_range(errors, "min_healthy", uint64_t{a.min_healthy()}, 0, 100000);
    if (a.has_min_healthy_share())
      check_range(errors, "min_healthy_share", a.min_healthy_share(), 0, 1);
  }
}

}  // namespace ufc::internal
