// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/listen_security.h: what the daemons (ufc-metad, ufc-agentd) check before they
// listen: a secret read from a file, whether an address is loopback, a bearer token
// compared in constant time.

#ifndef UFC_SRC_COMMON_LISTEN_SECURITY_H_
#define UFC_SRC_COMMON_LISTEN_SECURITY_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ufc::internal {

// read_secret_file() is the file's content without surrounding whitespace ("" for an
// empty `path`). INVALID_ARGUMENT naming `flag` when the file cannot be read or holds
// nothing.
absl::StatusOr<std::string> read_secret_file(const std::string& path, std::string_view flag);

// is_loopback_listen() is true for "127.x.x.x:port", "[::1]:port", "localhost:port" and
// "unix:..." (a socket file is local by construction); false for anything else, including
// "0.0.0.0:port", "[::]:port" and names such as "127.example.com:port" (only the
// literals of 127.0.0.0/8 and ::1 are loopback, and the name localhost).
bool is_loopback_listen(std::string_view listen);

// bearer_matches() is true when `header` is exactly "Bearer <token>"; the comparison takes
// the same time wherever the first difference is.
bool bearer_matches(std::string_view header, std::string_view token);

// write_port_file() writes `port` and a newline to `path` atomically (a temporary file,
// then rename), so a reader never sees a partial number. Nothing for an empty `path`.
// INVALID_ARGUMENT naming --port_file when it cannot be written.
absl::Status write_port_file(const std::string& path, int port);

}  // namespace ufc::internal

#endif  // UFC_SRC_COMMON_LISTEN_SECURITY_H_
