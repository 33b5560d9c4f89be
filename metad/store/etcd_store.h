// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd_store.h: the Store that keeps ufc-metad's services in etcd (v3 API over
// gRPC), so that several ufc-metad servers share one set of services and one client
// registry.
//
// Keys, under a prefix (default "/ufc/"):
//
//   <prefix>services/<name>                 the service's value; its etcd mod_revision is
//                                           the service's version
//   <prefix>meta/services_revision          rewritten by every put and remove: its
//                                           mod_revision, the revision of the last service
//                                           write, is the global version
//   <prefix>clients/<server_id>/<client_id> a client of server <server_id>, attached to that
//                                           server's lease: it vanishes when the server
//                                           stops keeping the lease alive
//
// Writes are etcd transactions: put and remove compare the key's mod_revision (or its
// absence, for expected == 0) and apply in one round trip; the client registry goes in
// transactions of at most 128 operations (etcd's default --max-txn-ops) and 1 MiB.
//
// Why a revision key rather than etcd's own revision as the global version: etcd counts
// every write, the client registry's lease puts too, so two servers that loaded the same
// services a second apart would report different global versions, and a client moving
// from the later one to the earlier one would refuse it as rolled back. The last service
// write's revision is the same everywhere, moves only when a service does, and is still an
// etcd revision (monotonic, and what put() and the watch return).
//
// One background thread (a gRPC completion queue) runs the watch stream and the lease
// keepalive stream; every other call runs on the caller's thread. Members are tried in turn
// (see metad/store/etcd/etcd_cluster.h for what is retried where).
//
//   auto store = EtcdStore::create({.endpoints = {"10.0.0.1:2379", "10.0.0.2:2379"},
//                                   .server_id = "metad-1"});
//   absl::StatusOr<uint64_t> version = (*store)->put("echo", bytes, /*expected=*/0);

#ifndef UFC_METAD_STORE_ETCD_STORE_H_
#define UFC_METAD_STORE_ETCD_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "metad/store/etcd/etcd_security.h"
#include "metad/store/store.h"

namespace ufc::metad {

// EtcdStore. Cost: load() is one read-only Txn, list_clients() one Range, put() and remove()
// one Txn, publish_clients() one Txn per 128 changed clients (plus a LeaseGrant the first
// time); each blocks the caller for one etcd round trip (a raft commit for writes), up to
// `call_timeout` when members are down. Memory: the published clients of this server are
// kept, to put them again under a new lease. Thread-safety: every method may be called from
// any thread concurrently; watcher callbacks run on the store's thread, one at a time, and
// must not destroy the store (stop() from a callback is fine).
//
// Errors, besides the Store contract's: INVALID_ARGUMENT for an empty name or client id, or a
// server id other than Options::server_id; DEADLINE_EXCEEDED when a connected member did not
// answer a write in time, so it may or may not have been applied (the watch tells);
// DATA_LOSS when a member belongs to another cluster than the first one that answered, or an
// answer breaks etcd's own rules (a key outside the range asked for, a revision from the
// future); FAILED_PRECONDITION for a second watch() or a call after stop().
class EtcdStore final : public Store {
 public:
  struct Options {
    // etcd members, "host:port", "http://host:port" or "https://host:port"; at least one.
    std::vector<std::string> endpoints;
    // TLS (every member, when a CA or a client certificate is given) and etcd's own
    // authentication (a user and its password): see EtcdSecurity.
    EtcdSecurity security;
    // Every key lives under it. Two fleets sharing one etcd use different prefixes.
    std::string key_prefix = "/ufc/";
    // How long one call (with its retries across members) may take.
    absl::Duration call_timeout = absl::Seconds(2);
    // The client registry lease's time to live, in whole seconds (rounded up; etcd raises it
    // to its minimum, 2 s by default). A crashed server's clients vanish after about this.
    absl::Duration lease_ttl = absl::Seconds(10);
    // This server's name in the client registry (no '/'). Required.
    std::string server_id;
    // stop() revokes the lease, so this server's clients vanish at once. False leaves them to
    // expire after the TTL, as a crash would (tests; a handover to a restarting server).
    bool revoke_lease_on_stop = true;
  };

  // Validates `options` (INVALID_ARGUMENT naming the field) and prepares the connections;
  // does not contact etcd, which need not be up yet.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> create(Options options);

  ~EtcdStore() override;  // stop()

  // One linearizable read-only Txn of two Ranges (the services, the revision key): revision
  // is the revision of the last service write (the revision key's, or the newest service's
  // if that is newer: a write behind the store's back), each mod_revision the service's.
  absl::StatusOr<StoreSnapshot> load() override;

  // A Txn comparing the key's mod_revision to `expected` (create_revision == 0 for 0), then
  // putting it and the revision key. FAILED_PRECONDITION when it differs, saying what the
  // current version is.
  absl::StatusOr<uint64_t> put(absl::string_view name, absl::string_view value,
                               std::optional<uint64_t> expected) override;
  // The same Txn with a delete. NOT_FOUND when there is nothing to delete (also for
  // expected == 0, which only an absent service matches).
  absl::StatusOr<uint64_t> remove(absl::string_view name,
                                  std::optional<uint64_t> expected) override;

  // Watches <prefix>services/ from after_revision + 1 on the store's thread (from after the
  // revision the last load() read at, when after_revision is that load's snapshot revision:
  // nothing changed in between, and etcd may have compacted it), as described in
  // metad/store/etcd/service_watch.h: across member failures (on_availability false, then
  // true once watching again, resuming where it stopped) and compactions (on_reset with a
  // fresh load()). Returns at once; INVALID_ARGUMENT without on_events or on_reset.
  absl::Status watch(uint64_t after_revision, StoreWatcher watcher) override;

  bool shares_clients() const override { return true; }
  // Applies the change to this server's published set (an id in both lists is removed) and
  // writes what etcd does not have yet. When etcd cannot be reached (UNAVAILABLE), the
  // store's thread keeps trying in the background; what fails otherwise is tried again by
  // the next call. The lease is granted on the first call and kept alive until stop(); when
  // etcd lost it (an outage longer than the TTL), a new one is granted and every client put
  // again.
  absl::Status publish_clients(absl::string_view server_id,
                               const std::vector<std::pair<std::string, std::string>>& upserts,
                               const std::vector<std::string>& removed) override;
  // One Range over <prefix>clients/: every live server's clients, in key order.
  absl::StatusOr<std::vector<std::string>> list_clients() override;

  // Stops the watch and the lease keepalive and joins the store's thread (no callback runs
  // after it returns), then revokes the lease (Options::revoke_lease_on_stop; best effort,
  // up to call_timeout). load() and put() keep working; watch() and publish_clients() fail.
  void stop() override;

 private:
  struct Impl;
  explicit EtcdStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_STORE_H_
