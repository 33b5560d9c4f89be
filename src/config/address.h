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

// valid_dns_name() says whether `host` is an RFC 1123 host name: labels of letters, digits
// and '-' (not first or last), 1..63 bytes each, 253 in all, the last not all digits (that
// is a mistyped IP address). With `service_labels`, '_' is a letter too (SRV names such as
// "_http._tcp.example.com") and one trailing dot (an absolute name) is allowed.
bool valid_dns_name(std::string_view host, bool service_labels = false);

}  // namespace ufc::internal

#endif  // UFC_CONFIG_ADDRESS_H_
