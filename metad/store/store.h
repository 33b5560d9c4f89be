// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/store.h: where ufc-metad keeps the services, behind one small interface.
//
// Two implementations: LocalStore (a directory; the embedded default) and EtcdStore (etcd
// v3 over its gRPC API; several ufc-metad instances share one cluster). The store is the
// only source of versions: its revision is the global version, and a service's version is
// the revision at which it last changed (etcd's mod_revision). Both are monotonic across
// restarts of any server.
//
// Values are opaque bytes to the store (metad keeps a serialized ufc.v1.ServiceConfig
// without its version field: the version is the mod revision, never part of the value).

#ifndef UFC_METAD_STORE_STORE_H_
#define UFC_METAD_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ufc::metad {

struct StoredService {
  std::string name;
  std::string value;
  uint64_t mod_revision = 0;  // the revision of its last write
};

// Everything at one revision.
struct StoreSnapshot {
  uint64_t revision = 0;
  std::vector<StoredService> services;
};

// One change: a put (value, mod_revision) or a delete (revision: the delete's).
struct StoreEvent {
  std::string name;
  bool deleted = false;
  std::string value;
  uint64_t revision = 0;
};

// What watch() delivers, on the store's own thread (or, for LocalStore, on the writer's
// thread before put/remove return), strictly in revision order and never twice.
struct StoreWatcher {
  // Changes after the last revision delivered, ending at `revision` (every event's
  // revision is <= `revision`; several events may share one revision).
  std::function<void(const std::vector<StoreEvent>& events, uint64_t revision)> on_events;
  // The store lost track (etcd compacted past the watcher, or the watch was re-created
  // after an outage and history is gone): here is everything, replace what you hold.
  std::function<void(const StoreSnapshot& snapshot)> on_reset;
  // The store became unreachable (false) or reachable again (true). Optional.
  std::function<void(bool available)> on_availability;
};

// Store. Thread-safety: every method may be called from any thread concurrently.
// Errors: UNAVAILABLE when the backing store cannot be reached (nothing was written),
// FAILED_PRECONDITION when an expected revision does not match, NOT_FOUND for a missing
// name, DATA_LOSS / INTERNAL for a store that cannot be read back.
class Store {
 public:
  virtual ~Store() = default;

  // Everything, at one consistent revision.
  virtual absl::StatusOr<StoreSnapshot> load() = 0;

  // Writes `value` under `name` and returns the new revision (the service's new version).
  // `expected`: nullopt writes unconditionally; 0 only if `name` does not exist; otherwise
  // only if its mod revision equals it. Durable before it returns.
  virtual absl::StatusOr<uint64_t> put(absl::string_view name, absl::string_view value,
                                       std::optional<uint64_t> expected) = 0;
  // Deletes `name` (same `expected` rule) and returns the revision of the delete.
  virtual absl::StatusOr<uint64_t> remove(absl::string_view name,
                                          std::optional<uint64_t> expected) = 0;

  // Starts delivering every change after `after_revision` (this server's writes and every
  // other server's) to `watcher` until stop(). Called once.
  virtual absl::Status watch(uint64_t after_revision, StoreWatcher watcher) = 0;

  // The registry of connected clients. A store that shares it (etcd) keeps each server's
  // entries under a lease, so every server lists the whole fleet and a dead server's
  // clients vanish with its lease; a local store does not (shares_clients() false: the
  // server lists only its own).
  virtual bool shares_clients() const { return false; }
  // This server's clients changed: `upserts` (client id, serialized ufc.v1.ClientStatus)
  // and `removed` client ids. Batched by the caller (about once a second).
  virtual absl::Status publish_clients(
      absl::string_view server_id, const std::vector<std::pair<std::string, std::string>>& upserts,
      const std::vector<std::string>& removed) {
    return absl::OkStatus();
  }
  // Every server's published clients (serialized ufc.v1.ClientStatus).
  virtual absl::StatusOr<std::vector<std::string>> list_clients() {
    return absl::UnimplementedError("this store does not share clients");
  }

  // Stops the watch and any background thread; no callback runs after it returns.
  virtual void stop() {}
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_STORE_H_
