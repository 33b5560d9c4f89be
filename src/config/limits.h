// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/limits.h: limits that keep a hostile or broken config from exhausting memory
// or time. Each section's parser enforces the ones it owns, naming the field.

#ifndef UFC_CONFIG_LIMITS_H_
#define UFC_CONFIG_LIMITS_H_

#include <cstddef>

namespace ufc::internal {

inline constexpr int kMaxEndpoints = 100000;
inline constexpr int kMaxServices = 100000;
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

}  // namespace ufc::internal

#endif  // UFC_CONFIG_LIMITS_H_
