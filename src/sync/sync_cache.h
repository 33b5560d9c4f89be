// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/sync/sync_cache.h: the last good synced config on disk, for a restart with every
// control server down.
//
// Format: "UFCCACHE1\n", "<global version> <payload bytes>\n", the payload (a serialized
// ClientConfig, each service with its version), then 16 hex digits of a 64-bit FNV-1a of
// everything before them and "\n". Written to a temporary file, fsynced, renamed over the
// old one and the directory fsynced, so a reader sees the old file or the new one, whole.

#ifndef UFC_SYNC_SYNC_CACHE_H_
#define UFC_SYNC_SYNC_CACHE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

struct SyncCacheContent {
  uint64_t global_version = 0;
  v1::ClientConfig config;
};

// Writes `content` to `path` atomically. UNAVAILABLE (or RESOURCE_EXHAUSTED for a full
// disk) naming the path; the old file stays whole either way.
absl::Status write_sync_cache(const std::string& path, const SyncCacheContent& content);

// The checksum the file ends with: FNV-1a-64 of everything before it (for tools and the
// fuzzer that build or mend cache files).
uint64_t sync_cache_checksum(std::string_view data);

// Reads `path`. NOT_FOUND when there is no file; DATA_LOSS, saying what is wrong, for one
// that is truncated, corrupted or not a cache (the caller ignores it with an event).
// Services are not validated here: they go through the client's apply like any update.
absl::StatusOr<SyncCacheContent> read_sync_cache(const std::string& path);

}  // namespace ufc::internal

#endif  // UFC_SYNC_SYNC_CACHE_H_
