// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/admin/json_lines.h: an append-only JSON-lines file (the event log, the access
// log). One write(2) per line on an O_APPEND descriptor, so lines from several threads
// (and processes) never interleave; a failed write (a full disk, a removed mount) drops
// that line, counts it, and never stops the caller.
//
// Thread-safety: write() may be called from any thread.

#ifndef UFC_AGENTD_ADMIN_JSON_LINES_H_
#define UFC_AGENTD_ADMIN_JSON_LINES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ufc_agent::admin {

class JsonLinesFile {
 public:
  // Opens (creating, 0640) `path` for appending. INVALID_ARGUMENT naming `flag` when it
  // cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonLinesFile>> open(const std::string& path,
                                                             std::string_view flag);
  ~JsonLinesFile();

  // Appends `line` and a newline. False (and counted) when the write failed or was short.
  bool write(std::string_view line);

  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  explicit JsonLinesFile(int fd) : fd_(fd) {}
  const int fd_;
  std::atomic<uint64_t> written_{0}, dropped_{0};
};

}  // namespace ufc_agent::admin

#endif  // UFC_AGENTD_ADMIN_JSON_LINES_H_
