// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/lease_keeper.h: keeps EtcdStore's client-registry lease alive, as a state
// machine on the store's CqLoop.
//
// One LeaseKeepAlive stream to one member: a request every TTL/3 (at least 200 ms apart),
// each answered within the call timeout or the stream is dropped and another member tried
// (jittered backoff, 100 ms doubling to 2 s). etcd answers TTL 0 for a lease it no longer
// has (it expired while we could not reach etcd, or someone revoked it): then `repair` runs
// (the store grants a new lease and puts every key again), retried with backoff until it
// succeeds. The same retry writes what a publish could not (resync_later), so a change
// made while etcd was down reaches it without waiting for the next publish.

#ifndef UFC_METAD_STORE_ETCD_LEASE_KEEPER_H_
#define UFC_METAD_STORE_ETCD_LEASE_KEEPER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "metad/store/etcd/backoff.h"
#include "metad/store/etcd/bidi_stream.h"
#include "metad/store/etcd/cq_loop.h"
#include "metad/store/etcd/etcd_cluster.h"
#include "metad/store/etcd/rpc.grpc.pb.h"

namespace ufc::metad {

// LeaseKeeper. Cost: one stream while a lease exists, one small message each way per TTL/3.
// Thread-safety: loop thread only. `current` must be thread-safe (the store's lock);
// `repair` blocks the loop while it runs (bounded by the call timeout per etcd call).
class LeaseKeeper {
 public:
  // The lease to keep alive; id 0: none (the keeper idles).
  using Current = std::function<int64_t()>;
  // The lease `lost_id` is gone: replace it (OK also when someone already did), and write
  // what is pending. lost_id 0: nothing was lost, only write what is pending.
  using Repair = std::function<absl::Status(int64_t lost_id)>;

  LeaseKeeper(CqLoop& loop, EtcdCluster& cluster, Current current, Repair repair);

  // There is a lease now (or a new one): keep it alive from now on.
  void kick();
  // A publish failed for want of etcd: repair(0) after a backoff, until it succeeds.
  void resync_later();
  // Cancels the stream and timers.
  void stop();

 private:
  using Stream =
      BidiStream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>;

  void connect();
  void send();
  void on_response(const etcdserverpb::LeaseKeepAliveResponse& response);
  void on_closed();
  void end_stream();
  void lost(int64_t id);

  CqLoop& loop_;
  EtcdCluster& cluster_;
  Current current_;
  Repair repair_;

  std::unique_ptr<Stream> stream_;
  size_t member_ = 0;
  std::deque<int64_t> in_flight_;  // lease ids asked about, in order, not yet answered
  LoopTimer tick_timer_;           // the next keepalive
  LoopTimer answer_timer_;         // the oldest request's answer is due
  LoopTimer retry_timer_;          // reconnect
  LoopTimer repair_timer_;         // repair again
  Backoff backoff_{absl::Milliseconds(100), absl::Seconds(2)};
  Backoff repair_backoff_{absl::Milliseconds(200), absl::Seconds(2)};
  absl::BitGen random_;
  bool stopped_ = false;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_LEASE_KEEPER_H_
