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

// MonotonicTime: an instant on a Clock's monotonic axis (a Clock::now() reading), as a type
// of its own. Deadlines live on this axis, so a calendar time — absl::Now(),
// Clock::wall_now() — must not be taken for one: `absl::Now() - absl::Seconds(1)` as a
// deadline would mean "decades from now" on a clock counting from boot. Get one from
// Clock::monotonic_now() (or by adding durations to one); from_reading() wraps a
// Clock::now() value explicitly. A plain value: two words, free to copy.
class MonotonicTime {
 public:
  // The axis' origin.
  constexpr MonotonicTime() = default;
  // `clock_now_reading` must come from Clock::now() of the clock this time is used with.
  static constexpr MonotonicTime from_reading(absl::Time clock_now_reading) {
    return MonotonicTime(clock_now_reading);
  }
  static constexpr MonotonicTime infinite_future() { return MonotonicTime(absl::InfiniteFuture()); }
  static constexpr MonotonicTime infinite_past() { return MonotonicTime(absl::InfinitePast()); }

  // The underlying Clock::now() reading.
  constexpr absl::Time reading() const { return t_; }

  MonotonicTime& operator+=(absl::Duration d) { return *this = MonotonicTime(t_ + d); }
  MonotonicTime& operator-=(absl::Duration d) { return *this = MonotonicTime(t_ - d); }
  friend MonotonicTime operator+(MonotonicTime t, absl::Duration d) { return t += d; }
  friend MonotonicTime operator-(MonotonicTime t, absl::Duration d) { return t -= d; }
  friend absl::Duration operator-(MonotonicTime a, MonotonicTime b) { return a.t_ - b.t_; }
  friend bool operator==(MonotonicTime a, MonotonicTime b) { return a.t_ == b.t_; }
  friend bool operator!=(MonotonicTime a, MonotonicTime b) { return a.t_ != b.t_; }
  friend bool operator<(MonotonicTime a, MonotonicTime b) { return a.t_ < b.t_; }
  friend bool operator<=(MonotonicTime a, MonotonicTime b) { return a.t_ <= b.t_; }
  friend bool operator>(MonotonicTime a, MonotonicTime b) { return a.t_ > b.t_; }
  friend bool operator>=(MonotonicTime a, MonotonicTime b) { return a.t_ >= b.t_; }

 private:
  explicit constexpr MonotonicTime(absl::Time t) : t_(t) {}
  absl::Time t_ = absl::UnixEpoch();
};

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
  // now(), typed as an instant on the monotonic axis (what deadlines take).
  MonotonicTime monotonic_now() { return MonotonicTime::from_reading(now()); }

  // Calendar time, for display only.
  virtual absl::Time wall_now() = 0;

  // The process's real clocks: `std::chrono::steady_clock` and `system_clock`.
  static std::shared_ptr<Clock> system();
};

}  // namespace ufc

#endif  // UFC_CLOCK_H_
