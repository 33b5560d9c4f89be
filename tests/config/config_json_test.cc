// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;

TEST(ConfigJsonTest, ParsesProtobufJsonMapping) {
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(R"json({
    "services": [{
      "name": "echo", "version": "7",
      "endpoints": [{"address": "10.0.0.1:80", "weight": 2.5, "tags": {"idc": "bj"}},
                    {"address": "[::1]:81"}],
      "balancing": {"policy": "least_loaded", "leastLoaded": {"idleReset": "1.5s"}}
    }]})json");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->services_size(), 1);
  const v1::ServiceConfig& s = config->services(0);
  EXPECT_EQ(s.version(), 7u);
  EXPECT_DOUBLE_EQ(s.endpoints(0).weight(), 2.5);
  EXPECT_FALSE(s.endpoints(1).has_weight());
  EXPECT_EQ(s.endpoints(0).tags().at("idc"), "bj");
  EXPECT_EQ(s.balancing().least_loaded().idle_reset().seconds(), 1);
  EXPECT_EQ(s.balancing().least_loaded().idle_reset().nanos(), 500000000);
  EXPECT_TRUE(validate_config(*config).ok());
}

TEST(ConfigJsonTest, UnknownFieldIsAnErrorNotSilentlyIgnored) {
  absl::StatusOr<v1::ClientConfig> config =
      parse_config_json(R"({"services": [{"name": "echo", "endpionts": []}]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("endpionts"));
}

TEST(ConfigJsonTest, SyntaxErrorIsInvalidArgument) {
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(R"({"services": [)");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("config JSON does not parse"));
}

TEST(ConfigJsonTest, NanWeightParsesAndIsThenRejectedByValidation) {
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(
      R"({"services": [{"name": "a", "endpoints": [{"address": "10.0.0.1:80", "weight": "NaN"}]}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(validate_config(*config).message(),
            "services[0].endpoints[0].weight: must be a number, got NaN");
}

TEST(ConfigJsonTest, LoadFileValidatesAndNamesThePath) {
  const std::string path = ::testing::TempDir() + "/ufc_config_json_test.json";
  {
    std::ofstream out(path);
    out << R"({"services": [{"name": "a", "endpoints": [{"address": "10.0.0.1:80", "weight": -3}]}]})";
  }
  absl::StatusOr<v1::ClientConfig> config = load_config_file(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "config file " + path + ": services[0].endpoints[0].weight: must be >= 0, got -3");
  std::remove(path.c_str());

  absl::StatusOr<v1::ClientConfig> missing = load_config_file(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ufc
