// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/deadline.h: the point in time after which nobody waits for a request's answer, and
// how it travels between hosts.
//
// A request's budget is fixed at the edge (say 300 ms). Every hop works against the same
// budget: once it is spent, any further downstream call is waste that feeds an avalanche.
// Clocks differ between machines, so the budget crosses the wire as a *relative* remaining
// time (`x-ufc-timeout-ms: 183`) and becomes an *absolute* local deadline the moment the
// request arrives, so time spent queueing on the receiver counts against it.
//
//   // Receiver, at accept/read time:
//   ufc::MonotonicTime arrival = clock.monotonic_now();
//   absl::StatusOr<ufc::Deadline> d = ufc::decode_timeout(header_value, arrival);
//   // Caller of the next hop:
//   client->pick({.service = "c", .deadline = *d});     // DEADLINE_EXCEEDED once spent
//   request.headers[ufc::kTimeoutHeader] = ufc::encode_timeout(*d, clock);

#ifndef UFC_DEADLINE_H_
#define UFC_DEADLINE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ufc/clock.h"

namespace ufc {

// Deadline: an absolute instant on a monotonic `Clock` (see ufc/clock.h), or "none".
// Arithmetic saturates, never overflows: an instant at or beyond
// MonotonicTime::infinite_past() (e.g. `after(-absl::InfiniteDuration())`) is a deadline
// already passed, whatever its magnitude, and is refused by pick(); one at
// infinite_future() is none.
// Never a calendar time, so it survives wall-clock jumps: every instant it takes or gives
// is a MonotonicTime, so that absl::Now() cannot be passed by mistake. A plain value; copy
// it freely. The Clock used to read it must be the one it was made with (Clock::system()
// unless you inject one everywhere). For gRPC calls, see ufc/grpc.h.
class Deadline {
 public:
  // No deadline: the request may wait forever.
  constexpr Deadline() = default;
  static constexpr Deadline none() { return Deadline(); }
  // The request must be done by `instant` (e.g. clock.monotonic_now() + budget).
  static Deadline at(MonotonicTime instant) { return Deadline(instant); }
  // The request must be done `budget` from now.
  static Deadline after(absl::Duration budget, Clock& clock = *Clock::system()) {
    return Deadline(clock.monotonic_now() + budget);
  }

  bool is_none() const { return instant_ == MonotonicTime::infinite_future(); }
  // The instant; MonotonicTime::infinite_future() for none.
  MonotonicTime instant() const { return instant_; }

  // Time left, never negative; absl::InfiniteDuration() for none.
  absl::Duration remaining(Clock& clock = *Clock::system()) const {
    return remaining_at(clock.monotonic_now());
  }
  absl::Duration remaining_at(MonotonicTime now) const {
    if (is_none()) return absl::InfiniteDuration();
    return instant_ > now ? instant_ - now : absl::ZeroDuration();
  }
  bool expired(Clock& clock = *Clock::system()) const { return expired_at(clock.monotonic_now()); }
  bool expired_at(MonotonicTime now) const { return !is_none() && instant_ <= now; }

  // The earlier of two deadlines (none is later than anything).
  Deadline earliest(Deadline other) const { return instant_ <= other.instant_ ? *this : other; }

  friend bool operator==(Deadline a, Deadline b) { return a.instant_ == b.instant_; }
  friend bool operator!=(Deadline a, Deadline b) { return a.instant_ != b.instant_; }

 private:
  explicit Deadline(MonotonicTime instant) : instant_(instant) {}
  MonotonicTime instant_ = MonotonicTime::infinite_future();
};

// The HTTP header and gRPC metadata key that carries the remaining budget, in whole
// milliseconds, e.g. "x-ufc-timeout-ms: 183".
inline constexpr std::string_view kTimeoutHeader = "x-ufc-timeout-ms";
// The largest budget accepted from the wire: one day.
inline constexpr absl::Duration kMaxWireBudget = absl::Hours(24);

// encode_timeout() is the header value for `deadline` as of now: the remaining budget in
// milliseconds, rounded down, "0" once expired (or with less than 1 ms left, which the
// receiver's decode_timeout takes as spent); "" for none (send no header then). A
// budget over kMaxWireBudget is sent as kMaxWireBudget, so that whatever is encoded
// decodes again.
std::string encode_timeout(const Deadline& deadline, Clock& clock = *Clock::system());

// decode_timeout() turns a received header value into a local deadline counted from
// `arrival`, the time the request arrived (clock.monotonic_now() at accept or read time,
// not when a worker gets to it, so queueing counts). "0" is a deadline already passed.
// INVALID_ARGUMENT for anything but 1-9 decimal digits (no sign, no spaces) and for
// budgets over kMaxWireBudget: a peer's absurd value is never trusted. An `arrival` at
// MonotonicTime::infinite_past() gives a deadline already passed; at infinite_future(),
// none.
absl::StatusOr<Deadline> decode_timeout(std::string_view value, MonotonicTime arrival);

}  // namespace ufc

#endif  // UFC_DEADLINE_H_
