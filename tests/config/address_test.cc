// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/address.h"

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

TEST(AddressTest, ParsesIpv4Ipv6AndNames) {
  absl::StatusOr<HostPort> v4 = parse_address("10.1.2.3:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "10.1.2.3");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_TRUE(v4->is_ip);

  absl::StatusOr<HostPort> v6 = parse_address("[2001:DB8::0:1]:443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "2001:DB8::0:1");
  EXPECT_EQ(v6->canonical, "[2001:db8::1]:443");
  EXPECT_TRUE(v6->is_ip);

  absl::StatusOr<HostPort> name = parse_address("Cache-1.Bj.Example:6379");
  ASSERT_TRUE(name.ok());
  EXPECT_FALSE(name->is_ip);
  EXPECT_EQ(name->canonical, "cache-1.bj.example:6379");
}

TEST(AddressTest, RejectsMalformedNames) {
  for (const char* bad : {"-a.example:1", "a-.example:1", "a..b:1", "a.example.:1",
                          "toolonglabel-toolonglabel-toolonglabel-toolonglabel-toolonglabel1.x:1",
                          "1.2.3:1", "a:+80", "a:0080x"}) {
    EXPECT_FALSE(parse_address(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ufc::internal
