// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Deadlines on simulated time: the type, the wire format, and pick() honouring them.

#include "ufc/deadline.h"

#include <type_traits>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"
#include "ufc/config.h"
#include "ufc/refusal.h"
#include "ufc/request_guard.h"

namespace ufc {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using testing::make_service;
using testing::SimClient;
using testing::SimClock;

absl::Duration ms(int64_t n) { return absl::Milliseconds(n); }

// Deadlines live on the monotonic axis: a calendar time cannot be passed for an instant on
// it by mistake (`Deadline::at(absl::Now() - absl::Seconds(1))` does not compile).
static_assert(!std::is_convertible_v<absl::Time, MonotonicTime>);
static_assert(!std::is_constructible_v<MonotonicTime, absl::Time>);
static_assert(!std::is_invocable_v<decltype(&Deadline::at), absl::Time>);

TEST(DeadlineTest, AtTakesAMonotonicReading) {
  SimClock clock;
  const Deadline d = Deadline::at(clock.monotonic_now() + ms(250));
  EXPECT_EQ(d.remaining(clock), ms(250));
  EXPECT_EQ(d.instant().reading(), clock.now() + ms(250));
  EXPECT_EQ(Deadline::at(MonotonicTime::from_reading(clock.now())).remaining(clock),
            absl::ZeroDuration());
}

TEST(DeadlineTest, NoneNeverExpiresAndHasInfiniteTimeLeft) {
  SimClock clock;
  const Deadline none;
  EXPECT_TRUE(none.is_none());
  EXPECT_FALSE(none.expired(clock));
  EXPECT_EQ(none.remaining(clock), absl::InfiniteDuration());
  EXPECT_EQ(Deadline::none(), none);
}

TEST(DeadlineTest, AfterCountsDownAndExpires) {
  SimClock clock;
  const Deadline d = Deadline::after(ms(300), clock);
  EXPECT_EQ(d.remaining(clock), ms(300));
  clock.advance(ms(120));
  EXPECT_EQ(d.remaining(clock), ms(180));
  EXPECT_FALSE(d.expired(clock));
  clock.advance(ms(180));
  EXPECT_TRUE(d.expired(clock));
  EXPECT_EQ(d.remaining(clock), absl::ZeroDuration());
  clock.advance(ms(50));
  EXPECT_EQ(d.remaining(clock), absl::ZeroDuration()) << "never negative";
  EXPECT_EQ(d.earliest(Deadline::none()), d);
  EXPECT_EQ(Deadline::none().earliest(d), d);
}

TEST(DeadlineTest, EncodeSendsWhatIsLeftRoundedDown) {
  SimClock clock;
  const Deadline d = Deadline::after(ms(300) + absl::Microseconds(900), clock);
  EXPECT_EQ(encode_timeout(d, clock), "300");
  clock.advance(ms(299));
  EXPECT_EQ(encode_timeout(d, clock), "1");
  clock.advance(ms(5));
  EXPECT_EQ(encode_timeout(d, clock), "0");
  EXPECT_EQ(encode_timeout(Deadline::none(), clock), "");
}

TEST(DeadlineTest, DecodeCountsFromArrivalNotFromHandling) {
  SimClock clock;
  const MonotonicTime arrival = clock.monotonic_now();
  clock.advance(ms(40));  // the request waited in a queue before a worker decoded it
  absl::StatusOr<Deadline> d = decode_timeout("300", arrival);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->remaining(clock), ms(260));
  absl::StatusOr<Deadline> spent = decode_timeout("0", arrival);
  ASSERT_TRUE(spent.ok());
  EXPECT_TRUE(spent->expired(clock));
  // Spent even for a reader whose clock is behind the arrival reading (a cached clock).
  EXPECT_TRUE(spent->expired_at(arrival - ms(5)));
  EXPECT_EQ(decode_timeout("86400000", arrival)->instant(), arrival + absl::Hours(24));
}

TEST(DeadlineTest, MalformedAndAbsurdValuesAreRejected) {
  const MonotonicTime t;
  EXPECT_EQ(decode_timeout("", t).status().message(), "x-ufc-timeout-ms: \"\" is empty");
  EXPECT_EQ(decode_timeout("-5", t).status().message(),
            "x-ufc-timeout-ms: \"-5\" is not a whole number of milliseconds");
  for (const char* bad : {"12a", " 12", "12 ", "+12", "1.5", "0x10", "1e3"}) {
    absl::StatusOr<Deadline> d = decode_timeout(bad, t);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("is not a whole number")) << bad;
  }
  EXPECT_EQ(decode_timeout("86400001", t).status().message(),
            "x-ufc-timeout-ms: \"86400001\" is more than a day");
  EXPECT_EQ(decode_timeout("9999999999", t).status().message(),
            "x-ufc-timeout-ms: \"9999999999\" is too long (at most 9 digits)");
  EXPECT_EQ(decode_timeout(std::string("1\0", 2), t).status().message(),
            "x-ufc-timeout-ms: \"1\\x00\" is not a whole number of milliseconds");
}

