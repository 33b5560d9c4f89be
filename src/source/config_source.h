// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/source/config_source.h: the one way config enters a client.
//
// A ConfigSource (a file today; the control-server stream and the on-disk cache next)
// delivers versioned ConfigUpdates to a ConfigSink (the client). The client's own
// `apply`/`remove` are updates too, so every config, wherever it comes from, goes through
// the same validation, version checks and events.

#ifndef UFC_SOURCE_CONFIG_SOURCE_H_
#define UFC_SOURCE_CONFIG_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// A service the source no longer has.
struct ServiceRemoval {
  std::string name;
  // The version the source removed it at (a store revision): a later update of the
  // service with a version at or below it is older than the removal and is rejected. 0
  // removes unconditionally and leaves no such mark (a caller's local remove()).
  uint64_t version = 0;
};

// How far a complete update may shrink the set of configured services: ufc::ApplyOptions
// as the client reads it (src/source/removal_limits.h).
struct RemovalLimits {
  bool allow_removing_all = false;  // may remove every configured service
  double max_removed_share = 1.0;   // may remove at most this share of them, in [0, 1]
};

// ConfigUpdate: what a source hands the client at once.
struct ConfigUpdate {
  // The source's version of everything it has sent (the store's revision); 0 when it has
  // none (a file, a caller's apply). An update whose global version is below the newest
  // the client has seen is stale and rejected whole.
  uint64_t global_version = 0;
  // A complete set: every service `config` does not list is removed (at global_version),
  // and config.idc_map replaces the client's. Otherwise services are added or changed one
  // by one and the idc_map is left alone, unless replace_idc_map says otherwise.
  bool complete = false;
  // config.idc_map replaces the client's even though the update is not complete (the sync
  // stream's IDC map). An invalid one rejects the update whole ("idc_map...").
  bool replace_idc_map = false;
  // A complete update that would remove every configured service, or more than a share
  // of them, is refused whole (FAILED_PRECONDITION, nothing changes) unless these allow
  // it: the caller's ApplyOptions; unset (every source), ClientOptions::apply_defaults.
  std::optional<RemovalLimits> removal_limits;
  // One problem rejects the whole update (ufc::Client::apply(ClientConfig)); errors name
  // fields as "services[i]...". Otherwise each service stands alone: a bad one is rejected
  // (the sync stream NACKs it) and keeps its last good config while the rest apply.
  bool all_or_nothing = false;
  v1::ClientConfig config;  // the services added or changed, each with its own version
  // Instead of `config`: a config the caller keeps alive for the deliver() call (the
  // caller's apply(ClientConfig), which must not copy a big config just to hand it over).
  const v1::ClientConfig* lent = nullptr;
  std::vector<ServiceRemoval> removals;

  // What the update carries: the lent config, or its own.
  const v1::ClientConfig& content() const { return lent != nullptr ? *lent : config; }
};

// The client's answer: what a sync source ACKs and NACKs.
struct UpdateResult {
  // OK, or why the whole update was rejected (all_or_nothing, or a stale global version).
  absl::Status status;
  // Per service rejected on its own (not all_or_nothing): name and why, with field paths
  // relative to the service ("endpoints[2].weight: ...", "version: ...").
  std::vector<std::pair<std::string, absl::Status>> rejected;
};

// ConfigSink: where a source delivers. Implemented by the client.
// Thread-safety: deliver() may be called from any thread, concurrently with the request
// path and with other deliveries; they are applied one at a time, in no promised order:
// versions are what keep an older update from replacing a newer one.
class ConfigSink {
 public:
  virtual ~ConfigSink() = default;
  // Validates `update` (outside the client's config mutex), applies what passes under it,
  // publishes the new snapshots, and delivers the resulting events on the calling thread
  // after the mutex is released. Never called from pick or report.
  virtual UpdateResult deliver(const ConfigUpdate& update) = 0;
};

// ConfigSource: a producer of updates.
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // start() begins delivering to `sink`, which outlives the source. A first delivery may
  // happen on the calling thread before start() returns; later ones come from the
  // source's own thread. Returns an error when the source cannot start at all.
  virtual absl::Status start(ConfigSink& sink) = 0;
};

}  // namespace ufc::internal

#endif  // UFC_SOURCE_CONFIG_SOURCE_H_
