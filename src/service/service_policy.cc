// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/service/service_policy.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "src/config/field_checks.h"
#include "src/config/limits.h"
#include "src/config/string_checks.h"
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
  for (unsigned char c : name) {
    if (c <= ' ' || c >= 0x7f || c == '^') {
      errors.add(absl::StrCat("\"", name,
                              "\" has a character that is a space, '^', a control character "
                              "or not ASCII"));
      break;
    }
  }
}

// The endpoint weight the config means: absent is 1.
double endpoint_weight(const v1::Endpoint& e) { return e.has_weight() ? e.weight() : 1.0; }

// `dns`: the service also has DNS destinations, so the list may be empty or drained.
std::vector<EndpointSpec> parse_endpoint_list(
    const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints, bool dns,
    ValidationErrors& errors) {
  ValidationErrors::Scope scope(errors, "endpoints");
  std::vector<EndpointSpec> out;
  if (endpoints.empty()) {
    if (!dns) errors.add("must not be empty");
    return out;
  }
  out.reserve(endpoints.size());  // never reallocated: `seen` points into its elements
  // Canonical address -> first index. Keyed by views of the specs' own canonical strings:
  // no copies, and one allocation for all 100,000 of them.
  absl::flat_hash_map<std::string_view, int> seen;
  seen.reserve(endpoints.size());
  bool any_positive = false;
  bool weights_valid = true;
  for (int i = 0; i < endpoints.size(); ++i) {
    const v1::Endpoint& e = endpoints.Get(i);
    ValidationErrors::Scope item(errors, index(i));
    EndpointSpec& spec = out.emplace_back();
    spec.address = e.address();
    {
      ValidationErrors::Scope field(errors, "address");
      absl::StatusOr<HostPort> hp = parse_address(e.address());
      if (!hp.ok()) {
        errors.add(hp.status().message());
      } else {
        spec.host_port = *std::move(hp);
        auto [it, inserted] = seen.emplace(spec.host_port.canonical, i);
        if (!inserted) {
          errors.add(absl::StrCat("duplicate of endpoints[", it->second, "] (\"",
                                  endpoints.Get(it->second).address(), "\")"));
        }
      }
    }
    {
      ValidationErrors::Scope field(errors, "weight");
      const double w = endpoint_weight(e);
      spec.weight = w;
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
    if (e.has_agent_drain()) {  // set by ufc-metad's agent watch (config.proto)
      ValidationErrors::Scope field(errors, "agent_drain");
      const v1::AgentDrain& d = e.agent_drain();
      if (d.has_weight() &&
          !(d.weight() == 0 || (d.weight() >= kMinWeight && d.weight() <= kMaxWeight))) {
        ValidationErrors::Scope w(errors, "weight");
        errors.add(
            absl::StrCat("must be 0 or in [", kMinWeight, ", ", kMaxWeight, "], got ", d.weight()));
      }
      if (d.since_unix_ms() < 0) {
        ValidationErrors::Scope since(errors, "since_unix_ms");
        errors.add(absl::StrCat("must be >= 0, got ", d.since_unix_ms()));
      }
      if (spec.weight != 0) errors.add("is set, so the endpoint's weight must be 0");
    }
    for (const auto& [key, value] : e.tags()) {  // counts and lengths: checked first
      ValidationErrors::Scope field(errors, "tags");
      if (key.empty()) errors.add("keys must not be empty");
    }
    spec.tags.assign(e.tags().begin(), e.tags().end());
    std::sort(spec.tags.begin(), spec.tags.end());
  }
  if (weights_valid && !any_positive && !dns) {
    errors.add("all weights are 0; at least one endpoint must have weight > 0");
  }
  return out;
}

// Section `timeouts`: T1, T2 (each absent field falls back to T1) and the deadline margin.
AttemptPolicy parse_timeouts(const v1::ServiceConfig& service, ValidationErrors& errors) {
  AttemptPolicy p;
  if (!service.has_timeouts()) return p;
  ValidationErrors::Scope scope(errors, "timeouts");
  const v1::Timeouts& t = service.timeouts();
  // Read as durations (defaults: no limit), then as the integers pick() compares.
  const absl::Duration tiny = absl::Nanoseconds(1), hour = absl::Hours(1);
  absl::Duration connect = absl::InfiniteDuration(), read = connect, write = connect;
  absl::Duration margin = absl::ZeroDuration();
  read_duration(errors, "connect", t.has_connect(), t.connect(), tiny, hour, connect);
  read_duration(errors, "read", t.has_read(), t.read(), tiny, hour, read);
  read_duration(errors, "write", t.has_write(), t.write(), tiny, hour, write);
  absl::Duration strict_connect = connect, strict_read = read, strict_write = write;
  const v1::Timeouts::Strict& s = t.strict();
  read_duration(errors, "strict.connect", s.has_connect(), s.connect(), tiny, hour, strict_connect);
  read_duration(errors, "strict.read", s.has_read(), s.read(), tiny, hour, strict_read);
  read_duration(errors, "strict.write", s.has_write(), s.write(), tiny, hour, strict_write);
  read_duration(errors, "deadline_margin", t.has_deadline_margin(), t.deadline_margin(),
                absl::ZeroDuration(), absl::Seconds(10), margin);
  p.connect_ns = to_nanos(connect);
  p.read_ns = to_nanos(read);
  p.write_ns = to_nanos(write);
  p.strict_connect_ns = to_nanos(strict_connect);
  p.strict_read_ns = to_nanos(strict_read);
  p.strict_write_ns = to_nanos(strict_write);
  p.deadline_margin_ns = to_nanos(margin);
  return p;
}

// What the routing of `policy` selects among `specs`. For a policy with DNS destinations
// the layout is built at install, over what the names give (merge_endpoints); here each
// name stands for one endpoint with its tags, so a subset that neither the static
// endpoints nor any name could ever fill is still refused, and nullptr is returned.
std::shared_ptr<const CandidateLayout> layout_of(const ServicePolicy& policy,
                                                 const std::vector<EndpointSpec>& specs,
                                                 ValidationErrors& errors) {
  std::vector<const std::vector<Tag>*> tags;
  tags.reserve(specs.size() + policy.destinations.names.size());
  for (const EndpointSpec& spec : specs) tags.push_back(&spec.tags);
  for (const DnsName& name : policy.destinations.names) tags.push_back(&name.tags);
  std::shared_ptr<const CandidateLayout> layout =
      build_layout(policy.routing, policy.balancing, tags, errors);
  return policy.destinations.empty() ? layout : nullptr;
}

// Whether every string of `message` (or of its `field`) is well-formed UTF-8 and within
// its limit (config/string_checks), adding an error for each that is not. Checked first:
// the section parsers, the fingerprint and the error messages that quote a value then
// never see a hostile string, and a 10 MB name costs one length compare.
bool strings_ok(const google::protobuf::Message& message, ValidationErrors& errors) {
  const size_t before = errors.size();
  check_strings(message, errors);
  return errors.size() == before;
}
bool strings_ok(const google::protobuf::Message& message, int field_number,
                ValidationErrors& errors) {
  const size_t before = errors.size();
  check_strings(message, *message.GetDescriptor()->FindFieldByNumber(field_number), errors);
  return errors.size() == before;
}

// Whether the service's repeated sections are within limits.h's counts, adding an error
// for each that is not. Checked first, before anything walks them: a 100 MB config of
// 10,000 routes is refused for its route count, not after its 10 million strings are read.
// The only place these counts are checked: the section parsers run after it.
// The endpoints part, also run first by an endpoint-only update.
void check_endpoint_counts(const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints,
                           ValidationErrors& errors) {
  if (!check_count(errors, "endpoints", endpoints.size(), kMaxEndpoints)) return;
  for (int i = 0; i < endpoints.size(); ++i) {
    const int tags = endpoints.Get(i).tags_size();
    if (tags > kMaxTagsPerEndpoint) {  // the path only when it is needed: 100,000 of them
      check_count(errors, absl::StrCat("endpoints[", i, "].tags"), tags, kMaxTagsPerEndpoint);
    }
  }
}

// A rule's request conditions (a route's match, a fault rule), at path `at`.
void check_request_match_counts(const std::string& at, int attributes, int caller_services,
                                ValidationErrors& errors) {
  check_count(errors, absl::StrCat(at, "attributes"), attributes, kMaxAttributesPerRule);
  check_count(errors, absl::StrCat(at, "caller_services"), caller_services, kMaxCallersPerRule);
}

bool counts_ok(const v1::ServiceConfig& service, ValidationErrors& errors) {
  const size_t before = errors.size();
  check_endpoint_counts(service.endpoints(), errors);
  if (check_count(errors, "routes", service.routes_size(), kMaxRoutesPerService)) {
    for (int r = 0; r < service.routes_size(); ++r) {
      const v1::Route& route = service.routes(r);
      const std::string at = absl::StrCat("routes[", r, "]");
      check_request_match_counts(absl::StrCat(at, ".match."), route.match().attributes_size(),
                                 route.match().caller_services_size(), errors);
      check_count(errors, absl::StrCat(at, ".match.caller_idcs"), route.match().caller_idcs_size(),
                  kMaxCallersPerRule);
      if (!check_count(errors, absl::StrCat(at, ".destinations"), route.destinations_size(),
                       kMaxDestinationsPerRoute)) {
        continue;
      }
      for (int d = 0; d < route.destinations_size(); ++d) {
        check_count(errors, absl::StrCat(at, ".destinations[", d, "].tags"),
                    route.destinations(d).tags_size(), kMaxTagsPerSelector);
      }
    }
  }
  if (check_count(errors, "destinations.dns", service.destinations().dns_size(),
                  kMaxDnsNamesPerService)) {
    for (int d = 0; d < service.destinations().dns_size(); ++d) {
      check_count(errors, absl::StrCat("destinations.dns[", d, "].tags"),
                  service.destinations().dns(d).tags_size(), kMaxTagsPerEndpoint);
    }
  }
  if (check_count(errors, "faults", service.faults_size(), kMaxFaultRulesPerService)) {
    for (int f = 0; f < service.faults_size(); ++f) {
      check_request_match_counts(absl::StrCat("faults[", f, "]."),
                                 service.faults(f).attributes_size(),
                                 service.faults(f).caller_services_size(), errors);
    }
  }
  return errors.size() == before;
}

// parse_service() once the counts and strings have passed.
ParsedService parse_checked_service(const v1::ServiceConfig& service, ValidationErrors& errors) {
  auto policy = std::make_shared<ServicePolicy>();
  ParsedService out;
  validate_name(service.name(), errors);
  policy->destinations = DestinationPolicy::parse(service.destinations(), errors);
  out.endpoints.specs =
      parse_endpoint_list(service.endpoints(), !policy->destinations.empty(), errors);
  policy->name = service.name();
  policy->version = service.version();
  policy->content = fingerprint(service);
  policy->balancing = parse_balancing(service.balancing(), errors);
  policy->ban = BanPolicy::parse(service.ban(), errors);
  policy->routing = parse_routing(service, errors);
  policy->fuse = FusePolicy::parse(service.fuse(), errors);
  policy->retry = RetryPolicy::parse(service.retry(), errors);
  policy->attempt = parse_timeouts(service, errors);
  policy->attempt.max_attempts = policy->retry.max_attempts;
  policy->faults = FaultPolicy::parse(service.faults(), errors);
  if (!service.tier().empty() && service.tier() != "online" && service.tier() != "offline") {
    ValidationErrors::Scope field(errors, "tier");
    errors.add(absl::StrCat("\"", service.tier().substr(0, 64),
                            "\" is not a tier; expected \"online\", \"offline\" or none"));
  }
  policy->tier = service.tier();
  if (service.has_agent_watch()) {  // read by ufc-metad only; checked for every reader
    ValidationErrors::Scope section(errors, "agent_watch");
    const v1::AgentWatch& w = service.agent_watch();
    if (w.has_after()) check_duration(errors, "after", w.after(), absl::Seconds(1), absl::Hours(1));
    if (w.has_max_share()) check_open_closed(errors, "max_share", w.max_share(), 0, 1);
  }
  policy->fuse.attempt_timeout = policy->attempt.strict_read_ns != kInfiniteNs
                                     ? absl::Nanoseconds(policy->attempt.strict_read_ns)
                                 : policy->attempt.strict_connect_ns != kInfiniteNs
                                     ? absl::Nanoseconds(policy->attempt.strict_connect_ns)
                                     : absl::InfiniteDuration();
  // Last: its errors ("selects no endpoint") follow the sections'. Bounded even for a bad
  // config: the section parsers cap every count it walks, and it stops at its budget.
  out.endpoints.layout = layout_of(*policy, out.endpoints.specs, errors);
  out.policy = std::move(policy);
  return out;
}

}  // namespace

