// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/listen_security.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ufc::internal {

absl::StatusOr<std::string> read_secret_file(const std::string& path, std::string_view flag) {
  if (path.empty()) return std::string();
  const std::string name(flag);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--", name, ": cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  std::string secret(absl::StripAsciiWhitespace(s.str()));
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", path, " is empty"));
  }
  return secret;
}

bool is_loopback_listen(std::string_view listen) {
  const absl::string_view l(listen.data(), listen.size());
  if (absl::StartsWith(l, "unix:")) return true;
  absl::string_view host = l;
  if (absl::StartsWith(host, "[")) {
    const size_t close = host.find(']');
    if (close == absl::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost") return true;
  // An address literal, parsed: "127.example.com" is a name, not loopback.
  const std::string literal(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, literal.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  }
  in6_addr v6{};
  return ::inet_pton(AF_INET6, literal.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool bearer_matches(std::string_view header, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.empty() || header.size() != kPrefix.size() + token.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    diff |= static_cast<unsigned char>(header[i] ^ kPrefix[i]);
  }
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(header[kPrefix.size() + i] ^ token[i]);
  }
  return diff == 0;
}

absl::Status write_port_file(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out.flush()) {
      return absl::InvalidArgumentError(absl::StrCat("--port_file: cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--port_file: cannot rename to ", path));
  }
  return absl::OkStatus();
}

}  // namespace ufc::internal
