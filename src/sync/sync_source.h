// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/sync/sync_source.h: the control-server stream as a config source (ufc/sync.h says
// what it does for the user).
//
// One thread, one gRPC stream at a time (a completion queue polled every 50 ms): hello
// with what the client has, responses applied through ConfigSink::deliver and ACKed or
// NACKed from the UpdateResult, subscriptions added mid-stream, failover and backoff
// (ServerRotation), the on-disk cache (sync_cache.h). The interface has no gRPC in it:
// built without gRPC, create() says UNIMPLEMENTED.
//
// The check the source makes before the client's own version checks: a response whose
// global version is below the client's is rejected whole (NACKed with the reason) and the
// client moves to another server. This is what keeps an empty or foreign store from
// draining a client: a new metad, a fresh etcd, a restored backup are all behind the
// client's global version (store revisions never go backwards), so their "everything you
// have is gone" is not followed. Removals from a store at or ahead of the client are
// deletions that store made, and apply (ApplyOptions' removal limits are for complete
// updates: files and apply(ClientConfig)).

#ifndef UFC_SYNC_SYNC_SOURCE_H_
#define UFC_SYNC_SYNC_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "src/source/config_source.h"
#include "src/stats/client_stats.h"
#include "ufc/event.h"
#include "ufc/sync.h"

namespace ufc::internal {

class SyncSource : public ConfigSource {
 public:
  struct Options {
    SyncOptions sync;
    std::string self_service;
    std::string self_idc;
    EventCallback on_event;  // sync and cache events (config events come from deliver)
  };
  // INVALID_ARGUMENT naming the bad field of `options.sync`; UNIMPLEMENTED when the
  // library was built without gRPC.
  static absl::StatusOr<std::unique_ptr<SyncSource>> create(Options options);

  // start() loads the cache (delivering it on the calling thread) and starts the thread.
  // Never fails for an unreachable server; INVALID_ARGUMENT only for a bad cache_dir.

  // The client was asked for `service`, which it does not have: subscribe to it. Cheap
  // and non-blocking (a mutex and a set lookup); ignored with all_services.
  virtual void want(absl::string_view service) = 0;
  // The client dropped `service` (remove()): unsubscribe from it and forget it (the cache
  // no longer holds it), so that it is not installed again until wanted again. Cheap and
  // non-blocking. With all_services the server keeps sending it: it is forgotten until
  // its next change.
  virtual void unwant(absl::string_view service) = 0;
  // {"sync":{...}}: server, connected, versions, counts, last error (query("sync")).
  virtual std::string status_json() const = 0;
  // The figures metrics show.
  virtual SyncStats stats() const = 0;
  // Stops the thread (a last cache write first). Idempotent; the destructor calls it.
  virtual void stop() = 0;
};

}  // namespace ufc::internal

#endif  // UFC_SYNC_SYNC_SOURCE_H_
