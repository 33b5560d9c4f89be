// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The relative-budget wire format of ufc/deadline.h.

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/common/strings.h"
#include "ufc/deadline.h"

namespace ufc {

std::string encode_timeout(const Deadline& deadline, Clock& clock) {
  if (deadline.is_none()) return "";
  // Capped at what decode_timeout() accepts: a deadline decades away (or one whose
  // arithmetic saturated) must not become a header every receiver rejects.
  return absl::StrCat(
      absl::ToInt64Milliseconds(std::min(deadline.remaining(clock), kMaxWireBudget)));
}

absl::StatusOr<Deadline> decode_timeout(std::string_view value, MonotonicTime arrival) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        internal::av(kTimeoutHeader), ": \"", absl::CHexEscape(internal::av(value.substr(0, 32))),
        "\" ", internal::av(why)));
  };
  if (value.empty()) return bad("is empty");
  if (value.size() > 9) return bad("is too long (at most 9 digits)");
  int64_t ms = 0;
  for (char c : value) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return bad("is not a whole number of milliseconds");
    }
    ms = ms * 10 + (c - '0');
  }
  if (absl::Milliseconds(ms) > kMaxWireBudget) return bad("is more than a day");
  // "0" is spent whatever clock reads it: at `arrival` itself, a reader whose cached clock
  // lags the arrival reading by a tick would still see a millisecond left.
  if (ms == 0 && arrival != MonotonicTime::infinite_future()) {
    return Deadline::at(MonotonicTime::infinite_past());
  }
  // absl::Time arithmetic saturates: an arrival at either infinity stays there (a deadline
  // at InfinitePast() is spent; at InfiniteFuture() it is none).
  return Deadline::at(arrival + absl::Milliseconds(ms));
}

}  // namespace ufc
