// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/address.h: parsing "host:port" endpoint addresses.

#ifndef UFC_CONFIG_ADDRESS_H_
#define UFC_CONFIG_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ufc::internal {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
  bool is_ip = false;     // an IPv4/IPv6 literal, not a DNS name
  std::string canonical;  // normalized "host:port" for duplicate detection
};

// parse_address() accepts "1.2.3.4:80", "[::1]:80" and "name.example:80" (RFC 1123 host
// names). The error message is written to follow a field path, e.g.
// `"10.0.0.1" has no port (expected host:port)`.
absl::StatusOr<HostPort> parse_address(std::string_view address);

}  // namespace ufc::internal

#endif  // UFC_CONFIG_ADDRESS_H_
