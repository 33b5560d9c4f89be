// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// make_store()'s checks of the etcd security flags: files that cannot be read name their
// flag, and a password never crosses a non-loopback network in plaintext. Nothing here
// contacts etcd (the store connects lazily).

#include "metad/store_factory.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/metad/metad_process.h"

namespace ufc::metad {
namespace {

using ::testing::HasSubstr;

TEST(StoreFactoryTest, EtcdSecurityFlagsAreCheckedNamingTheFlag) {
  ufc::testing::TempDir dir;
  std::ofstream(dir.path() + "/pw") << "secret\n";
  std::ofstream(dir.path() + "/not-pem") << "hello\n";
  StoreFlags flags;
  flags.etcd = "10.0.0.1:2379";
  flags.server_id = "s1";
  ASSERT_TRUE(make_store(flags).ok());  // plaintext, no auth: allowed

  flags.etcd_user = "ufc";
  EXPECT_THAT(make_store(flags).status().message(), HasSubstr("go together"));
  flags.etcd_password_file = dir.path() + "/pw";
  absl::StatusOr<std::unique_ptr<Store>> made = make_store(flags);
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(made.status().message(), HasSubstr("in plaintext"));
  flags.etcd = "127.0.0.1:2379";  // loopback: the password stays on the host
  EXPECT_TRUE(make_store(flags).ok());
  flags.etcd = "https://10.0.0.1:2379";
  EXPECT_TRUE(make_store(flags).ok());

  flags.etcd = "10.0.0.1:2379";
  flags.etcd_ca = dir.path() + "/missing.pem";
  EXPECT_THAT(make_store(flags).status().message(), HasSubstr("--etcd_ca: cannot read"));
  flags.etcd_ca = dir.path() + "/not-pem";
  EXPECT_THAT(make_store(flags).status().message(), HasSubstr("--etcd_ca: "));
  EXPECT_THAT(make_store(flags).status().message(), HasSubstr("holds no PEM block"));
  flags.etcd_ca.clear();
  flags.etcd_password_file = dir.path() + "/missing";
  EXPECT_THAT(make_store(flags).status().message(), HasSubstr("etcd_password_file"));
}

}  // namespace
}  // namespace ufc::metad