absl::Status check_service_name(std::string_view name) {
  ValidationErrors errors;
  if (name.size() > kMaxNameLength) {
    ValidationErrors::Scope scope(errors, "name");
    errors.add(absl::StrCat("must be at most ", kMaxNameLength, " bytes, got ", name.size()));
  } else {
    validate_name(std::string(name), errors);
  }
  return errors.status();
}

ParsedService parse_service(const v1::ServiceConfig& service, ValidationErrors& errors) {
  if (!counts_ok(service, errors) || !strings_ok(service, errors)) return ParsedService{};
  return parse_checked_service(service, errors);
}

absl::StatusOr<ParsedService> parse_service(const v1::ServiceConfig& service) {
  ValidationErrors errors;
  ParsedService parsed = parse_service(service, errors);
  if (!errors.empty()) return errors.status();
  return parsed;
}

absl::StatusOr<ParsedEndpoints> parse_endpoints(
    const ServicePolicy& policy,
    const google::protobuf::RepeatedPtrField<v1::Endpoint>& endpoints) {
  ValidationErrors errors;
  check_endpoint_counts(endpoints, errors);
  if (!errors.empty()) return errors.status();
  {
    ValidationErrors::Scope scope(errors, "endpoints");
    for (int i = 0; i < endpoints.size(); ++i) {
      ValidationErrors::Scope item(errors, index(i));
      check_strings(endpoints.Get(i), errors);
    }
  }
  if (!errors.empty()) return errors.status();
  ParsedEndpoints out;
  out.specs = parse_endpoint_list(endpoints, !policy.destinations.empty(), errors);
  if (errors.empty()) out.layout = layout_of(policy, out.specs, errors);
  if (!errors.empty()) return errors.status();
  return out;
}

