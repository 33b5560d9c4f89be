// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/config_validator.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/banning/ban_policy.h"
#include "src/config/address.h"
#include "src/config/field_checks.h"
#include "src/config/policy.h"
#include "src/fusing/fuse_policy.h"
#include "src/routing/route_validation.h"
#include "ufc/config.h"

namespace ufc::internal {
namespace {

std::string index(int i) { return absl::StrCat("[", i, "]"); }

void validate_name(const std::string& name, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "name");
  if (name.empty()) {
    errors.add("must not be empty");
    return;
  }
  if (name.size() > kMaxNameLength) {
    errors.add(absl::StrCat("must be at most ", kMaxNameLength, " characters, got ", name.size()));
  }
  for (unsigned char c : name) {
    if (c <= ' ' || c >= 0x7f || c == '^') {
      errors.add(absl::StrCat("\"", name,
                              "\" has a character that is a space, '^', a control character "
                              "or not ASCII"));
      break;
    }
  }
}

void validate_endpoints(const v1::ServiceConfig& service, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "endpoints");
  if (service.endpoints().empty()) {
    errors.add("must not be empty");
    return;
  }
  if (service.endpoints_size() > kMaxEndpoints) {
    errors.add(absl::StrCat("has ", service.endpoints_size(), " entries, at most ", kMaxEndpoints,
                            " are allowed"));
    return;
  }
  absl::flat_hash_map<std::string, int> seen;  // canonical address -> first index
  bool any_positive = false;
  bool weights_valid = true;
  for (int i = 0; i < service.endpoints_size(); ++i) {
    const v1::Endpoint& e = service.endpoints(i);
    ValidationErrors::Scope item(errors, index(i));
    {
      ValidationErrors::Scope field(errors, "address");
      absl::StatusOr<HostPort> hp = parse_address(e.address());
      if (!hp.ok()) {
        errors.add(hp.status().message());
      } else {
        auto [it, inserted] = seen.emplace(hp->canonical, i);
        if (!inserted) {
          errors.add(absl::StrCat("duplicate of endpoints[", it->second, "] (\"",
                                  service.endpoints(it->second).address(), "\")"));
        }
      }
    }
    {
      ValidationErrors::Scope field(errors, "weight");
      const double w = endpoint_weight(e);
      if (std::isnan(w)) {
        errors.add("must be a number, got NaN");
        weights_valid = false;
      } else if (w < 0) {
        errors.add(absl::StrCat("must be >= 0, got ", w));
        weights_valid = false;
      } else if (std::isinf(w) || w > kMaxWeight) {
        errors.add(absl::StrCat("must be <= ", kMaxWeight, ", got ", w));
        weights_valid = false;
      } else if (w > 0 && w < kMinWeight) {
        errors.add(absl::StrCat("must be 0 or >= ", kMinWeight, ", got ", w));
        weights_valid = false;
      } else if (w > 0) {
        any_positive = true;
      }
    }
    for (const auto& [key, value] : e.tags()) {
      ValidationErrors::Scope field(errors, "tags");
      if (key.empty()) errors.add("keys must not be empty");
      if (key.size() > kMaxNameLength || value.size() > kMaxNameLength) {
        errors.add(absl::StrCat("\"", key.substr(0, 32), "\": keys and values must be at most ",
                                kMaxNameLength, " characters"));
      }
    }
  }
  if (weights_valid && !any_positive) {
    errors.add("all weights are 0; at least one endpoint must have weight > 0");
  }
}

}  // namespace

