// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/source/version_book.h: which config versions a client has accepted, so that nothing
// older replaces them.

#ifndef UFC_SOURCE_VERSION_BOOK_H_
#define UFC_SOURCE_VERSION_BOOK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "src/service/service_policy.h"
#include "src/source/config_source.h"
#include "src/source/parsed_update.h"

namespace ufc::internal {

// VersionBook: the global version (the newest a source delivered) and, per service a
// source removed, the version it was removed at.
//
// Versions 0 are "unversioned" (a file edited by hand, a caller's apply): they always
// apply and leave no mark. Thread-safety: none; the client calls it under its config mutex.
class VersionBook {
 public:
  // FAILED_PRECONDITION when `global` (non-zero) is older than the newest seen.
  absl::Status check_global(uint64_t global) const;
  void note_global(uint64_t global);
  uint64_t global() const { return global_; }

  // OK when `next` may replace `current` (nullptr: not configured); `repeat` when it is
  // the very same version and content (a no-op). FAILED_PRECONDITION, naming the version
  // field, when it is older than what runs or than the service's removal, or the same
  // version with different content.
  absl::Status check_service(const ServicePolicy& next, const ServicePolicy* current,
                             bool& repeat) const;
  // OK when `removal` may remove `current` (nullptr: not configured): it is unversioned or
  // not older than what runs. FAILED_PRECONDITION naming the version otherwise.
  absl::Status check_removal(const ServiceRemoval& removal, const ServicePolicy* current) const;
  // A source removed `name` at `version` (0: no mark) / the service was applied again.
  void note_removed(const std::string& name, uint64_t version);
  void note_applied(const std::string& name) { removed_at_.erase(name); }

  // What a parsed update may change. Stale parts of an all-or-nothing update reject it
  // whole (`status`, with paths "services[i]." / "removals[i]."); otherwise each stale
  // service or removal goes to `result.rejected` and the rest proceed.
  struct Verdict {
    absl::Status status;
    std::vector<bool> install;      // per parsed service: new, or newer (not a repeat)
    std::vector<bool> remove;       // per removal
    std::vector<std::string> gone;  // configured services a complete update drops
  };
  // `current` gives the policy in force for a name (nullptr: none); `configured` lists
  // every service the client has.
  Verdict judge(const ConfigUpdate& update, const ParsedUpdate& parsed,
                absl::FunctionRef<const ServicePolicy*(const std::string&)> current,
                const std::vector<std::string>& configured, UpdateResult& result) const;
  // Records what an accepted verdict did: applied services, removals (a complete update's
  // at its global version), and the global version.
  void record(const ConfigUpdate& update, const ParsedUpdate& parsed, const Verdict& verdict);

 private:
  uint64_t global_ = 0;
  absl::flat_hash_map<std::string, uint64_t> removed_at_;
};

}  // namespace ufc::internal

#endif  // UFC_SOURCE_VERSION_BOOK_H_
