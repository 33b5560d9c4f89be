// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/service_watch.h: the etcd Watch behind EtcdStore::watch(), as a state
// machine on the store's CqLoop.
//
// One Watch stream on the services prefix, from the revision after the last one delivered.
// Each WatchResponse with events becomes one StoreWatcher::on_events call. What it
// guarantees, whatever etcd answers:
//
//  * revisions strictly increase across calls and never repeat: an event at or below the
//    last delivered revision is not delivered (the watch starts over from a load() instead);
//  * the revision passed with a batch is its last event's, the revision of the last service
//    write, never the response header's: that one counts every write to etcd (the client
//    registry's too), and in etcd 3.4 and 3.5 a catch-up response of 1000 revisions
//    (mvcc/watcher_group.go, watchBatchMaxRevs) carries the *current* revision with more
//    responses still to come;
//  * the stream broke (a member died, no answer to the create request within the call
//    timeout, a malformed answer): on_availability(false) once, then reconnect with jittered
//    backoff (100 ms doubling to 2 s) to the next member, from the same revision;
//    on_availability(true) once the new watch is created;
//  * etcd compacted the revision we resume from: load(), on_reset(snapshot), and watch on
//    from the revision the load read at + 1;
//  * a member of another cluster (a restored backup or a new cluster at the same address,
//    whose revisions start again): nothing is delivered; it counts as unavailable and is
//    retried (see EtcdCluster::check_cluster).
//
// Progress notifications are not asked for: a watcher that was idle while etcd compacted
// resumes with a reset, which is always right, rather than from a progress revision, which
// etcd has sent ahead of events in some versions (etcd issues 15220 and 20221).

#ifndef UFC_METAD_STORE_ETCD_SERVICE_WATCH_H_
#define UFC_METAD_STORE_ETCD_SERVICE_WATCH_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "metad/store/etcd/backoff.h"
#include "metad/store/etcd/bidi_stream.h"
#include "metad/store/etcd/cq_loop.h"
#include "metad/store/etcd/etcd_cluster.h"
#include "metad/store/etcd/rpc.grpc.pb.h"
#include "metad/store/store.h"

namespace ufc::metad {

// What a reset loads: the snapshot, and the etcd revision it was read at (at or above the
// snapshot's revision; the watch resumes after it).
struct LoadedServices {
  StoreSnapshot snapshot;
  uint64_t read_revision = 0;
};

// ServiceWatch. Cost: one stream; one allocation per response plus the delivered events.
// Thread-safety: loop thread only (construct anywhere, then start() on the loop). The
// watcher's callbacks run on the loop thread; `load` is called there too and blocks it (up
// to the call timeout).
class ServiceWatch {
 public:
  using Loader = std::function<absl::StatusOr<LoadedServices>()>;

  // `services_prefix`: the key prefix whose keys are services (the rest of the key is the
  // name). Delivers every change after `after_revision`; `known_quiet_until` (at or above
  // it, or 0) is where a load showed nothing changed since: the stream starts after it, so
  // history compacted in between does not force a reset.
  ServiceWatch(CqLoop& loop, EtcdCluster& cluster, std::string services_prefix, Loader load,
               uint64_t after_revision, uint64_t known_quiet_until, StoreWatcher watcher);

  void start();
  // Cancels the stream and timers; no callback after it returns.
  void stop();

 private:
  using Stream = BidiStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

  void connect();
  void on_response(const etcdserverpb::WatchResponse& response);
  void on_closed(const grpc::Status& status);
  // Ends the current stream; `why` is reported as the failure unless `restart_now`.
  void end_stream(std::string why, bool restart_now);
  void failed(const std::string& why);
  bool reset();
  void deliver(const etcdserverpb::WatchResponse& response);
  void set_available(bool available);

  CqLoop& loop_;
  EtcdCluster& cluster_;
  const std::string prefix_;
  const std::string range_end_;
  Loader load_;
  StoreWatcher watcher_;

  std::unique_ptr<Stream> stream_;
  size_t member_ = 0;
  bool created_ = false;      // the current stream's watch exists
  bool restart_now_ = false;  // the current stream ends on purpose (a reset follows)
  std::string failure_;       // why the current stream ends, if it failed
  std::string last_failure_;  // why the last stream failed, with its member
  LoopTimer create_timer_;    // the create request's answer is due
  LoopTimer retry_timer_;
  Backoff backoff_{absl::Milliseconds(100), absl::Seconds(2)};
  absl::BitGen random_;

  uint64_t delivered_;         // the last revision delivered (or the start, or a reset's)
  uint64_t resume_after_ = 0;  // a reset read everything up to here: resume after it
  bool need_reset_ = false;
  bool available_ = true;
  bool stopped_ = false;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_SERVICE_WATCH_H_
