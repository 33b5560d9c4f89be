// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/dns/destination_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/config/address.h"
#include "src/config/field_checks.h"
#include "src/config/limits.h"

namespace ufc::internal {
namespace {

// The floor of every refresh: a name refreshed more often than this loads the DNS servers
// of a fleet for nothing (records change in seconds at best).
constexpr absl::Duration kRefreshFloor = absl::Milliseconds(100);

bool is_ip_literal(const std::string& name) {
  in6_addr a6;
  in_addr a4;
  std::string bare = name;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  return inet_pton(AF_INET, bare.c_str(), &a4) == 1 || inet_pton(AF_INET6, bare.c_str(), &a6) == 1;
}

DnsName parse_name(const v1::DnsDestination& d, ValidationErrors& errors) {
  DnsName out;
  out.query.name = d.name();
  {
    ValidationErrors::Scope field(errors, "name");
    if (d.name().empty()) {
      errors.add("must not be empty");
    } else if (is_ip_literal(d.name())) {
      errors.add(
          absl::StrCat("\"", d.name(), "\" is an IP address, not a name; put it in `endpoints`"));
    } else if (!valid_dns_name(d.name(), /*service_labels=*/true)) {
      errors.add(absl::StrCat("\"", d.name(),
                              "\" is not a valid DNS name (labels of letters, digits, '-' and "
                              "'_', 1..63 bytes each, 253 in all)"));
    }
  }
  {
    ValidationErrors::Scope field(errors, "type");
    if (d.type().empty() || d.type() == "address") {
      out.query.type = DnsRecordType::kAddress;
    } else if (d.type() == "srv") {
      out.query.type = DnsRecordType::kSrv;
    } else {
      errors.add(absl::StrCat("\"", d.type(), "\" is not a type; expected \"address\" or \"srv\""));
    }
  }
  const bool srv = out.query.type == DnsRecordType::kSrv;
  {
    ValidationErrors::Scope field(errors, "port");
    if (srv && d.port() != 0) {
      errors.add(absl::StrCat("must be absent for an \"srv\" name (the records give ports), got ",
                              d.port()));
    } else if (!srv && (d.port() == 0 || d.port() > 65535)) {
      errors.add(absl::StrCat("must be in 1..65535, got ", d.port()));
    } else {
      out.port = static_cast<uint16_t>(d.port());
    }
  }
  {
    ValidationErrors::Scope field(errors, "family");
    if (d.family().empty() || d.family() == "any") {
      out.query.family = AddressFamily::kAny;
    } else if (d.family() == "ipv4") {
      out.query.family = AddressFamily::kIpv4;
    } else if (d.family() == "ipv6") {
      out.query.family = AddressFamily::kIpv6;
    } else {
      errors.add(absl::StrCat("\"", d.family(),
                              "\" is not a family; expected \"any\", \"ipv4\" or \"ipv6\""));
    }
  }
  if (d.has_weight()) {
    ValidationErrors::Scope field(errors, "weight");
    const double w = d.weight();
    if (srv) {
      errors.add("must be absent for an \"srv\" name (the records give weights)");
    } else if (std::isnan(w) || w < kMinWeight || w > kMaxWeight) {
      errors.add(absl::StrCat("must be in [", kMinWeight, ", ", kMaxWeight, "], got ", w));
    } else {
      out.weight = w;
    }
  }
  for (const auto& [key, value] : d.tags()) {
    ValidationErrors::Scope field(errors, "tags");
    if (key.empty()) errors.add("keys must not be empty");
    out.tags.emplace_back(key, value);
  }
  std::sort(out.tags.begin(), out.tags.end());
  return out;
}

}  // namespace

std::string DnsName::key() const {
  std::string k = absl::AsciiStrToLower(query.name);
  if (k.size() > 1 && k.back() == '.') k.pop_back();
  return k;
}

DestinationPolicy DestinationPolicy::parse(const v1::Destinations& destinations,
                                           ValidationErrors& errors) {
  DestinationPolicy p;
  ValidationErrors::Scope scope(errors, "destinations");
  if (!check_count(errors, "dns", destinations.dns_size(), kMaxDnsNamesPerService)) return p;
  for (int i = 0; i < destinations.dns_size(); ++i) {
    ValidationErrors::Scope item(errors, absl::StrCat("dns[", i, "]"));
    p.names.push_back(parse_name(destinations.dns(i), errors));
  }
  for (size_t i = 0; i < p.names.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (p.names[j].key() == p.names[i].key()) {
        ValidationErrors::Scope item(errors, absl::StrCat("dns[", i, "]"));
        errors.add(absl::StrCat("duplicate of dns[", j, "] (\"", p.names[j].query.name, "\")"));
        break;
      }
    }
  }
  read_duration(errors, "min_refresh", destinations.has_min_refresh(), destinations.min_refresh(),
                kRefreshFloor, absl::Hours(1), p.min_refresh);
  read_duration(errors, "refresh_interval", destinations.has_refresh_interval(),
                destinations.refresh_interval(), kRefreshFloor, absl::Hours(1), p.refresh_interval);
  if (!destinations.has_refresh_interval()) {
    p.refresh_interval = std::max(p.refresh_interval, p.min_refresh);
  } else if (p.refresh_interval < p.min_refresh) {
    ValidationErrors::Scope field(errors, "refresh_interval");
    errors.add(absl::StrCat("must be >= min_refresh (", absl::FormatDuration(p.min_refresh),
                            "), got ", absl::FormatDuration(p.refresh_interval)));
  }
  read_range(errors, "jitter", destinations.has_jitter(), destinations.jitter(), 0, 0.5, p.jitter);
  read_open_closed(errors, "max_removal_share", destinations.has_max_removal_share(),
                   destinations.max_removal_share(), 0, 1, p.max_removal_share);
  return p;
}

}  // namespace ufc::internal
