// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// deadline_fuzz: the x-ufc-timeout-ms codec and the Deadline helpers, at any instant
// (including both infinities and instants beyond int64 nanoseconds), and pick() honouring
// such a deadline.
//
// Input: one byte choosing the kinds of two instants, two int64s, then the header value.
// Invariants, each against a reference computed in absl::Time (which saturates) rather
// than in the int64 arithmetic under test:
//   * decode_timeout accepts exactly 1-9 digits worth at most a day, counted from arrival
//     ("0": spent, at infinite_past);
//   * encode_timeout of what was decoded gives the canonical number back, and whatever is
//     encoded decodes, to an instant no later than the deadline (and at most 1 ms earlier
//     when the budget fits on the wire; under 1 ms it is "0", spent);
//   * expired/remaining/earliest agree with plain comparisons; none is infinite_future;
//   * pick() refuses exactly the deadlines at or before now + margin, and caps the read
//     timeout by what is left.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "src/common/strings.h"
#include "tests/fuzz/fuzz_support.h"
#include "ufc/deadline.h"

namespace ufc::fuzz {
namespace {

int64_t take_int64(std::string_view& data) {
  int64_t v = 0;
  const size_t n = std::min(data.size(), sizeof(v));
  std::memcpy(&v, data.data(), n);
  data.remove_prefix(n);
  return v;
}

// An instant of one of four kinds: nanoseconds (int64), seconds (far beyond int64
// nanoseconds), or either infinity.
MonotonicTime instant(int kind, int64_t v) {
  switch (kind & 3) {
    case 0:
      return MonotonicTime() + absl::Nanoseconds(v);
    case 1:
      return MonotonicTime() + absl::Seconds(v);
    case 2:
      return MonotonicTime::infinite_past();
    default:
      return MonotonicTime::infinite_future();
  }
}

std::string show(MonotonicTime t) { return absl::FormatDuration(t - MonotonicTime()); }

void check_codec(std::string_view value, MonotonicTime arrival, bool arrival_is_ns) {
  bool digits = !value.empty() && value.size() <= 9;
  int64_t ms = 0;
  for (char c : value) {
    digits = digits && c >= '0' && c <= '9';
    if (digits) ms = ms * 10 + (c - '0');
  }
  const bool expect_ok = digits && ms <= 86'400'000;
  absl::StatusOr<Deadline> d = decode_timeout(value, arrival);
  UFC_FUZZ_CHECK(d.ok() == expect_ok,
                 absl::StrCat("\"", internal::av(value), "\": ", d.status().ToString()));
  if (!d.ok()) {
    UFC_FUZZ_CHECK(d.status().code() == absl::StatusCode::kInvalidArgument, d.status().ToString());
    return;
  }
  // "0" is spent for every reader: the instant is infinite_past (unless arrival is none).
  const MonotonicTime expected = ms == 0 && arrival != MonotonicTime::infinite_future()
                                     ? MonotonicTime::infinite_past()
                                     : arrival + absl::Milliseconds(ms);
  UFC_FUZZ_CHECK(d->instant() == expected, absl::StrCat(internal::av(value), " from ",
                                                        show(arrival), " = ", show(d->instant())));
  if (!arrival_is_ns) return;
  testing::SimClock clock;
  clock.set(arrival.reading());
  const std::string encoded = encode_timeout(*d, clock);
  UFC_FUZZ_CHECK(encoded == absl::StrCat(ms), absl::StrCat(internal::av(value), " -> ", encoded));
  absl::StatusOr<Deadline> again = decode_timeout(encoded, arrival);
  UFC_FUZZ_CHECK(again.ok() && *again == *d, encoded);
}

void check_helpers(MonotonicTime at, MonotonicTime now, bool now_is_ns) {
  const Deadline d = Deadline::at(at);
  UFC_FUZZ_CHECK(d.is_none() == (at == MonotonicTime::infinite_future()), show(at));
  UFC_FUZZ_CHECK(d.expired_at(now) == (!d.is_none() && at <= now), show(at));
  const absl::Duration left = d.remaining_at(now);
  UFC_FUZZ_CHECK(left >= absl::ZeroDuration(), show(at));
  if (d.is_none()) {
    UFC_FUZZ_CHECK(left == absl::InfiniteDuration(), show(at));
  } else {
    UFC_FUZZ_CHECK((left == absl::ZeroDuration()) == d.expired_at(now), show(at));
  }
  const Deadline other = Deadline::at(now);
  const Deadline first = d.earliest(other);
  UFC_FUZZ_CHECK(first.instant() == std::min(at, now), show(at));
  UFC_FUZZ_CHECK(other.earliest(d) == first, show(at));

  if (!now_is_ns || d.is_none()) return;
  testing::SimClock clock;
  clock.set(now.reading());
  const std::string encoded = encode_timeout(d, clock);
  absl::StatusOr<Deadline> back = decode_timeout(encoded, now);
  UFC_FUZZ_CHECK(back.ok(), absl::StrCat(show(at), " at ", show(now), " -> \"", encoded,
                                         "\": ", back.status().ToString()));
  if (!d.expired_at(now)) {
    UFC_FUZZ_CHECK(back->instant() <= at, absl::StrCat(show(at), " -> ", encoded));
    if (encoded == "0") {
      // Less than a millisecond left: on the wire that is spent, for every receiver.
      UFC_FUZZ_CHECK(
          left < absl::Milliseconds(1) && back->instant() == MonotonicTime::infinite_past(),
          absl::StrCat(show(at), " -> ", encoded));
    } else if (left <= kMaxWireBudget) {
      UFC_FUZZ_CHECK(back->instant() > at - absl::Milliseconds(1),
                     absl::StrCat(show(at), " -> ", encoded));
    }
  } else {
    UFC_FUZZ_CHECK(encoded == "0", absl::StrCat(show(at), " at ", show(now), " -> ", encoded));
  }
}

// One client for every input: picks are not reported and no time passes, so its state
// does not change what the next input sees.
void check_pick(MonotonicTime at) {
  static FuzzClient* c = FuzzClient::create(good_config()).release();
  const MonotonicTime now = MonotonicTime() + absl::Nanoseconds(testing::SimClock::kStartNs);
  const absl::Duration margin = absl::Milliseconds(5);  // good_config's deadline_margin
  const absl::Duration read = absl::Seconds(1);         // and its read timeout
  absl::StatusOr<Pick> pick =
      c->client->pick({.service = kGoodService, .deadline = Deadline::at(at)});
  const bool expect_refused = at <= now + margin;
  if (expect_refused) {
    UFC_FUZZ_CHECK(pick.status().code() == absl::StatusCode::kDeadlineExceeded,
                   absl::StrCat(show(at), ": ", pick.status().ToString()));
    return;
  }
  UFC_FUZZ_CHECK(pick.ok(), absl::StrCat(show(at), ": ", pick.status().ToString()));
  UFC_FUZZ_CHECK(pick->timeouts().read == std::min(read, at - now - margin),
                 absl::StrCat(show(at), ": read ", absl::FormatDuration(pick->timeouts().read)));
}

}  // namespace

void deadline_one(std::string_view data) {
  if (data.empty()) return;
  const int kinds = static_cast<unsigned char>(data.front());
  data.remove_prefix(1);
  const int64_t a = take_int64(data);
  const int64_t b = take_int64(data);
  const MonotonicTime first = instant(kinds, a);
  const MonotonicTime second = instant(kinds >> 2, b);
  check_codec(data, first, (kinds & 3) == 0);
  check_helpers(first, second, ((kinds >> 2) & 3) == 0);
  check_pick(first);
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::deadline_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
