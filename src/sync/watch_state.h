// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/sync/watch_state.h: what a sync client holds from the control servers, and how one
// WatchResponse moves it.
//
// The conversation's rules without the transport: grpc_sync_source.cc drives a WatchState
// over the stream; tests/fuzz/watch_response_fuzz.cc drives one with hostile responses.
// A response is checked (a global version below the client's is refused whole: a
// different or rolled-back store), delivered to the client through its ConfigSink, and
// what the client made of it becomes the ACK: the applied global version, a NACK per
// rejected service with its error (an invalid IDC map is NACKed as "^idc_map" and the
// client keeps its last good one), or the error that rejected it all. Only what the client applied
// is remembered (name -> version, the config for the cache; the IDC map and its version), so the
// next hello asks for exactly what it lacks.
//
// Thread-safety: apply(), load_cache() and take_cache() from one thread at a time (the
// sync thread); the accessors from any thread. A mutex guards the state; the client's
// deliver() runs without it.

#ifndef UFC_SYNC_WATCH_STATE_H_
#define UFC_SYNC_WATCH_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "src/source/config_source.h"
#include "src/sync/sync_cache.h"
#include "ufc/v1/config.pb.h"
#include "ufc/v1/meta.pb.h"

namespace ufc::internal {

class WatchState {
 public:
  // The name an IDC map's NACK carries (ufc-metad keeps the map under it: no service can
  // be named so).
  static constexpr absl::string_view kIdcMapName = "^idc_map";
  // The IDC map version of a map from the cache (its version is not kept).
  static constexpr uint64_t kUnknownVersion = ~uint64_t{0};

  struct Counters {
    uint64_t responses = 0;
    uint64_t services_received = 0;
    uint64_t removals_received = 0;
    uint64_t bytes_received = 0;
    uint64_t nacks_sent = 0;  // NACKed services, and responses rejected whole
  };

  // Applies `response` through `sink` (its services are moved out) and sets `ack` to the
  // request that answers it. OK, even when the client rejected some or all of it (the ACK
  // says so); FAILED_PRECONDITION, with `ack` the NACK, when the response's global version
  // is below the client's: the stream must end after the NACK (the server is not
  // followed). Cost: the client's deliver() plus O(services in the response).
  absl::Status apply(v1::WatchResponse& response, ConfigSink& sink, v1::WatchRequest& ack);

  // Starts from a cache read at start-up: delivered all together, and on success what
  // the client accepted becomes what it has. The names loaded (the rest were rejected by
  // the client, and are asked for again), or the client's error.
  absl::StatusOr<std::vector<std::string>> load_cache(SyncCacheContent cache, ConfigSink& sink);

  // What the cache should hold now, when something changed since the last take (the
  // configs, the global version, the IDC map); nullopt when nothing did. A caller whose write
  // failed calls mark_dirty() to try again later.
  std::optional<SyncCacheContent> take_cache();
  // The client no longer has `service`: not in the next hello, not in the cache.
  void forget(const std::string& service);
  void mark_dirty();

  // The hello's `have`, `have_global` and `have_idc_map`: what the client has.
  void fill_hello(v1::WatchRequest& hello) const;

  uint64_t global() const;
  // The version of the store's IDC map the client has (0: none; kUnknownVersion: one
  // from the cache).
  uint64_t idc_map_version() const;
  size_t services() const;
  // The version the client has of `service` (0: none).
  uint64_t version(const std::string& service) const;
  Counters counters() const;
  // The last response's `unknown`: subscribed names the server does not have.
  std::vector<std::string> unknown() const;

 private:
  void apply_idc_map_locked(const v1::WatchResponse& response, ConfigSink& sink, v1::Ack& ack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> have_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::ServiceConfig> configs_ ABSL_GUARDED_BY(mu_);
  uint64_t global_ ABSL_GUARDED_BY(mu_) = 0;
  google::protobuf::Map<std::string, std::string> idc_map_ ABSL_GUARDED_BY(mu_);
  uint64_t idc_map_version_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> unknown_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ufc::internal

#endif  // UFC_SYNC_WATCH_STATE_H_
