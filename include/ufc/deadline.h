// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/deadline.h: the point in time after which nobody waits for a request's answer.
//
// This is the minimal type `PickRequest` carries today. It is an absolute instant on the
// client's monotonic `Clock` (see ufc/clock.h), never a calendar time, so it survives
// wall-clock jumps. What is NOT built yet (issue "Deadlines across hops"): `pick` does not
// yet refuse expired deadlines nor cap timeouts by the remaining budget, and the wire
// helpers (relative budget in headers / gRPC metadata) do not exist yet.

#ifndef UFC_DEADLINE_H_
#define UFC_DEADLINE_H_

#include "absl/time/time.h"

namespace ufc {

// Deadline: an absolute instant on the monotonic clock, or "none". A plain value.
class Deadline {
 public:
  // No deadline: the request may wait forever.
  constexpr Deadline() = default;
  static constexpr Deadline none() { return Deadline(); }
  // The request must be done by `monotonic_instant` (a `Clock::now()` reading).
  static Deadline at(absl::Time monotonic_instant) { return Deadline(monotonic_instant); }

  bool is_none() const { return instant_ == absl::InfiniteFuture(); }
  // The instant; absl::InfiniteFuture() for none.
  absl::Time instant() const { return instant_; }

 private:
  explicit Deadline(absl::Time instant) : instant_(instant) {}
  absl::Time instant_ = absl::InfiniteFuture();
};

}  // namespace ufc

#endif  // UFC_DEADLINE_H_
