// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/meta_service.h: ufc.v1.Meta over gRPC's callback API.
//
// Watch streams are reactors (no thread per stream): a change in the hub wakes every
// watcher from one notifier thread; each builds its own increment (Hub::build) and has at
// most one write in flight, so a slow watcher is sent one coalesced increment when it
// catches up rather than a queue. ACKs and NACKs feed the freshness view (ListClients):
// per client its applied global version, last ACK, NACKs with their errors, and `stale`
// when it has been behind for longer than `stale_after`. With a store that shares clients
// (etcd), each server publishes its clients there about once a second, so ListClients on
// any server shows the whole fleet.
//
// Security: admin RPCs (Put/Delete; Get/List/ListClients too) need `authorization: Bearer
// <admin_token>` when admin_token is set; Watch needs `watch_token` when that is set.

#ifndef UFC_METAD_META_SERVICE_H_
#define UFC_METAD_META_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metad/hub.h"
#include "metad/writer_pool.h"
#include "src/endpoint/latency_histogram.h"
#include "ufc/v1/meta.grpc.pb.h"

namespace ufc::metad {

class WatchSession;

class MetaService final : public v1::Meta::CallbackService {
 public:
  struct Options {
    std::string server_id;    // shown in ListClients; default host:pid
    std::string admin_token;  // empty: admin RPCs open (only on loopback: see main.cc)
    std::string watch_token;  // empty: Watch open
    absl::Duration stale_after = absl::Seconds(10);
    absl::Duration publish_interval = absl::Seconds(1);  // clients to a sharing store
    // Fault injection for tests (--fault_invalid_service): every response carrying this
    // service sends it with an invalid weight, as a broken server would.
    std::string fault_invalid_service;
    // Admin writes (PutService, DeleteService, PutIdcMap) run on this many threads of their
    // own, never on gRPC's
    // (metad/writer_pool.h); more than `max_queued_writes` waiting: RESOURCE_EXHAUSTED.
    size_t writer_threads = 4;
    size_t max_queued_writes = 10000;
  };
  MetaService(Hub& hub, Store& store, Options options);
  ~MetaService() override;

  // Starts the notifier thread; the hub's changes reach watchers from then on.
  void start();
  // Ends every watch stream (UNAVAILABLE), finishes the queued writes (later ones are
  // UNAVAILABLE) and stops the threads. Call before the server shuts down.
  void stop();

  grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* PutService(grpc::CallbackServerContext* context,
                                       const v1::PutServiceRequest* request,
                                       v1::PutServiceResponse* response) override;
  grpc::ServerUnaryReactor* GetService(grpc::CallbackServerContext* context,
                                       const v1::GetServiceRequest* request,
                                       v1::GetServiceResponse* response) override;
  grpc::ServerUnaryReactor* DeleteService(grpc::CallbackServerContext* context,
                                          const v1::DeleteServiceRequest* request,
                                          v1::DeleteServiceResponse* response) override;
  grpc::ServerUnaryReactor* ListServices(grpc::CallbackServerContext* context,
                                         const v1::ListServicesRequest* request,
                                         v1::ListServicesResponse* response) override;
  grpc::ServerUnaryReactor* ListClients(grpc::CallbackServerContext* context,
                                        const v1::ListClientsRequest* request,
                                        v1::ListClientsResponse* response) override;
  grpc::ServerUnaryReactor* PutIdcMap(grpc::CallbackServerContext* context,
                                      const v1::PutIdcMapRequest* request,
                                      v1::PutIdcMapResponse* response) override;
  grpc::ServerUnaryReactor* GetIdcMap(grpc::CallbackServerContext* context,
                                      const v1::GetIdcMapRequest* request,
                                      v1::IdcMap* response) override;

  // Counters (for tests and, later, /metrics).
  struct Counters {
    uint64_t watchers = 0;
    uint64_t responses = 0;      // WatchResponses written
    uint64_t services_sent = 0;  // services in them
    uint64_t removals_sent = 0;
    uint64_t nacks = 0;
    // Watch streams ended in order (the client half-closed, or the server finished) and
    // cancelled (the client vanished or cancelled, a deadline, the transport).
    uint64_t streams_closed = 0;
    uint64_t streams_cancelled = 0;
  };
  Counters counters() const;

  // Everything above, the clients' freshness, the store's write latency and every stored
  // service's tier, as Prometheus text (ufc_metad_*; docs/metrics.md). O(services +
  // clients).
  std::string metrics_text() const;

  // Every client with a stream open: this server's, and with a store that shares clients
  // every other server's as last published (ListClients). The store's error when its
  // registry cannot be read.
  absl::StatusOr<v1::ListClientsResponse> fleet_clients() const;

  const Options& options() const { return options_; }
  Hub& hub() { return hub_; }

 private:
  friend class WatchSession;
  void on_change();
  void notifier_loop();
  void kick_all(const std::vector<std::shared_ptr<WatchSession>>& sessions);
  void publish_clients();
  void add(std::shared_ptr<WatchSession> session);
  void drop(const std::shared_ptr<WatchSession>& session);
  v1::ListClientsResponse local_clients() const;

  Hub& hub_;
  Store& store_;
  const Options options_;
  WriterPool writers_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::shared_ptr<WatchSession>> sessions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> published_ ABSL_GUARDED_BY(mu_);
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  struct AtomicCounters {
    std::atomic<uint64_t> responses{0}, services_sent{0}, removals_sent{0}, nacks{0};
    std::atomic<uint64_t> streams_closed{0}, streams_cancelled{0};
  } counters_;
  // Put/Delete latency (validation and the store's write), by operation: fixed buckets.
  struct Latency {
    std::atomic<uint64_t> buckets[internal::kLatencyBuckets] = {};
    std::atomic<uint64_t> sum_us{0};
    std::atomic<uint64_t> errors{0};
    void add(absl::Duration d, bool ok);
  };
  Latency put_latency_, delete_latency_;
  std::thread notifier_;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_META_SERVICE_H_