// The extremes of the wire format: values an absurd or hostile peer might send.
TEST(DeadlineTest, ExtremeWireValuesAreRejectedOrSaturate) {
  const MonotonicTime t;
  for (const char* bad : {"99999999H", "-1", "-9223372036854775808", "18446744073709551616",
                          "999999999999999999999999999999", "99999999999"}) {
    EXPECT_EQ(decode_timeout(bad, t).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(decode_timeout("999999999", t).status().message(),
            "x-ufc-timeout-ms: \"999999999\" is more than a day");
  ASSERT_TRUE(decode_timeout("86400000", t).ok());
  EXPECT_EQ(decode_timeout("86400000", t)->instant(), t + absl::Hours(24));
  EXPECT_EQ(decode_timeout("000000001", t)->instant(), t + ms(1));

  // An arrival at either infinity saturates: spent in the past, none in the future.
  absl::StatusOr<Deadline> past = decode_timeout("1", MonotonicTime::infinite_past());
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->expired_at(t));
  EXPECT_FALSE(past->is_none());
  EXPECT_TRUE(decode_timeout("1", MonotonicTime::infinite_future())->is_none());
}

TEST(DeadlineTest, FarDeadlinesSaturateInsteadOfOverflowing) {
  SimClock clock;
  const Deadline past = Deadline::after(-absl::InfiniteDuration(), clock);
  EXPECT_EQ(past.instant(), MonotonicTime::infinite_past());
  EXPECT_TRUE(past.expired(clock));
  EXPECT_EQ(past.remaining(clock), absl::ZeroDuration());
  EXPECT_EQ(encode_timeout(past, clock), "0");
  EXPECT_TRUE(Deadline::after(absl::InfiniteDuration(), clock).is_none());

  // Ten thousand years: not none, but sent as the largest budget a receiver accepts, so
  // what one hop encodes the next can decode.
  const Deadline far = Deadline::after(absl::Hours(24 * 365 * 10'000), clock);
  EXPECT_FALSE(far.is_none());
  EXPECT_FALSE(far.expired(clock));
  EXPECT_EQ(encode_timeout(far, clock), "86400000");
  EXPECT_TRUE(decode_timeout(encode_timeout(far, clock), clock.monotonic_now()).ok());
}

v1::ClientConfig with_timeouts(int connect_ms, int read_ms, int margin_ms) {
  v1::ServiceConfig s = make_service("svc", 3, "round_robin");
  if (connect_ms)
    *s.mutable_timeouts()->mutable_connect() = TimeUtil::MillisecondsToDuration(connect_ms);
  if (read_ms) *s.mutable_timeouts()->mutable_read() = TimeUtil::MillisecondsToDuration(read_ms);
  if (margin_ms)
    *s.mutable_timeouts()->mutable_deadline_margin() = TimeUtil::MillisecondsToDuration(margin_ms);
  v1::ClientConfig c;
  *c.add_services() = s;
  return c;
}

TEST(DeadlinePickTest, ExpiredDeadlineIsRefusedWithoutChoosingABackend) {
  SimClient c(with_timeouts(0, 0, 0));
  const Deadline d = Deadline::after(ms(50), *c.clock);
  c.executor->advance(ms(50));
  absl::StatusOr<Pick> pick = c.client->pick({.service = "svc", .deadline = d});
  EXPECT_EQ(pick.status().code(), absl::StatusCode::kDeadlineExceeded);
  const std::string info = c.client->query("request_info^svc");
  EXPECT_THAT(info, HasSubstr("\"deadline_skipped\":1"));
  EXPECT_THAT(info, HasSubstr("\"request_cnt\":0,"));
  EXPECT_THAT(info, HasSubstr("\"inflight\":0,"));
}

TEST(DeadlinePickTest, TimeoutsAreTheConfiguredSetCappedByWhatIsLeft) {
  SimClient c(with_timeouts(/*connect=*/20, /*read=*/200, /*margin=*/10));
  // No deadline: the configured T1, write unlimited.
  absl::StatusOr<Pick> free = c.client->pick({.service = "svc"});
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(free->timeouts().connect, ms(20));
  EXPECT_EQ(free->timeouts().read, ms(200));
  EXPECT_EQ(free->timeouts().write, absl::InfiniteDuration());
  EXPECT_TRUE(free->deadline().is_none());

  // 300 ms budget, 150 ms spent: 150 left, minus the 10 ms margin = 140.
  const Deadline d = Deadline::after(ms(300), *c.clock);
  c.executor->advance(ms(150));
  absl::StatusOr<Pick> capped = c.client->pick({.service = "svc", .deadline = d});
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->timeouts().connect, ms(20));  // already shorter
  EXPECT_EQ(capped->timeouts().read, ms(140));
  EXPECT_EQ(capped->timeouts().write, ms(140));
  EXPECT_EQ(capped->deadline(), d) << "travels on with the pick";

  // 8 ms left is within the 10 ms margin: not worth an attempt.
  c.executor->advance(ms(142));
  EXPECT_EQ(c.client->pick({.service = "svc", .deadline = d}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

// Deadlines whose nanosecond value saturates to INT64_MIN used to wrap around in pick()'s
// subtraction into a budget of centuries and pass with the configured timeouts.
TEST(DeadlinePickTest, DeadlinesInTheDistantPastAreRefusedWhateverTheirMagnitude) {
  SimClient c(with_timeouts(/*connect=*/5, /*read=*/5, /*margin=*/1));
  const Deadline spent[] = {
      Deadline::at(MonotonicTime::infinite_past()),
      Deadline::after(-absl::InfiniteDuration(), *c.clock),
      *decode_timeout("1", MonotonicTime::infinite_past()),
      Deadline::at(MonotonicTime() - absl::Hours(24 * 365 * 1000)),
      Deadline::at(MonotonicTime::from_reading(absl::UnixEpoch() - absl::Nanoseconds(INT64_MAX))),
  };
  for (const Deadline& d : spent) {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "svc", .deadline = d});
    EXPECT_EQ(pick.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_EQ(refusal_of(pick.status()), Refusal::kDeadlineSpent);
  }
  EXPECT_THAT(c.client->query("request_info^svc"), HasSubstr("\"deadline_skipped\":5"));
}

TEST(DeadlinePickTest, DeadlinesInTheDistantFutureActAsNoDeadline) {
  SimClient c(with_timeouts(/*connect=*/20, /*read=*/200, /*margin=*/10));
  for (const Deadline& d : {Deadline::at(MonotonicTime::infinite_future()),
                            Deadline::after(absl::Hours(24 * 365 * 10'000), *c.clock)}) {
    absl::StatusOr<Pick> pick = c.client->pick({.service = "svc", .deadline = d});
    ASSERT_TRUE(pick.ok()) << pick.status();
    EXPECT_EQ(pick->timeouts().connect, ms(20));
    EXPECT_EQ(pick->timeouts().read, ms(200));
    EXPECT_EQ(pick->timeouts().write, absl::InfiniteDuration());
    EXPECT_TRUE(pick->deadline().is_none()) << "beyond int64 nanoseconds: none";
  }
}

TEST(DeadlinePickTest, TimeoutsSectionIsValidatedWithFullText) {
  v1::ServiceConfig s = make_service("svc", 1, "round_robin");
  s.mutable_timeouts()->mutable_connect()->set_seconds(0);
  s.mutable_timeouts()->mutable_read()->set_seconds(7200);
  s.mutable_timeouts()->mutable_deadline_margin()->set_seconds(-1);
  EXPECT_EQ(validate_service(s).message(),
            "timeouts.connect: must be in [1ns, 1h], got 0; "
            "timeouts.read: must be in [1ns, 1h], got 2h; "
            "timeouts.deadline_margin: must be in [0, 10s], got -1s");
}

TEST(RequestGuardTest, StopsOnceTheDeadlinePasses) {
  SimClock clock;
  RequestGuard guard(Deadline::after(ms(100), clock), /*fd=*/-1, clock);
  EXPECT_TRUE(guard.check().ok());
  EXPECT_EQ(guard.remaining(), ms(100));
  clock.advance(ms(100));
  EXPECT_EQ(guard.check().code(), absl::StatusCode::kDeadlineExceeded);
  RequestGuard unbounded(Deadline::none(), -1, clock);
  EXPECT_TRUE(unbounded.check().ok());
  RequestGuard ancient(Deadline::at(MonotonicTime::infinite_past()), -1, clock);
  EXPECT_EQ(ancient.check().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ancient.remaining(), absl::ZeroDuration());
}

}  // namespace
}  // namespace ufc
