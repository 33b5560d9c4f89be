// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/sync/sync_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ufc::internal {
namespace {

constexpr absl::string_view kMagic = "UFCCACHE1\n";

absl::Status io_error(const char* what, const std::string& path, int err) {
  std::string message = absl::StrCat("sync cache: ", what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::UnavailableError(message);
}

}  // namespace

uint64_t sync_cache_checksum(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

absl::Status write_sync_cache(const std::string& path, const SyncCacheContent& content) {
  std::string payload;
  if (!content.config.SerializeToString(&payload)) {
    return absl::InternalError("sync cache: the config does not serialize");
  }
  std::string data = absl::StrCat(kMagic, content.global_version, " ", payload.size(), "\n");
  data.append(payload);
  absl::StrAppend(&data, absl::StrFormat("%016x\n", sync_cache_checksum(data)));

  const std::string tmp = absl::StrCat(path, ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp, errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_error("fsync", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("rename", tmp, err);
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

absl::StatusOr<SyncCacheContent> read_sync_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("sync cache ", path, ": none"));
    return io_error("open", path, errno);
  }
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return io_error("read", path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto bad = [&path](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("sync cache ", path, ": ", why));
  };
  absl::string_view all = data;
  if (all.size() < kMagic.size() + 17 || all.substr(0, kMagic.size()) != kMagic) {
    return bad("not a UFC sync cache (or empty)");
  }
  if (all.back() != '\n') return bad("truncated");
  absl::string_view body = all.substr(0, all.size() - 17);
  uint64_t sum = 0;
  if (!absl::SimpleHexAtoi(all.substr(all.size() - 17, 16), &sum) ||
      sum != sync_cache_checksum(std::string_view(body.data(), body.size()))) {
    return bad("checksum mismatch (truncated or corrupted)");
  }
  absl::string_view rest = body.substr(kMagic.size());
  const size_t nl = rest.find('\n');
  if (nl == absl::string_view::npos) return bad("malformed header");
  absl::string_view header = rest.substr(0, nl);
  rest = rest.substr(nl + 1);
  const size_t space = header.find(' ');
  SyncCacheContent content;
  uint64_t size = 0;
  if (space == absl::string_view::npos ||
      !absl::SimpleAtoi(header.substr(0, space), &content.global_version) ||
      !absl::SimpleAtoi(header.substr(space + 1), &size) || size != rest.size()) {
    return bad("malformed header");
  }
  if (!content.config.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
    return bad("payload does not parse");
  }
  return content;
}

}  // namespace ufc::internal
