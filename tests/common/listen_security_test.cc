// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/listen_security.h"

#include <fstream>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

TEST(ListenSecurity, OnlyLoopbackLiteralsAreLoopback) {
  for (const char* yes :
       {"127.0.0.1:8877", "127.1.2.3:0", "[::1]:8877", "localhost:1", "unix:/tmp/agent.sock"}) {
    EXPECT_TRUE(is_loopback_listen(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0:8877", "[::]:8877", "10.0.0.1:80", "127.example.com:8877",
                         "127.0.0.1.nip.io:80", "[::1:80", "128.0.0.1:1", ":8877", ""}) {
    EXPECT_FALSE(is_loopback_listen(no)) << no;
  }
}

TEST(ListenSecurity, BearerMatchesExactly) {
  EXPECT_TRUE(bearer_matches("Bearer s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cretX", "s3cret"));
  EXPECT_FALSE(bearer_matches("bearer s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));  // an empty token never matches
}

TEST(ListenSecurity, SecretFiles) {
  EXPECT_EQ(read_secret_file("", "token_file").value(), "");
  EXPECT_EQ(read_secret_file("/nonexistent/x", "token_file").status().message(),
            "--token_file: cannot read /nonexistent/x");
  const std::string path = ::testing::TempDir() + "/listen_security_secret";
  std::ofstream(path) << "  tok\n";
  EXPECT_EQ(read_secret_file(path, "token_file").value(), "tok");
  std::ofstream(path) << " \n";
  EXPECT_FALSE(read_secret_file(path, "token_file").ok());
}

TEST(ListenSecurity, PortFiles) {
  EXPECT_TRUE(write_port_file("", 1).ok());
  const std::string path = ::testing::TempDir() + "/listen_security_port";
  ASSERT_TRUE(write_port_file(path, 8877).ok());
  std::ifstream in(path);
  int port = 0;
  EXPECT_TRUE(in >> port);
  EXPECT_EQ(port, 8877);
  EXPECT_EQ(write_port_file("/nonexistent-dir/port", 1).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ufc::internal
