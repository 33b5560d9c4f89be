// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ufc::metad {
namespace {

constexpr absl::string_view kServiceMagic = "UFCSVC1\n";
constexpr absl::string_view kRevisionMagic = "UFCREV1\n";
constexpr absl::string_view kSuffix = ".svc";
constexpr absl::string_view kTmpSuffix = ".tmp";

uint64_t fnv1a(absl::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

absl::Status io_error(absl::string_view what, const std::string& path, int err) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(absl::StrCat(message, " (nothing was written)"));
  }
  return absl::UnavailableError(message);
}

absl::Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync directory", dir, err);
  return absl::OkStatus();
}

// Writes `content` to dir/name through dir/name.tmp: write, fsync, rename, fsync dir.
absl::Status write_atomically(const std::string& dir, const std::string& name,
                              absl::string_view content) {
  const std::string path = absl::StrCat(dir, "/", name);
  const std::string tmp = absl::StrCat(path, kTmpSuffix);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
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
  return fsync_dir(dir);
}

absl::StatusOr<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return io_error("read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// "<body><16 hex of fnv1a(body)>\n"
std::string sealed(std::string body) {
  absl::StrAppend(&body, absl::StrFormat("%016x\n", fnv1a(body)));
  return body;
}

// The body of a sealed file, or DATA_LOSS.
absl::StatusOr<absl::string_view> unseal(absl::string_view data, absl::string_view magic,
                                         const std::string& path) {
  if (data.size() < magic.size() + 17 || data.substr(0, magic.size()) != magic ||
      data.back() != '\n') {
    return absl::DataLossError(absl::StrCat(path, ": not a UFC store file or truncated"));
  }
  absl::string_view body = data.substr(0, data.size() - 17);
  uint64_t sum = 0;
  if (!absl::SimpleHexAtoi(data.substr(data.size() - 17, 16), &sum) || sum != fnv1a(body)) {
    return absl::DataLossError(absl::StrCat(path, ": checksum mismatch (corrupted)"));
  }
  return body.substr(magic.size());
}

std::string service_file(absl::string_view name, uint64_t mod_revision, absl::string_view value) {
  return sealed(absl::StrCat(kServiceMagic, mod_revision, "\n", name.size(), " ", value.size(),
                             "\n", name, value));
}

absl::Status parse_service_file(absl::string_view data, const std::string& path, std::string& name,
                                std::string& value, uint64_t& mod_revision) {
  absl::StatusOr<absl::string_view> body = unseal(data, kServiceMagic, path);
  if (!body.ok()) return body.status();
  absl::string_view rest = *body;
  auto line = [&rest]() {
    size_t nl = rest.find('\n');
    absl::string_view l = rest.substr(0, nl);
    rest = nl == absl::string_view::npos ? absl::string_view() : rest.substr(nl + 1);
    return l;
  };
  absl::string_view rev_line = line();
  std::vector<absl::string_view> sizes = absl::StrSplit(line(), ' ');
  uint64_t name_size = 0, value_size = 0;
  if (!absl::SimpleAtoi(rev_line, &mod_revision) || mod_revision == 0 || sizes.size() != 2 ||
      !absl::SimpleAtoi(sizes[0], &name_size) || !absl::SimpleAtoi(sizes[1], &value_size) ||
      name_size == 0 || name_size + value_size != rest.size()) {
    return absl::DataLossError(absl::StrCat(path, ": malformed header"));
  }
  name = std::string(rest.substr(0, name_size));
  value = std::string(rest.substr(name_size));
  return absl::OkStatus();
}

}  // namespace

std::string local_store_file_name(absl::string_view service) {
  std::string out;
  for (unsigned char c : service) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, absl::StrFormat("%%%02X", c));
    }
  }
  // "." and ".." are directory entries, not names.
  if (out == "." || out == "..") out = absl::StrCat("%2E", out.substr(1));
  if (out.size() > 200) out = absl::StrFormat("h-%016x", fnv1a(service));
  return absl::StrCat(out, kSuffix);
}

absl::StatusOr<std::unique_ptr<LocalStore>> LocalStore::open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("data_dir: empty path");
  for (const std::string& d : {dir, absl::StrCat(dir, "/services")}) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return io_error("mkdir", d, errno);
  }
  std::unique_ptr<LocalStore> store(new LocalStore(dir));
  if (absl::Status s = store->read_all(); !s.ok()) return s;
  return store;
}

