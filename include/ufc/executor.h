// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/executor.h: where UFC's background work runs: the cached-clock refresh, memory
// reclamation, the ban manager's suspect drain and housekeeping (business-signal
// intervals, ban expiry into probes, long bans) and the fuse manager's control tick.
//
// A Client owns one background thread by default. Tests inject a manual executor that
// runs due tasks when simulated time is advanced, so every timer-driven decision is
// deterministic (see tests/testing/manual_executor.h).

#ifndef UFC_EXECUTOR_H_
#define UFC_EXECUTOR_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace ufc {

// Executor: runs delayed and periodic tasks off the request path.
//
// Thread-safety: every method may be called from any thread, including from inside a
// running task.
class Executor {
 public:
  using TaskId = uint64_t;

  virtual ~Executor() = default;

  // run_every() runs `task` every `period` (> 0), the first time one period from now,
  // until cancelled. A run that overruns its period delays the next one; runs never
  // overlap.
  virtual TaskId run_every(absl::Duration period, absl::AnyInvocable<void()> task) = 0;

  // run_after() runs `task` once, `delay` (>= 0) from now.
  virtual TaskId run_after(absl::Duration delay, absl::AnyInvocable<void()> task) = 0;

  // cancel() stops a task. When it returns the task is not running and will not run
  // again, unless cancel() was called from inside that very task (which then finishes
  // its current run). Unknown or finished ids are ignored.
  virtual void cancel(TaskId id) = 0;
};

}  // namespace ufc

#endif  // UFC_EXECUTOR_H_