MergedEndpoints merge_endpoints(const ServicePolicy& policy,
                                const std::vector<EndpointSpec>& configured,
                                const std::vector<std::vector<DnsEndpoint>>& dns) {
  MergedEndpoints out;
  std::vector<EndpointSpec>& specs = out.endpoints.specs;
  specs = configured;
  absl::flat_hash_set<std::string> seen;
  for (const EndpointSpec& spec : configured) seen.insert(spec.host_port.canonical);
  const std::vector<DnsName>& names = policy.destinations.names;
  for (size_t n = 0; n < dns.size() && n < names.size(); ++n) {
    for (const DnsEndpoint& e : dns[n]) {
      const bool v6 = e.ip.find(':') != std::string::npos;
      EndpointSpec spec;
      spec.address = v6 ? absl::StrCat("[", e.ip, "]:", e.port) : absl::StrCat(e.ip, ":", e.port);
      if (!seen.insert(spec.address).second) continue;  // canonical: endpoints_of's inet_ntop
      if (specs.size() >= static_cast<size_t>(kMaxEndpoints)) {
        ++out.dropped;
        out.why = absl::StrCat("at most ", kMaxEndpoints, " endpoints per service");
        continue;
      }
      spec.host_port.host = e.ip;
      spec.host_port.port = e.port;
      spec.host_port.is_ip = true;
      spec.host_port.canonical = spec.address;
      spec.weight = e.weight;
      spec.tags.assign(names[n].tags.begin(), names[n].tags.end());
      specs.push_back(std::move(spec));
    }
  }
  std::vector<const std::vector<Tag>*> tags;
  tags.reserve(specs.size());
  for (const EndpointSpec& spec : specs) tags.push_back(&spec.tags);
  for (;;) {
    ValidationErrors errors;
    out.endpoints.layout =
        build_layout(policy.routing, policy.balancing, tags, errors, /*allow_empty=*/true);
    if (errors.empty()) break;
    // Over a budget: half the DNS endpoints go (the last ones), until it fits.
    const size_t from_dns = specs.size() - configured.size();
    const size_t cut = from_dns == 0 ? 0 : (from_dns + 1) / 2;
    out.why = std::string(errors.status().message());
    // The static endpoints alone validated (with a stand-in per name): cannot happen, but
    // the layout is safe to use (every destination has an entry) if it did.
    if (cut == 0) break;
    specs.resize(specs.size() - cut);
    tags.resize(specs.size());
    out.dropped += cut;
  }
  return out;
}

