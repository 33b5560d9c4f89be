// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Integration, a real gRPC server on 127.0.0.1: the deadline set with ufc::set_deadline
// arrives, and deadline_from(ServerContext) reads it (gRPC's own and ours).

#include <grpcpp/grpcpp.h>

#include "deadline/echo.grpc.pb.h"  // generated into the build tree
#include "gtest/gtest.h"
#include "ufc/grpc.h"

namespace ufc {
namespace {

class EchoService final : public testing::Echo::Service {
  grpc::Status Call(grpc::ServerContext* context, const testing::EchoRequest*,
                    testing::EchoReply* reply) override {
    absl::StatusOr<Deadline> deadline = deadline_from(*context);
    if (!deadline.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(deadline.status().message()));
    }
    reply->set_has_deadline(!deadline->is_none());
    if (!deadline->is_none())
      reply->set_remaining_ms(absl::ToInt64Milliseconds(deadline->remaining()));
    return grpc::Status::OK;
  }
};

class GrpcDeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    stub_ = testing::Echo::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                       grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  grpc::Status call(grpc::ClientContext& context, testing::EchoReply& reply) {
    return stub_->Call(&context, testing::EchoRequest(), &reply);
  }

  EchoService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<testing::Echo::Stub> stub_;
};

TEST_F(GrpcDeadlineTest, SetDeadlineArrivesAsTheServersDeadline) {
  grpc::ClientContext context;
  set_deadline(context, Deadline::after(absl::Milliseconds(3000)));
  testing::EchoReply reply;
  ASSERT_TRUE(call(context, reply).ok());
  EXPECT_TRUE(reply.has_deadline());
  EXPECT_LE(reply.remaining_ms(), 3000);
  EXPECT_GE(reply.remaining_ms(), 2000) << "connection setup and scheduling eat a little";
}

TEST_F(GrpcDeadlineTest, OurMetadataAloneIsHonouredAndTheEarlierOfTheTwoWins) {
  {
    grpc::ClientContext context;  // no gRPC deadline, only x-ufc-timeout-ms
    context.AddMetadata(std::string(kTimeoutHeader), "2500");
    testing::EchoReply reply;
    ASSERT_TRUE(call(context, reply).ok());
    EXPECT_TRUE(reply.has_deadline());
    EXPECT_LE(reply.remaining_ms(), 2500);
    EXPECT_GE(reply.remaining_ms(), 1500);
  }
  {
    grpc::ClientContext context;  // gRPC's 9 s and ours 2 s: 2 s
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(9));
    context.AddMetadata(std::string(kTimeoutHeader), "2000");
    testing::EchoReply reply;
    ASSERT_TRUE(call(context, reply).ok());
    EXPECT_LE(reply.remaining_ms(), 2000);
  }
}

TEST_F(GrpcDeadlineTest, NoDeadlineIsNoneAndMalformedMetadataIsRejected) {
  {
    grpc::ClientContext context;
    testing::EchoReply reply;
    ASSERT_TRUE(call(context, reply).ok());
    EXPECT_FALSE(reply.has_deadline());
  }
  {
    grpc::ClientContext context;
    context.AddMetadata(std::string(kTimeoutHeader), "-1");
    testing::EchoReply reply;
    const grpc::Status status = call(context, reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(),
              "x-ufc-timeout-ms: \"-1\" is not a whole number of milliseconds");
  }
}

// A deadline ten thousand years away does not overflow system_clock arithmetic (nanoseconds
// reach ~292 years): gRPC sees no deadline.
TEST(GrpcDeadlineFarFutureTest, SetDeadlineSaturates) {
  grpc::ClientContext context;
  set_deadline(context, Deadline::after(absl::Hours(24 * 365 * 10'000)));
  EXPECT_EQ(context.deadline(), std::chrono::system_clock::time_point::max());
}

}  // namespace
}  // namespace ufc
