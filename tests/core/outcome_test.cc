// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "ufc/outcome.h"

#include "gtest/gtest.h"

namespace ufc {
namespace {

absl::Duration d = absl::Milliseconds(1);

TEST(OutcomeTest, TransportFailuresWinOverAnyStatus) {
  EXPECT_EQ(Outcome::transport_error(Transport::kConnectRefused, d).classify(),
            OutcomeClass::kConnectRefused);
  EXPECT_EQ(Outcome::transport_error(Transport::kReadTimeout, d).classify(),
            OutcomeClass::kReadTimeout);
  Outcome o = Outcome::http(200, d);
  o.transport = Transport::kReset;
  EXPECT_EQ(o.classify(), OutcomeClass::kReset);
}

TEST(OutcomeTest, HttpStatusClasses) {
  EXPECT_EQ(Outcome::ok(d).classify(), OutcomeClass::kSuccess);
  EXPECT_EQ(Outcome::http(204, d).classify(), OutcomeClass::kSuccess);
  EXPECT_EQ(Outcome::http(302, d).classify(), OutcomeClass::kSuccess);
  EXPECT_EQ(Outcome::http(404, d).classify(), OutcomeClass::kClientError);
  EXPECT_EQ(Outcome::http(499, d).classify(), OutcomeClass::kClientError);
  EXPECT_EQ(Outcome::http(500, d).classify(), OutcomeClass::kServerError);
  EXPECT_EQ(Outcome::http(503, d).classify(), OutcomeClass::kServerError);
}

TEST(OutcomeTest, GrpcCodesFollowTheCanonicalHttpMapping) {
  EXPECT_EQ(Outcome::grpc(0, d).classify(), OutcomeClass::kSuccess);
  for (int code : {1, 3, 5, 6, 7, 8, 9, 10, 11, 16}) {
    EXPECT_EQ(Outcome::grpc(code, d).classify(), OutcomeClass::kClientError) << code;
  }
  for (int code : {2, 4, 12, 13, 14, 15, 99}) {
    EXPECT_EQ(Outcome::grpc(code, d).classify(), OutcomeClass::kServerError) << code;
  }
}

}  // namespace
}  // namespace ufc