bool check_idc_map(const v1::ClientConfig& config, ValidationErrors& errors) {
  if (!check_count(errors, "idc_map", config.idc_map_size(), kMaxIdcMapEntries)) return false;
  if (!strings_ok(config, v1::ClientConfig::kIdcMapFieldNumber, errors)) return false;
  bool ok = true;
  for (const auto& [physical, logical] : config.idc_map()) {
    ValidationErrors::Scope field(errors, "idc_map");
    if (physical.empty() || logical.empty()) {
      errors.add(
          absl::StrCat("\"", physical, "\" -> \"", logical, "\": IDC names must not be empty"));
      ok = false;
    }
  }
  return ok;
}

std::vector<ParsedService> parse_client_config(const v1::ClientConfig& config,
                                               ValidationErrors& errors) {
  std::vector<ParsedService> parsed;
  if (config.idc_map_size() > kMaxIdcMapEntries) {
    check_count(errors, "idc_map", config.idc_map_size(), kMaxIdcMapEntries);
    return parsed;
  }
  int64_t endpoints = 0;
  for (const v1::ServiceConfig& service : config.services()) endpoints += service.endpoints_size();
  if (endpoints > kMaxEndpointsPerConfig) {
    ValidationErrors::Scope field(errors, "services");
    errors.add(absl::StrCat("list ", endpoints, " endpoints in all, at most ",
                            kMaxEndpointsPerConfig, " are allowed per config"));
    return parsed;
  }
  check_idc_map(config, errors);
  ValidationErrors::Scope scope(errors, "services");
  if (config.services_size() > kMaxServices) {
    errors.add(absl::StrCat("has ", config.services_size(), " entries, at most ", kMaxServices,
                            " are allowed"));
    return parsed;
  }
  parsed.reserve(config.services_size());
  absl::flat_hash_map<std::string, int> names;
  for (int i = 0; i < config.services_size(); ++i) {
    ValidationErrors::Scope item(errors, index(i));
    const v1::ServiceConfig& service = config.services(i);
    if (!counts_ok(service, errors) || !strings_ok(service, errors)) {
      parsed.emplace_back();  // meaningless anyway; and its name is not compared
      continue;
    }
    parsed.push_back(parse_checked_service(service, errors));
    if (service.name().empty()) continue;
    auto [it, inserted] = names.emplace(service.name(), i);
    if (!inserted) {
      ValidationErrors::Scope field(errors, "name");
      errors.add(
          absl::StrCat("duplicate of services[", it->second, "] (\"", service.name(), "\")"));
    }
  }
  return parsed;
}

}  // namespace ufc::internal

namespace ufc {

absl::Status validate_config(const v1::ClientConfig& config) {
  internal::ValidationErrors errors;
  internal::parse_client_config(config, errors);
  return errors.status();
}

absl::Status validate_service(const v1::ServiceConfig& service) {
  return internal::parse_service(service).status();
}

}  // namespace ufc
