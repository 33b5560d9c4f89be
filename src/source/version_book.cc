// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/source/version_book.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
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

VersionBook::Verdict VersionBook::judge(
    const ConfigUpdate& update, const ParsedUpdate& parsed,
    absl::FunctionRef<const ServicePolicy*(const std::string&)> current,
    const std::vector<std::string>& configured, UpdateResult& result) const {
  Verdict v;
  v.status = check_global(update.global_version);
  if (!v.status.ok()) return v;
  // A stale part of an all-or-nothing update rejects all of it; otherwise just itself.
  auto stale = [&](const char* what, size_t i, const std::string& name, absl::Status s) {
    if (update.all_or_nothing) {
      v.status = absl::FailedPreconditionError(absl::StrCat(what, "[", i, "].", s.message()));
    } else {
      result.rejected.emplace_back(name, std::move(s));
    }
  };
  v.install.resize(parsed.services.size());
  for (size_t i = 0; i < parsed.services.size() && v.status.ok(); ++i) {
    if (!parsed.services[i].has_value()) continue;
    const ServicePolicy& policy = *parsed.services[i]->policy;
    bool repeat = false;
    absl::Status s = check_service(policy, current(policy.name), repeat);
    v.install[i] = s.ok() && !repeat;
    if (!s.ok()) stale("services", i, policy.name, std::move(s));
  }
  v.remove.resize(update.removals.size());
  for (size_t i = 0; i < update.removals.size() && v.status.ok(); ++i) {
    const ServiceRemoval& r = update.removals[i];
    absl::Status s = check_removal(r, current(r.name));
    v.remove[i] = s.ok();
    if (!s.ok()) stale("removals", i, r.name, std::move(s));
  }
  if (update.complete) {
    // Listed is listed, rejected or not: a service whose new config is bad keeps its last
    // good one rather than being dropped.
    absl::flat_hash_set<std::string> listed;
    for (const v1::ServiceConfig& s : update.content().services()) listed.insert(s.name());
    for (const std::string& name : configured) {
      if (!listed.contains(name)) v.gone.push_back(name);
    }
  }
  return v;
}

void VersionBook::record(const ConfigUpdate& update, const ParsedUpdate& parsed,
                         const Verdict& verdict) {
  for (size_t i = 0; i < parsed.services.size(); ++i) {
    if (verdict.install[i]) note_applied(update.content().services(static_cast<int>(i)).name());
  }
  for (size_t i = 0; i < update.removals.size(); ++i) {
    if (verdict.remove[i]) note_removed(update.removals[i].name, update.removals[i].version);
  }
  for (const std::string& name : verdict.gone) note_removed(name, update.global_version);
  note_global(update.global_version);
}

}  // namespace ufc::internal
