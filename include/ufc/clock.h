// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/clock.h: the time source every UFC decision reads.
//
// Nothing inside UFC calls a system clock directly: windows, ban expiry, deadlines and
// the P2C idle reset all read a `ufc::Clock` passed in through `ClientOptions`, so tests
// drive them on simulated time. The request path does not even call the clock: it reads a
// cached copy that the client's background task refreshes every `ClientOptions::clock_tick`
// (1 ms by default), because one `steady_clock::now()` costs about as much as a whole pick.

#ifndef UFC_CLOCK_H_
#define UFC_CLOCK_H_

#include <memory>

#include "absl/time/time.h"

namespace ufc {

// Clock: two readings of time.
//
// `now()` is monotonic: it never goes backwards and is unrelated to the calendar (its
// epoch is arbitrary). Every interval, expiry and deadline uses it. `wall_now()` is the
// calendar time, which may jump; UFC only uses it for display (the `mtime` of `query`).
//
// Thread-safety: implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time. Never decreases between two calls on the same Clock.
  virtual absl::Time now() = 0;

  // Calendar time, for display only.
  virtual absl::Time wall_now() = 0;

  // The process's real clocks: `std::chrono::steady_clock` and `system_clock`.
  static std::shared_ptr<Clock> system();
};

}  // namespace ufc

#endif  // UFC_CLOCK_H_