void validate_balancing(const v1::Balancing& balancing, ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "balancing");
  const std::optional<PolicyKind> kind = policy_from_name(balancing.policy());
  if (!kind.has_value()) {
    ValidationErrors::Scope field(errors, "policy");
    errors.add(absl::StrCat("unknown policy \"", balancing.policy(), "\"; expected one of ",
                            policy_names_list()));
  }
  if (balancing.has_consistent_hash()) {
    ValidationErrors::Scope field(errors, "consistent_hash");
    if (kind.has_value() && *kind != PolicyKind::kConsistentHash) {
      errors.add("only allowed with policy \"consistent_hash\"");
    }
    if (balancing.consistent_hash().min_table_size() > kMaxMaglevTableSize) {
      ValidationErrors::Scope size(errors, "min_table_size");
      errors.add(absl::StrCat("must be <= ", kMaxMaglevTableSize, ", got ",
                              balancing.consistent_hash().min_table_size()));
    }
  }
  if (balancing.has_least_loaded()) {
    ValidationErrors::Scope field(errors, "least_loaded");
    if (kind.has_value() && *kind != PolicyKind::kLeastLoaded) {
      errors.add("only allowed with policy \"least_loaded\"");
    }
    if (balancing.least_loaded().has_idle_reset()) {
      check_duration(errors, "idle_reset", balancing.least_loaded().idle_reset(),
                     absl::Milliseconds(10), absl::Hours(1));
    }
  }
}

void validate_service(const v1::ServiceConfig& service, ValidationErrors& errors) {
  validate_name(service.name(), errors);
  validate_endpoints(service, errors);
  validate_balancing(service.balancing(), errors);
  if (service.has_ban()) validate_ban(service.ban(), errors);
  validate_routing(service, errors);
  if (service.has_fuse()) validate_fuse(service.fuse(), errors);
  if (service.has_retry()) validate_retry(service.retry(), errors);
  if (service.has_timeouts()) {
    ValidationErrors::Scope scope(errors, "timeouts");
    const v1::Timeouts& t = service.timeouts();
    const absl::Duration tiny = absl::Nanoseconds(1);
    if (t.has_connect()) check_duration(errors, "connect", t.connect(), tiny, absl::Hours(1));
    if (t.has_read()) check_duration(errors, "read", t.read(), tiny, absl::Hours(1));
    if (t.has_write()) check_duration(errors, "write", t.write(), tiny, absl::Hours(1));
    const absl::Duration tiny_strict = absl::Nanoseconds(1);
    if (t.strict().has_connect()) {
      check_duration(errors, "strict.connect", t.strict().connect(), tiny_strict, absl::Hours(1));
    }
    if (t.strict().has_read())
      check_duration(errors, "strict.read", t.strict().read(), tiny_strict, absl::Hours(1));
    if (t.strict().has_write()) {
      check_duration(errors, "strict.write", t.strict().write(), tiny_strict, absl::Hours(1));
    }
    if (t.has_deadline_margin()) {
      check_duration(errors, "deadline_margin", t.deadline_margin(), absl::ZeroDuration(),
                     absl::Seconds(10));
    }
  }
}

void validate_client_config(const v1::ClientConfig& config, ValidationErrors& errors) {
  for (const auto& [physical, logical] : config.idc_map()) {
    ValidationErrors::Scope field(errors, "idc_map");
    if (physical.empty() || logical.empty()) {
      errors.add(
          absl::StrCat("\"", physical, "\" -> \"", logical, "\": IDC names must not be empty"));
    }
  }
  ValidationErrors::Scope scope(errors, "services");
  if (config.services_size() > kMaxServices) {
    errors.add(absl::StrCat("has ", config.services_size(), " entries, at most ", kMaxServices,
                            " are allowed"));
    return;
  }
  absl::flat_hash_map<std::string, int> names;
  for (int i = 0; i < config.services_size(); ++i) {
    ValidationErrors::Scope item(errors, index(i));
    const v1::ServiceConfig& service = config.services(i);
    validate_service(service, errors);
    if (service.name().empty()) continue;
    auto [it, inserted] = names.emplace(service.name(), i);
    if (!inserted) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(
          absl::StrCat("duplicate of services[", it->second, "] (\"", service.name(), "\")"));
    }
  }
}

}  // namespace ufc::internal

namespace ufc {

absl::Status validate_config(const v1::ClientConfig& config) {
  internal::ValidationErrors errors;
  internal::validate_client_config(config, errors);
  return errors.status();
}

absl::Status validate_service(const v1::ServiceConfig& service) {
  internal::ValidationErrors errors;
  internal::validate_service(service, errors);
  return errors.status();
}

}  // namespace ufc
