// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/limits.h: limits that keep a hostile or broken config from exhausting memory
// or time. Each section's parser enforces the ones it owns, naming the field; config.proto
// lists them for config authors.
//
// How they were chosen: every limit is at least 10x what a real service config needs
// (services have tens of routes with a handful of conditions and weighted splits over a
// few subsets; endpoints carry a few tags such as idc, zone, version, shard), and all of
// them at once keep one config's build under a second and ~256 MiB on a 2-core machine
// (bench/hostile_config prints the figures).

#ifndef UFC_CONFIG_LIMITS_H_
#define UFC_CONFIG_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ufc::internal {

inline constexpr int kMaxEndpoints = 100000;  // per service
inline constexpr int kMaxServices = 100000;   // per ClientConfig
// Endpoints over every service of one ClientConfig (~324 B each in a client).
inline constexpr int64_t kMaxEndpointsPerConfig = 500000;
inline constexpr double kMaxWeight = 1e6;
// The smallest nonzero weight: keeps weight ratios (and the tables built from them) bounded.
inline constexpr double kMinWeight = 1e-6;
inline constexpr size_t kMaxNameLength = 255;

// Strings. Every string of a config (names, tags, route and subset names, attribute keys
// and values, caller services and IDCs, idc_map entries, ...) must be well-formed UTF-8 and
// at most one of these many bytes long; config/string_checks enforces it before any
// section parser runs, so a hostile string is refused before anything is built from it.
// Every real config fits with room to spare: names, keys, tag values and IDC names are
// identifiers, and kMaxNameLength already bounds service names (a DNS name is at most 253
// bytes). The free-form values get kMaxValueLength: AttributeMatch.value (a header value
// or prefix to match, e.g. a user id or a URL path) and Endpoint.address (host:port; its
// parser is stricter still, 253 bytes of host). A field not named here is a name.
inline constexpr size_t kMaxValueLength = 1024;

// Routing.
inline constexpr int kMaxRoutesPerService = 256;
inline constexpr int kMaxDestinationsPerRoute = 32;
inline constexpr int kMaxAttributesPerRule = 32;
inline constexpr int kMaxCallersPerRule = 256;  // caller_services, and caller_idcs
inline constexpr int kMaxTagsPerEndpoint = 64;
inline constexpr int kMaxTagsPerSelector = 16;
inline constexpr int kMaxIdcMapEntries = 10000;

// Fault injection: rules per service (a drill uses a handful). Each rule's attribute
// conditions and caller services have the routing limits above.
inline constexpr int kMaxFaultRulesPerService = 64;

// DNS destinations: names per service (a service has a handful), and the endpoints one
// name's answer may give (the service's endpoint limit bounds what they all give).
inline constexpr int kMaxDnsNamesPerService = 64;

// Work budgets, per service: what compiling its candidate sets may cost.
// Selection work: for every distinct subset selector, the endpoints carrying its rarest tag
// (all endpoints for an empty selector), plus the whole service's set. Today's largest
// real configs need well under 1% of it; 100,000 endpoints fit 20 full-size subsets.
inline constexpr int64_t kMaxSelectionWork = 2000000;
// Maglev table slots over every distinct consistent-hash candidate set of a service (a set
// of n endpoints takes max(min_table_size or 65537, 100 n) slots, at most 4,194,301): two
// of the largest tables, or 128 of the default size.
inline constexpr int64_t kMaxMaglevEntriesPerService = 8388608;

}  // namespace ufc::internal

#endif  // UFC_CONFIG_LIMITS_H_
