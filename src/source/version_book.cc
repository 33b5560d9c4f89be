// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/source/version_book.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ufc::internal {

absl::Status VersionBook::check_global(uint64_t global) const {
  if (global == 0 || global >= global_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("global_version: ", global, " is older than the applied ", global_));
}

void VersionBook::note_global(uint64_t global) { global_ = std::max(global_, global); }

absl::Status VersionBook::check_service(const ServicePolicy& next, const ServicePolicy* current,
                                        bool& repeat) const {
  repeat = false;
  const uint64_t version = next.version;
  if (version == 0) return absl::OkStatus();
  if (auto gone = removed_at_.find(next.name);
      gone != removed_at_.end() && version <= gone->second) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version: ", version, " is not newer than the removal at version ", gone->second));
  }
  if (current == nullptr || version > current->version) return absl::OkStatus();
  if (version < current->version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version: ", version, " is older than the applied version ", current->version));
  }
  if (next.content == current->content) {
    repeat = true;  // a repeated delivery: nothing to do
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "version: ", version, " is already applied with different content; bump the version"));
}

absl::Status VersionBook::check_removal(const ServiceRemoval& removal,
                                        const ServicePolicy* current) const {
  if (removal.version != 0 && current != nullptr && removal.version < current->version) {
    return absl::FailedPreconditionError(absl::StrCat("version: the removal at ", removal.version,
                                                      " is older than the applied version ",
                                                      current->version));
  }
  return absl::OkStatus();
}

void VersionBook::note_removed(const std::string& name, uint64_t version) {
  if (version == 0) return;
  uint64_t& at = removed_at_[name];
  at = std::max(at, version);
}

}  // namespace ufc::internal
