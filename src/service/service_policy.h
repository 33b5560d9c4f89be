// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/service/service_policy.h: a ServiceConfig read once — validated field by field and
// turned into the service's policy (what pick and the managers obey) and its endpoints.
//
// Each section has one parser, in the room that owns it (BanPolicy::parse in banning/,
// FusePolicy::parse in fusing/, parse_routing in routing/, parse_balancing in balancing/,
// FaultPolicy::parse in fault/),
// which checks the section and returns it with the defaults filled in, the defaults
// written once in the policy struct. parse_service() runs them in the config's order,
// gathering every error with its field path. ufc::validate_service/validate_config are
// parse_service() with the result thrown away, so what validates is what applies.

#ifndef UFC_SERVICE_SERVICE_POLICY_H_
#define UFC_SERVICE_SERVICE_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/balancing/policy_registry.h"
#include "src/banning/ban_policy.h"
#include "src/common/duration.h"
#include "src/config/address.h"
#include "src/config/fingerprint.h"
#include "src/config/validation_errors.h"
#include "src/dns/destination_policy.h"
#include "src/fault/fault_policy.h"
#include "src/fusing/fuse_policy.h"
#include "src/routing/candidate_set.h"
#include "src/routing/route_rule.h"
#include "ufc/pick.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// What pick() reads of the config for every attempt: integers, because it caps them with
// a few compares. kInfiniteNs where the config sets no limit.
struct AttemptPolicy {
  int64_t connect_ns = kInfiniteNs;  // T1, the normal set
  int64_t read_ns = kInfiniteNs;
  int64_t write_ns = kInfiniteNs;
  int64_t strict_connect_ns = kInfiniteNs;  // T2, in force while fusing (T1 where unset)
  int64_t strict_read_ns = kInfiniteNs;
  int64_t strict_write_ns = kInfiniteNs;
  int64_t deadline_margin_ns = 0;
  uint32_t max_attempts = RetryPolicy().max_attempts;
};

// ServicePolicy: everything a service's config says except its endpoints, read once per
// config version. Immutable and shared: by every snapshot of the version (bans and
// endpoint-only updates recompile candidate sets over the same policy).
struct ServicePolicy {
  std::string name;
  uint64_t version = 0;
  Fingerprint content;  // of the ServiceConfig (repeat detection)
  BalancingConfig balancing;
  BanPolicy ban;
  FusePolicy fuse;
  RetryPolicy retry;
  AttemptPolicy attempt;
  RoutingPolicy routing;
  FaultPolicy faults;              // empty: no fault injection
  std::string tier;                // "online", "offline" or ""
  DestinationPolicy destinations;  // empty: static endpoints only
};

// One endpoint as configured, parsed.
struct EndpointSpec {
  std::string address;  // as configured
  HostPort host_port;   // host, port, canonical form
  double weight = 1;
  std::vector<Tag> tags;  // sorted by key
};

// A service's endpoints, parsed, and what its routing selects among them.
struct ParsedEndpoints {
  std::vector<EndpointSpec> specs;
  // Built for `policy` over `specs`; nullptr for a policy with DNS destinations, whose
  // layout is built over the merged set (merge_endpoints) when it is installed.
  std::shared_ptr<const CandidateLayout> layout;
};

struct ParsedService {
  std::shared_ptr<const ServicePolicy> policy;
  ParsedEndpoints endpoints;
};

// parse_service() reads `service`, adding every problem to `errors` at the current path
// (name, endpoints, balancing, ban, routes and idc_affinity, fuse, retry, timeouts,
// faults, in that order). First every string is checked (config/string_checks: well-formed UTF-8,
// limits.h's lengths); if one fails, only those errors are added and no section is read.
// The result is meaningful only when nothing was added.
ParsedService parse_service(const v1::ServiceConfig& service, ValidationErrors& errors);
// The same as a status: INVALID_ARGUMENT listing every problem.
absl::StatusOr<ParsedService> parse_service(const v1::ServiceConfig& service);

// check_service_name() says whether `name` could name a configured service (what
// parse_service() checks of ServiceConfig.name): INVALID_ARGUMENT naming the problem.
absl::Status check_service_name(std::string_view name);

// parse_endpoints() reads an endpoint-only update of a service whose policy is `policy`:
// the `endpoints` section alone (paths "endpoints[i]...", strings first as in
// parse_service), and that every routing subset still selects one of them.
// INVALID_ARGUMENT listing every problem.
absl::StatusOr<ParsedEndpoints> parse_endpoints(
    const ServicePolicy& policy, const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints);

// merge_endpoints() is the endpoint set of a service with DNS destinations: the static
// `configured` specs, then each name's endpoints (`dns`, parallel to
// policy.destinations.names) with the name's tags, an address already in the set skipped
// (static first, then names in order), at most kMaxEndpoints; and its layout, where a
// routing subset may select nothing until the names it draws on resolve. Validation let
// each name stand for one endpoint, so the real answers may not fit the selection or
// table budgets: then the DNS endpoints are cut (halved until the layout fits), and
// `dropped` and `why` say so. Cost: O(n log n) in the endpoints plus build_layout, at
// most ~log2(n) times when cut.
struct MergedEndpoints {
  ParsedEndpoints endpoints;
  size_t dropped = 0;  // DNS endpoints left out (budgets, kMaxEndpoints)
  std::string why;
};
MergedEndpoints merge_endpoints(const ServicePolicy& policy,
                                const std::vector<EndpointSpec>& configured,
                                const std::vector<std::vector<DnsEndpoint>>& dns);

// check_idc_map() checks config.idc_map (its size, then its strings, then that no IDC name
// is empty), adding every problem to `errors` under "idc_map". True when it added none.
bool check_idc_map(const v1::ClientConfig& config, ValidationErrors& errors);

// parse_client_config() reads every service of `config` as parse_service() does (paths
// under "services[i]"), and checks its idc_map (strings first) and that names are unique
// (among services whose strings passed), adding every problem to `errors`. The services,
// in config order, are meaningful only when nothing was added.
std::vector<ParsedService> parse_client_config(const v1::ClientConfig& config,
                                               ValidationErrors& errors);

}  // namespace ufc::internal

#endif  // UFC_SERVICE_SERVICE_POLICY_H_
