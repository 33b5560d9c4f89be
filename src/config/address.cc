// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/address.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/common/strings.h"

namespace ufc::internal {
namespace {

absl::Status bad(std::string_view address, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", av(address), "\" ", av(why)));
}

}  // namespace

bool valid_dns_name(std::string_view host, bool service_labels) {
  if (service_labels && host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  char prev = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
               (service_labels && c == '_')) {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  if (prev == '-' || prev == '.') return false;
  // A numeric last label ("999.1.1.1") is a mistyped IP address, not a name.
  const std::string_view last = host.substr(host.rfind('.') + 1);
  for (char c : last) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

absl::StatusOr<HostPort> parse_address(std::string_view address) {
  if (address.empty()) return absl::InvalidArgumentError("must not be empty");
  for (unsigned char c : address) {
    if (c <= ' ' || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", absl::CHexEscape(av(address)), "\" has a space, control or non-ASCII character"));
    }
  }
  HostPort out;
  std::string_view host;
  std::string_view port;
  if (address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos)
      return bad(address, "has no closing ']' for its IPv6 host");
    host = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return bad(address, "has no port (expected [ipv6]:port)");
    port = rest.substr(1);
    in6_addr a6;
    const std::string h(host);
    if (inet_pton(AF_INET6, h.c_str(), &a6) != 1) {
      return bad(address, "has an invalid IPv6 host");
    }
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
    out.host = h;
    out.is_ip = true;
    out.canonical = absl::StrCat("[", buf, "]");
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return bad(address, "has no port (expected host:port)");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad(address, "looks like an IPv6 address without brackets (expected [ipv6]:port)");
    }
    if (host.empty()) return bad(address, "has an empty host");
    in_addr a4;
    const std::string h(host);
    if (inet_pton(AF_INET, h.c_str(), &a4) == 1) {
      out.is_ip = true;
      out.canonical = h;
    } else if (valid_dns_name(host)) {
      out.canonical = absl::AsciiStrToLower(av(host));
    } else {
      return bad(address, "has a host that is neither an IP address nor a valid DNS name");
    }
    out.host = h;
  }
  uint32_t p = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  if (!digits || !absl::SimpleAtoi(av(port), &p) || p == 0 || p > 65535) {
    return bad(address, absl::StrCat("has an invalid port \"", av(port), "\" (expected 1..65535)"));
  }
  out.port = static_cast<uint16_t>(p);
  absl::StrAppend(&out.canonical, ":", p);
  return out;
}

}  // namespace ufc::internal