absl::Status LocalStore::read_all() {
  absl::MutexLock lock(&mu_);
  const std::string services = absl::StrCat(dir_, "/services");
  // REVISION: the newest delete's revision (absent: none yet).
  const std::string rev_path = absl::StrCat(dir_, "/REVISION");
  if (::access(rev_path.c_str(), F_OK) == 0) {
    absl::StatusOr<std::string> data = read_file(rev_path);
    if (!data.ok()) return data.status();
    absl::StatusOr<absl::string_view> body = unseal(*data, kRevisionMagic, rev_path);
    if (!body.ok()) return body.status();
    if (!absl::SimpleAtoi(absl::StripSuffix(*body, "\n"), &revision_)) {
      return absl::DataLossError(absl::StrCat(rev_path, ": malformed revision"));
    }
  }
  ::unlink(absl::StrCat(rev_path, kTmpSuffix).c_str());
  DIR* d = ::opendir(services.c_str());
  if (d == nullptr) return io_error("opendir", services, errno);
  std::vector<std::string> files;
  while (dirent* e = ::readdir(d)) {
    absl::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    files.emplace_back(n);
  }
  ::closedir(d);
  for (const std::string& f : files) {
    const std::string path = absl::StrCat(services, "/", f);
    if (absl::EndsWith(f, kTmpSuffix)) {  // a write that never completed
      ::unlink(path.c_str());
      continue;
    }
    if (!absl::EndsWith(f, kSuffix)) continue;
    absl::StatusOr<std::string> data = read_file(path);
    if (!data.ok()) return data.status();
    std::string name;
    Entry entry;
    if (absl::Status s = parse_service_file(*data, path, name, entry.value, entry.mod_revision);
        !s.ok()) {
      return s;
    }
    if (local_store_file_name(name) != f) {
      return absl::DataLossError(
          absl::StrCat(path, ": holds service \"", name, "\", which belongs in another file"));
    }
    revision_ = std::max(revision_, entry.mod_revision);
    entries_[name] = std::move(entry);
  }
  return absl::OkStatus();
}

absl::StatusOr<StoreSnapshot> LocalStore::load() {
  absl::MutexLock lock(&mu_);
  StoreSnapshot snapshot;
  snapshot.revision = revision_;
  snapshot.services.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) {
    snapshot.services.push_back({name, entry.value, entry.mod_revision});
  }
  return snapshot;
}

absl::Status LocalStore::check_expected(absl::string_view name,
                                        std::optional<uint64_t> expected) const {
  if (!expected.has_value()) return absl::OkStatus();
  auto it = entries_.find(name);
  uint64_t current = it == entries_.end() ? 0 : it->second.mod_revision;
  if (current == *expected) return absl::OkStatus();
  if (current == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected_version: ", *expected, ", but \"", name, "\" does not exist"));
  }
  return absl::FailedPreconditionError(absl::StrCat("expected_version: ", *expected, ", but \"",
                                                    name, "\" is at version ", current));
}

absl::StatusOr<uint64_t> LocalStore::put(absl::string_view name, absl::string_view value,
                                         std::optional<uint64_t> expected) {
  if (name.empty()) return absl::InvalidArgumentError("name: empty");
  absl::MutexLock lock(&mu_);
  if (absl::Status s = check_expected(name, expected); !s.ok()) return s;
  const uint64_t revision = revision_ + 1;
  if (absl::Status s =
          write_atomically(absl::StrCat(dir_, "/services"), local_store_file_name(name),
                           service_file(name, revision, value));
      !s.ok()) {
    return s;
  }
  revision_ = revision;
  Entry& entry = entries_[std::string(name)];
  entry.value = std::string(value);
  entry.mod_revision = revision;
  notify({std::string(name), false, std::string(value), revision});
  return revision;
}

absl::StatusOr<uint64_t> LocalStore::remove(absl::string_view name,
                                            std::optional<uint64_t> expected) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("service \"", name, "\" is not stored"));
  }
  if (absl::Status s = check_expected(name, expected); !s.ok()) return s;
  const uint64_t revision = revision_ + 1;
  // The revision first: a crash before the unlink leaves the service (the delete was not
  // acknowledged) and a revision that only went up.
  if (absl::Status s =
          write_atomically(dir_, "REVISION", sealed(absl::StrCat(kRevisionMagic, revision, "\n")));
      !s.ok()) {
    return s;
  }
  const std::string path = absl::StrCat(dir_, "/services/", local_store_file_name(name));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("unlink", path, errno);
  if (absl::Status s = fsync_dir(absl::StrCat(dir_, "/services")); !s.ok()) return s;
  revision_ = revision;
  std::string removed = it->first;
  entries_.erase(it);
  notify({std::move(removed), true, std::string(), revision});
  return revision;
}

absl::Status LocalStore::watch(uint64_t after_revision, StoreWatcher watcher) {
  absl::MutexLock lock(&mu_);
  if (watching_) return absl::FailedPreconditionError("watch: already watching");
  watching_ = true;
  watcher_ = std::move(watcher);
  // Nobody else writes this directory: nothing can have happened after a load() that the
  // caller has not seen, unless it passed an older revision; then it gets everything.
  if (after_revision < revision_ && watcher_.on_reset) {
    StoreSnapshot snapshot;
    snapshot.revision = revision_;
    for (const auto& [name, entry] : entries_) {
      snapshot.services.push_back({name, entry.value, entry.mod_revision});
    }
    watcher_.on_reset(snapshot);
  }
  return absl::OkStatus();
}

void LocalStore::notify(StoreEvent event) {
  if (!watching_ || !watcher_.on_events) return;
  const uint64_t revision = event.revision;
  std::vector<StoreEvent> events;
  events.push_back(std::move(event));
  watcher_.on_events(events, revision);
}

void LocalStore::stop() {
  absl::MutexLock lock(&mu_);
  watching_ = false;
  watcher_ = StoreWatcher();
}

}  // namespace ufc::metad
