// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::make_service;
using ::testing::Not;
using testing::SimClient;

google::protobuf::Struct parse(const std::string& json) {
  google::protobuf::Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out);
  EXPECT_TRUE(status.ok()) << json;
  return out;
}

TEST(QueryTest, RequestInfoMatchesTheDocumentedShape) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 2, "round_robin");
  SimClient c(config);
  c.executor->advance(absl::Seconds(24));
  for (int i = 0; i < 4; ++i) c.pick_and_report("echo", Outcome::ok(absl::Milliseconds(3)));
  for (int i = 0; i < 2; ++i) c.pick_and_report("echo", Outcome::http(502, absl::Milliseconds(3)));
  EXPECT_EQ(c.client->query("request_info^echo"),
            "{\"request_info\":{\"request_cnt\":6,\"success_cnt\":4,\"4xx_cnt\":0,\"5xx_cnt\":2,"
            "\"transport_fail_cnt\":0,\"inflight\":0,\"ban_cnt\":0,\"banned_cnt\":0,"
            "\"panic_cnt\":0,\"deadline_skipped\":0,\"fusing\":false,\"drop\":0,"
            "\"fused_cnt\":0,\"timeouts_in_force\":\"T1\",\"retry_budget_left\":10,"
            "\"retries_refused_cnt\":0,\"mtime\":1573456024}}");
}

TEST(QueryTest, ServicesAndEndpointsAreValidJsonWithLiveState) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 2, "least_loaded", 9);
  *config.add_services() = make_service("db", 1, "round_robin", 1);
  SimClient c(config);
  c.pick_and_report("echo",
                    Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1)));
  absl::StatusOr<Pick> open = c.client->pick({.service = "echo"});

  google::protobuf::Struct services = parse(c.client->query("services"));
  const auto& list = services.fields().at("services").list_value();
  ASSERT_EQ(list.values_size(), 2);
  const auto& db = list.values(0).struct_value().fields();  // sorted by name
  EXPECT_EQ(db.at("name").string_value(), "db");
  const auto& echo = list.values(1).struct_value().fields();
  EXPECT_EQ(echo.at("version").number_value(), 9);
  EXPECT_EQ(echo.at("policy").string_value(), "least_loaded");
  EXPECT_EQ(echo.at("request_cnt").number_value(), 1);
  EXPECT_EQ(echo.at("transport_fail_cnt").number_value(), 1);
  EXPECT_EQ(echo.at("inflight").number_value(), 1);

  google::protobuf::Struct endpoints = parse(c.client->query("endpoints^echo"));
  const auto& body = endpoints.fields().at("endpoints").struct_value().fields();
  EXPECT_EQ(body.at("service").string_value(), "echo");
  const auto& eps = body.at("list").list_value();
  ASSERT_EQ(eps.values_size(), 2);
  double refused = 0, inflight = 0;
  for (const auto& e : eps.values()) {
    refused += e.struct_value().fields().at("connect_refused_cnt").number_value();
    inflight += e.struct_value().fields().at("inflight").number_value();
    EXPECT_EQ(e.struct_value().fields().at("tags").struct_value().fields().at("idc").string_value(),
              "bj");
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(inflight, 1);
}

TEST(QueryTest, UnknownQueriesAndServicesAreJsonErrors) {
  SimClient c;
  EXPECT_EQ(c.client->query("request_info^nope"),
            "{\"error\":\"service \\\"nope\\\" is not configured\"}");
  EXPECT_EQ(c.client->query("bogus"),
            "{\"error\":\"unknown query \\\"bogus\\\"; expected services, services^<after>, "
            "sync, backup, request_info^<service>, "
            "endpoints^<service> or routes^<service>\"}");
  EXPECT_EQ(c.client->query("services"), "{\"services\":[]}");
}

// A large fleet is listed a page at a time, in name order: every service once, and each
// page costs what it shows.
TEST(QueryTest, ServicesComeInPagesInNameOrder) {
  v1::ClientConfig config;
  for (int i = 0; i < 250; ++i) {
    *config.add_services() = make_service("svc-" + std::to_string(1000 + i), 2, "round_robin");
  }
  SimClient c(config);
  std::vector<std::string> names;
  std::string after;
  int pages = 0;
  for (;; ++pages) {
    const google::protobuf::Struct page = parse(c.client->query("services^" + after));
    for (const auto& v : page.fields().at("services").list_value().values()) {
      names.push_back(v.struct_value().fields().at("name").string_value());
    }
    auto next = page.fields().find("next");
    if (next == page.fields().end()) break;
    EXPECT_EQ(next->second.string_value(), names.back());
    after = next->second.string_value();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 2) << "100 + 100 + 50";
  ASSERT_EQ(names.size(), 250u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.front(), "svc-1000");
  EXPECT_EQ(names.back(), "svc-1249");
  // A cursor need not be a name; past the end is an empty last page.
  EXPECT_THAT(c.client->query("services^svc-1248x"), HasSubstr("\"name\":\"svc-1249\""));
  EXPECT_EQ(c.client->query("services^zzz"), "{\"services\":[]}");
  // A removed service leaves the pages.
  ASSERT_TRUE(c.client->remove("svc-1000").ok());
  EXPECT_THAT(c.client->query("services^"), Not(HasSubstr("\"svc-1000\"")));
}

TEST(QueryTest, AQueryWithInvalidUtf8StillGetsValidJson) {
  // The query string comes from the caller (an admin endpoint, a CLI): whatever its bytes,
  // the answer is JSON, with U+FFFD where they were not UTF-8.
  SimClient c;
  const std::string answer = c.client->query("endpoints^caf\xc3\xa9\xff");
  parse(answer);
  EXPECT_EQ(answer, "{\"error\":\"service \\\"caf\xc3\xa9\xef\xbf\xbd\\\" is not configured\"}");
  parse(c.client->query("\x80\xed\xa0\x80"));
}

}  // namespace
}  // namespace ufc
