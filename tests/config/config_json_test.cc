// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

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

// protobuf 3.21 flattens an array inside a repeated field's array: {"services":[[]]} would
// be an empty config, and applying it would remove every service.
TEST(ConfigJsonTest, NestedArrayInARepeatedFieldIsAnErrorNamingTheField) {
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(R"({"services":[[]]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "services[0]: nested array: an array inside an array is not an element (protobuf "
            "would merge its contents into the outer array)");

  config = parse_config_json(R"({"services":[[{"name":"a"}]]})");
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("services[0]: nested array"));
}

TEST(ConfigJsonTest, NestedArraysDeeperInTheConfigAreErrorsToo) {
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(R"json({"services": [
      {"name": "a", "endpoints": [{"address": "10.0.0.1:80"}]},
      {"name": "b", "endpoints": [{"address": "10.0.0.1:80"}]},
      {"name": "c", "endpoints": [[{"address": "10.0.0.1:80"}], {"address": "10.0.0.2:80"}],
       "routes": [{"match": {"callerServices": ["x", ["y"]], "attributes": [[]]},
                   "destinations": [[{"name": "s"}]]}]}]})json");
  ASSERT_FALSE(config.ok());
  const std::string nested = ": nested array: an array inside an array is not an element";
  EXPECT_THAT(std::string(config.status().message()),
              AllOf(HasSubstr("services[2].endpoints[0]" + nested),
                    HasSubstr("services[2].routes[0].destinations[0]" + nested),
                    HasSubstr("services[2].routes[0].match.attributes[0]" + nested),
                    HasSubstr("services[2].routes[0].match.caller_services[1]" + nested)));
  EXPECT_THAT(std::string(config.status().message()), Not(HasSubstr("services[0]")));
}

TEST(ConfigJsonTest, NullElementsAndNullMapValuesAreErrors) {
  // protobuf drops a null element ({"services":[null]} would be empty) and reads a null
  // map value as "".
  EXPECT_EQ(parse_config_json(R"({"services":[null]})").status().message(),
            "services[0]: null is not an element (protobuf would drop it)");
  EXPECT_EQ(
      parse_config_json(R"({"services":[{"name":"a","routes":[{"match":{"callerIdcs":[null]}}]}]})")
          .status()
          .message(),
      "services[0].routes[0].match.caller_idcs[0]: null is not an element (protobuf would "
      "drop it)");
  EXPECT_EQ(parse_config_json(R"({"idc_map":{"bj":null}})").status().message(),
            "idc_map[\"bj\"]: null is not a map value (protobuf would read it as \"\")");
  EXPECT_EQ(parse_config_json(R"json({"services":[{"name":"a","endpoints":
                [{"address":"10.0.0.1:80","tags":{"idc":null}}]}]})json")
                .status()
                .message(),
            "services[0].endpoints[0].tags[\"idc\"]: null is not a map value (protobuf would "
            "read it as \"\")");
}

TEST(ConfigJsonTest, ALoneValueWhereAnArrayBelongsIsAnError) {
  // protobuf would take {"services": {...}} as a one-element array.
  EXPECT_EQ(parse_config_json(R"({"services":{"name":"a"}})").status().message(),
            "services: must be an array, got an object");
  EXPECT_EQ(parse_config_json(
                R"({"services":[{"name":"a","routes":[{"match":{"callerServices":"x"}}]}]})")
                .status()
                .message(),
            "services[0].routes[0].match.caller_services: must be an array, got a string");
}

TEST(ConfigJsonTest, AKeyGivenTwiceIsAnError) {
  // protobuf would keep the last one.
  absl::StatusOr<v1::ClientConfig> config =
      parse_config_json(R"({"services":[{"name":"a","name":"b"}]})");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "config JSON does not parse: name: Repeated map key: 'name' is already set.");
  config = parse_config_json(R"({"services":[],"services":[{"name":"a"}]})");
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("'services' is already set"));
}

TEST(ConfigJsonTest, NullFieldsAndEmptyArraysStillMeanTheDefault) {
  // The proto3 JSON mapping: a field set to null is absent. (Whether an empty config may
  // replace a client's services is Client::apply's question, not the parser's.)
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(
      R"({"services":[{"name":"a","endpoints":[],"routes":null,"balancing":null}],
          "idcMap":null})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->services(0).name(), "a");
  EXPECT_TRUE(parse_config_json(R"({"services":[]})").ok());
  EXPECT_TRUE(parse_config_json(R"({})").ok());
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
