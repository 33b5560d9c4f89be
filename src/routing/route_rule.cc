// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/routing/route_rule.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"

namespace ufc::internal {
namespace {

std::string index(int i) { return absl::StrCat("[", i, "]"); }

std::vector<Tag> sorted_tags(const google::protobuf::Map<std::string, std::string>& tags) {
  std::vector<Tag> out(tags.begin(), tags.end());
  std::sort(out.begin(), out.end());
  return out;
}

void parse_match(const v1::RouteMatch& match, RouteRule& rule, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "match");
  rule.request = parse_request_match(match.attributes(), match.caller_services(), errors);
  for (int i = 0; i < match.caller_idcs_size(); ++i) {
    if (match.caller_idcs(i).empty()) {
      ValidationErrors::Scope field(errors, absl::StrCat("caller_idcs[", i, "]"));
      errors.add("must not be empty");
    }
  }
  rule.caller_idcs.assign(match.caller_idcs().begin(), match.caller_idcs().end());
  rule.percent = parse_share(errors, "percent", match.has_percent(), match.percent());
}

void parse_destinations(const v1::Route& route, RouteRule& rule, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "destinations");
  if (route.destinations().empty()) {
    errors.add("must not be empty");
    return;
  }
  bool weights_valid = true, any_positive = false;
  std::set<std::string> names;
  std::vector<double> weights;
  for (int i = 0; i < route.destinations_size(); ++i) {
    const v1::Subset& subset = route.destinations(i);
    ValidationErrors::Scope item(errors, index(i));
    if (!subset.name().empty() && !names.insert(subset.name()).second) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(absl::StrCat("duplicate subset name \"", subset.name(), "\""));
    }
    const double w = subset.has_weight() ? subset.weight() : 1.0;
    if (!check_range(errors, "weight", w, 0, 1e6)) {
      weights_valid = false;
    } else if (w > 0) {
      any_positive = true;
    }
    SubsetSpec spec;
    spec.key = absl::StrCat(rule.name, "/",
                            subset.name().empty() ? absl::StrCat("subset", i) : subset.name());
    spec.selector = sorted_tags(subset.tags());
    if (subset.has_balancing()) spec.balancing = parse_balancing(subset.balancing(), errors);
    rule.destinations.push_back(std::move(spec));
    weights.push_back(w);
  }
  if (weights_valid && !any_positive) errors.add("all weights are 0");
  if (!weights_valid || !any_positive) return;
  double total = 0;
  for (double w : weights) total += w;
  double running = 0;
  for (double w : weights) {
    running += w;
    const double share = running / total;
    rule.cumulative.push_back(share >= 1.0 ? UINT64_MAX
                                           : static_cast<uint64_t>(std::ldexp(share, 64)));
  }
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

bool tags_match(const std::vector<Tag>& endpoint_tags, const std::vector<Tag>& selector) {
  // Both sorted by key, keys unique: one merge walk.
  auto e = endpoint_tags.begin();
  for (const Tag& want : selector) {
    while (e != endpoint_tags.end() && e->first < want.first) ++e;
    if (e == endpoint_tags.end() || e->first != want.first || e->second != want.second) {
      return false;
    }
  }
  return true;
}

bool RouteRule::matches(const PickRequest& request, std::string_view caller,
                        const Random& random) const {
  if (!this->request.matches(request, caller)) return false;
  // The draw comes last: only requests that meet every other condition spend one.
  return percent.draw(random);
}

size_t RouteRule::choose(const Random& random) const {
  if (destinations.size() == 1) return 0;
  const uint64_t draw = random.next();
  for (size_t i = 0; i + 1 < destinations.size(); ++i) {
    if (draw < cumulative[i]) return i;
  }
  return destinations.size() - 1;
}

RoutingPolicy parse_routing(const v1::ServiceConfig& service, ValidationErrors& errors) {
  RoutingPolicy out;
  std::set<std::string> names;
  for (int i = 0; i < service.routes_size(); ++i) {
    const v1::Route& route = service.routes(i);
    ValidationErrors::Scope scope(errors, "routes");
    ValidationErrors::Scope item(errors, index(i));
    if (!route.name().empty() && !names.insert(route.name()).second) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(absl::StrCat("duplicate rule name \"", route.name(), "\""));
    }
    RouteRule rule;
    rule.name = route.name().empty() ? absl::StrCat("route", i) : route.name();
    parse_match(route.match(), rule, errors);
    parse_destinations(route, rule, errors);
    out.rules.push_back(std::move(rule));
  }
  const v1::IdcAffinity& a = service.idc_affinity();
  if (service.has_idc_affinity()) {
    ValidationErrors::Scope scope(errors, "idc_affinity");
    if (a.has_min_healthy())
      check_range(errors, "min_healthy", uint64_t{a.min_healthy()}, 0, 100000);
    if (a.has_min_healthy_share())
      check_range(errors, "min_healthy_share", a.min_healthy_share(), 0, 1);
  }
  out.affinity.enabled = a.enabled();
  if (a.has_min_healthy()) out.affinity.min_healthy = a.min_healthy();
  out.affinity.min_healthy_share = a.min_healthy_share();
  if (!a.tag().empty()) out.affinity.tag = a.tag();
  return out;
}

}  // namespace ufc::internal
