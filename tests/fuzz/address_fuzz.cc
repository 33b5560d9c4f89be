// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// address_fuzz: bytes -> parse_address (src/config/address.h).
//
// Invariants: an accepted address has a port in 1..65535 and a non-empty host; an IP
// literal is one inet_pton accepts; its canonical form parses again to itself (so
// duplicate detection is stable), with the same port and kind. Never a crash.

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "src/config/address.h"
#include "tests/fuzz/fuzz_support.h"

namespace ufc::fuzz {

void address_one(std::string_view data) {
  absl::StatusOr<internal::HostPort> hp = internal::parse_address(data);
  if (!hp.ok()) {
    UFC_FUZZ_CHECK(!hp.status().message().empty(), std::string(data));
    return;
  }
  const std::string input(data);
  UFC_FUZZ_CHECK(hp->port >= 1, input);
  UFC_FUZZ_CHECK(!hp->host.empty(), input);
  if (hp->is_ip) {
    unsigned char buf[16];
    const bool v6 = hp->host.find(':') != std::string::npos;
    UFC_FUZZ_CHECK(inet_pton(v6 ? AF_INET6 : AF_INET, hp->host.c_str(), buf) == 1, input);
  }
  absl::StatusOr<internal::HostPort> again = internal::parse_address(hp->canonical);
  UFC_FUZZ_CHECK(again.ok(),
                 absl::StrCat(input, " -> ", hp->canonical, ": ", again.status().ToString()));
  UFC_FUZZ_CHECK(again->canonical == hp->canonical,
                 absl::StrCat(input, " -> ", hp->canonical, " -> ", again->canonical));
  UFC_FUZZ_CHECK(again->port == hp->port && again->is_ip == hp->is_ip, input);
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::address_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
