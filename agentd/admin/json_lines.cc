// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/admin/json_lines.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ufc_agent::admin {

absl::StatusOr<std::unique_ptr<JsonLinesFile>> JsonLinesFile::open(const std::string& path,
                                                                   std::string_view flag) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", absl::string_view(flag.data(), flag.size()), "=", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<JsonLinesFile>(new JsonLinesFile(fd));
}

JsonLinesFile::~JsonLinesFile() { ::close(fd_); }

bool JsonLinesFile::write(std::string_view line) {
  iovec iov[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  ssize_t n;
  do {
    n = ::writev(fd_, iov, 2);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(line.size() + 1)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  written_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace ufc_agent::admin
