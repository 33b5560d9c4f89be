// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/dns/destination_policy.h: section `destinations` of a ServiceConfig, read once.

#ifndef UFC_DNS_DESTINATION_POLICY_H_
#define UFC_DNS_DESTINATION_POLICY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "src/config/validation_errors.h"
#include "ufc/resolver.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// One configured DNS name.
struct DnsName {
  DnsQuery query;     // name, type, family: what the resolver is asked
  uint16_t port = 0;  // kAddress: every address's port; kSrv: 0 (the records')
  double weight = 1;  // kAddress: every endpoint's weight
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key
  // The name as DNS compares it (lower case, no trailing dot): unique among a service's
  // names, and what keeps a name's last good answer across config versions.
  std::string key() const;
};

// DestinationPolicy: the names and how they are refreshed. Defaults here, the one place.
struct DestinationPolicy {
  std::vector<DnsName> names;  // empty: no DNS
  absl::Duration refresh_interval = absl::Seconds(30);
  absl::Duration min_refresh = absl::Seconds(1);
  double jitter = 0.1;
  double max_removal_share = 0.5;

  bool empty() const { return names.empty(); }

  // parse() reads `destinations` under "destinations" at the current path, adding every
  // problem to `errors`: names that are not host names (or are IP literals), ports out of
  // 1..65535 (or set for "srv"), unknown types and families, weights out of range (or set
  // for "srv"), refresh below the 100 ms floor or above the interval, jitter and removal
  // share out of range, more than limits.h's names. Counts and strings are checked
  // before (service/service_policy). Meaningful only when nothing was added.
  static DestinationPolicy parse(const v1::Destinations& destinations, ValidationErrors& errors);
};

// One endpoint a name's answer gives.
struct DnsEndpoint {
  std::string ip;  // IP literal, IPv6 without brackets
  uint16_t port = 0;
  double weight = 1;
  friend bool operator==(const DnsEndpoint& a, const DnsEndpoint& b) {
    return a.ip == b.ip && a.port == b.port && a.weight == b.weight;
  }
};

// The endpoints one name's answer may give (a real zone has a few hundred at most): past
// it the answer is refused as RESOURCE_EXHAUSTED and the name keeps its last good set.
inline constexpr size_t kMaxDnsEndpointsPerName = 10000;

// The weight an SRV record's weight means for its endpoints: the record's, and 0 (RFC
// 2782: "very small chance") 0.01, so a zone of only weight-0 records still serves evenly.
inline double srv_endpoint_weight(uint16_t weight) { return weight == 0 ? 0.01 : weight; }

}  // namespace ufc::internal

#endif  // UFC_DNS_DESTINATION_POLICY_H_
