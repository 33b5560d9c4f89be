// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/writer_pool.h: the threads the admin writes run on.
//
// A Put (of a service or of the IDC map) or a Delete waits for the store: an fsync of the local
// store (milliseconds), an etcd round trip (more when etcd is slow or away). Run on one of gRPC's
// callback threads, that wait would hold a thread the Watch streams need, so a burst of writes
// would delay every push. The admin handlers post the write here instead and finish their reactor
// from the pool.
//
// Thread-safety: every method may be called from any thread, but stop() not from a job.

#ifndef UFC_METAD_WRITER_POOL_H_
#define UFC_METAD_WRITER_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace ufc::metad {

class WriterPool {
 public:
  // `threads` >= 1 workers; at most `max_queued` jobs wait for one.
  WriterPool(size_t threads, size_t max_queued);
  ~WriterPool();  // stop()

  // A job is called once: run(true) on a worker, or run(false) by stop() when it was
  // still waiting (the caller's answer is then UNAVAILABLE).
  using Job = absl::AnyInvocable<void(bool run)>;

  // Queues `job`. RESOURCE_EXHAUSTED when max_queued jobs wait already, UNAVAILABLE when
  // the pool is stopping: `job` is not called, and the caller answers at once.
  absl::Status post(Job job);

  // Refuses post() from now on, calls every job still waiting with false (a store that
  // hangs cannot hold the shutdown for the whole queue), waits for the running ones and
  // joins the workers. Idempotent.
  void stop();

 private:
  void work();

  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_WRITER_POOL_H_
