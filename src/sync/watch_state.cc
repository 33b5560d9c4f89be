// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/sync/watch_state.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace ufc::internal {

absl::Status WatchState::apply(v1::WatchResponse& response, ConfigSink& sink,
                               v1::WatchRequest& ack_request) {
  ack_request.Clear();
  v1::Ack* ack = ack_request.mutable_ack();
  ack->set_response_id(response.response_id());
  uint64_t have_global;
  {
    absl::MutexLock lock(&mu_);
    ++counters_.responses;
    counters_.services_received += response.services_size();
    counters_.removals_received += response.removals_size();
    counters_.bytes_received += response.ByteSizeLong();
    have_global = global_;
    unknown_.assign(response.unknown().begin(), response.unknown().end());
  }
  if (!response.more() && response.global_version() < have_global) {
    absl::Status refuse = absl::FailedPreconditionError(
        absl::StrCat("global_version: the server is at ", response.global_version(),
                     ", older than the client's ", have_global,
                     " (a different or rolled-back store); not followed"));
    ack->set_error(std::string(refuse.message()));
    absl::MutexLock lock(&mu_);
    ++counters_.nacks_sent;
    return refuse;
  }

  ConfigUpdate update;
  update.global_version = response.more() ? 0 : response.global_version();
  absl::flat_hash_map<std::string, uint64_t> versions;
  for (v1::ServiceConfig& s : *response.mutable_services()) {
    versions.emplace(s.name(), s.version());
    *update.config.add_services() = std::move(s);
  }
  for (const v1::ServiceRemoval& r : response.removals()) {
    if (versions.contains(r.name())) {
      // No server sends both: which one is meant is unknown, and the client's verdicts
      // on the two would not say which of them it applied.
      ack->set_error(absl::StrCat("removals: \"", r.name(),
                                  "\" is changed and removed in one response; nothing applied"));
      absl::MutexLock lock(&mu_);
      ++counters_.nacks_sent;
      return absl::OkStatus();
    }
    update.removals.push_back({r.name(), r.version()});
  }
  const UpdateResult result = sink.deliver(update);
  absl::flat_hash_set<std::string> rejected;
  for (const auto& [name, status] : result.rejected) {
    rejected.insert(name);
    v1::Nack* n = ack->add_nacks();
    n->set_service(name);
    auto v = versions.find(name);
    n->set_version(v == versions.end() ? 0 : v->second);
    n->set_error(std::string(status.message()));
  }
  if (!result.status.ok()) ack->set_error(std::string(result.status.message()));
  absl::MutexLock lock(&mu_);
  if (result.status.ok()) {
    for (v1::ServiceConfig& s : *update.config.mutable_services()) {
      if (rejected.contains(s.name())) continue;
      have_[s.name()] = s.version();
      configs_[s.name()] = std::move(s);
    }
    for (const ServiceRemoval& r : update.removals) {
      if (rejected.contains(r.name)) continue;
      have_.erase(r.name);
      configs_.erase(r.name);
    }
    if (update.global_version != 0) global_ = std::max(global_, update.global_version);
    dirty_ = true;
    ack->set_global_version(global_);
  }
  counters_.nacks_sent += ack->nacks_size() + (ack->error().empty() ? 0 : 1);
  if (result.status.ok() && response.has_idc_map()) apply_idc_map_locked(response, sink, *ack);
  return absl::OkStatus();
}

void WatchState::apply_idc_map_locked(const v1::WatchResponse& response, ConfigSink& sink,
                                      v1::Ack& ack) {
  // Its own update, after the services: an invalid map is NACKed alone and keeps the
  // client's last good one, while the services beside it apply.
  ConfigUpdate update;
  update.replace_idc_map = true;
  *update.config.mutable_idc_map() = response.idc_map().entries();
  mu_.Unlock();
  const UpdateResult result = sink.deliver(update);
  mu_.Lock();
  if (!result.status.ok()) {
    v1::Nack* n = ack.add_nacks();
    n->set_service(std::string(kIdcMapName));
    n->set_version(response.idc_map().version());
    n->set_error(std::string(result.status.message()));
    ++counters_.nacks_sent;
    return;
  }
  idc_map_ = update.config.idc_map();
  idc_map_version_ = response.idc_map().version();
  dirty_ = true;
}

absl::StatusOr<std::vector<std::string>> WatchState::load_cache(SyncCacheContent cache,
                                                                ConfigSink& sink) {
  ConfigUpdate update;
  update.global_version = cache.global_version;
  update.config = std::move(cache.config);
  // The cache's IDC map, when it has one; its version is not kept: the hello says
  // kUnknownVersion, so that the server sends the store's (even an empty one).
  update.replace_idc_map = !update.config.idc_map().empty();
  const UpdateResult result = sink.deliver(update);
  if (!result.status.ok()) return result.status;
  absl::flat_hash_set<std::string> rejected;
  for (const auto& [name, status] : result.rejected) rejected.insert(name);
  std::vector<std::string> loaded;
  absl::MutexLock lock(&mu_);
  global_ = std::max(global_, cache.global_version);
  idc_map_ = update.config.idc_map();
  if (update.replace_idc_map) idc_map_version_ = kUnknownVersion;
  for (v1::ServiceConfig& s : *update.config.mutable_services()) {
    if (rejected.contains(s.name())) continue;
    loaded.push_back(s.name());
    have_[s.name()] = s.version();
    configs_[s.name()] = std::move(s);
  }
  return loaded;
}

std::optional<SyncCacheContent> WatchState::take_cache() {
  absl::MutexLock lock(&mu_);
  if (!dirty_) return std::nullopt;
  dirty_ = false;
  SyncCacheContent content;
  content.global_version = global_;
  for (const auto& [name, config] : configs_) *content.config.add_services() = config;
  *content.config.mutable_idc_map() = idc_map_;
  return content;
}

void WatchState::forget(const std::string& service) {
  absl::MutexLock lock(&mu_);
  if (have_.erase(service) + configs_.erase(service) > 0) dirty_ = true;
}

void WatchState::mark_dirty() {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
}

void WatchState::fill_hello(v1::WatchRequest& hello) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, version] : have_) (*hello.mutable_have())[name] = version;
  hello.set_have_global(global_);
  hello.set_have_idc_map(idc_map_version_);
}

uint64_t WatchState::global() const {
  absl::MutexLock lock(&mu_);
  return global_;
}

uint64_t WatchState::idc_map_version() const {
  absl::MutexLock lock(&mu_);
  return idc_map_version_;
}

size_t WatchState::services() const {
  absl::MutexLock lock(&mu_);
  return have_.size();
}

uint64_t WatchState::version(const std::string& service) const {
  absl::MutexLock lock(&mu_);
  auto it = have_.find(service);
  return it == have_.end() ? 0 : it->second;
}

WatchState::Counters WatchState::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

std::vector<std::string> WatchState::unknown() const {
  absl::MutexLock lock(&mu_);
  return unknown_;
}

}  // namespace ufc::internal
