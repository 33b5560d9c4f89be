// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Client::metrics_text: the families, labels and values docs/metrics.md promises, from a
// client whose traffic the test knows.

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/endpoint/latency_histogram.h"
#include "tests/testing/sim_client.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::make_service;
using ::testing::Not;
using testing::SimClient;

// The value of the one line that starts with `series` + " ", or -1.
double value_of(const std::string& text, const std::string& series) {
  double found = -1;
  int matches = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      found = std::stod(std::string(line.substr(series.size() + 1)));
      ++matches;
    }
  }
  EXPECT_LE(matches, 1) << series;
  return found;
}

TEST(LatencyBucketTest, BoundsAreInclusiveAndTheLastBucketTakesTheRest) {
  using internal::latency_bucket;
  EXPECT_EQ(latency_bucket(-5), 0u);
  EXPECT_EQ(latency_bucket(0), 0u);
  EXPECT_EQ(latency_bucket(250), 0u);
  EXPECT_EQ(latency_bucket(251), 1u);
  EXPECT_EQ(latency_bucket(500), 1u);
  EXPECT_EQ(latency_bucket(501), 2u);
  EXPECT_EQ(latency_bucket(1000), 2u);
  EXPECT_EQ(latency_bucket(1001), 3u);
  for (int i = 0; i < internal::kLatencyBuckets - 1; ++i) {
    const int64_t bound = internal::latency_bucket_bound_us(i);
    EXPECT_EQ(latency_bucket(bound), static_cast<uint32_t>(i)) << bound;
    EXPECT_EQ(latency_bucket(bound + 1), static_cast<uint32_t>(i + 1)) << bound;
  }
  EXPECT_EQ(internal::latency_bucket_bound_us(14), 4'096'000);
  EXPECT_EQ(latency_bucket(int64_t{1} << 40), 15u);
}

TEST(MetricsTest, EndpointsCountOutcomesAndFillTheHistogram) {
  v1::ClientConfig config;
  v1::ServiceConfig echo = make_service("echo", 1, "round_robin", 7);
  echo.set_tier("online");
  *config.add_services() = echo;
  SimClient c(config);
  for (int i = 0; i < 3; ++i)
    c.pick_and_report("echo", Outcome::http(200, absl::Microseconds(200)));
  c.pick_and_report("echo", Outcome::http(404, absl::Milliseconds(3)));
  c.pick_and_report("echo", Outcome::grpc(14, absl::Seconds(30)));  // UNAVAILABLE: 5xx class
  c.pick_and_report("echo", Outcome::transport_error(Transport::kReset, absl::Milliseconds(1)));
  absl::StatusOr<Pick> open = c.client->pick({.service = "echo"});
  ASSERT_TRUE(open.ok());
  const std::string ep = std::string(open->address());
  const std::string l = "caller=\"tester\",service=\"echo\",endpoint=\"" + ep + "\"";

  const std::string text = c.client->metrics_text();
  EXPECT_THAT(text, HasSubstr("# TYPE ufc_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE ufc_request_duration_seconds histogram\n"));
  EXPECT_EQ(value_of(text, "ufc_requests_total{" + l + ",outcome=\"ok\"}"), 3);
  EXPECT_EQ(value_of(text, "ufc_requests_total{" + l + ",outcome=\"client_error\"}"), 1);
  EXPECT_EQ(value_of(text, "ufc_requests_total{" + l + ",outcome=\"server_error\"}"), 1);
  EXPECT_EQ(value_of(text, "ufc_requests_total{" + l + ",outcome=\"reset\"}"), 1);
  // Outcomes never seen are not written.
  EXPECT_THAT(text, Not(HasSubstr("outcome=\"connect_refused\"")));
  const std::string h = "ufc_request_duration_seconds_bucket{" + l + ",le=";
  EXPECT_EQ(value_of(text, h + "\"0.00025\"}"), 3);
  EXPECT_EQ(value_of(text, h + "\"0.0005\"}"), 3);
  EXPECT_EQ(value_of(text, h + "\"0.001\"}"), 4);  // the reset, after exactly 1 ms
  EXPECT_EQ(value_of(text, h + "\"0.002\"}"), 4);
  EXPECT_EQ(value_of(text, h + "\"0.004\"}"), 5);
  EXPECT_EQ(value_of(text, h + "\"4.096\"}"), 5);
  EXPECT_EQ(value_of(text, h + "\"+Inf\"}"), 6);
  EXPECT_EQ(value_of(text, "ufc_request_duration_seconds_count{" + l + "}"), 6);
  EXPECT_DOUBLE_EQ(value_of(text, "ufc_request_duration_seconds_sum{" + l + "}"), 30.0046);
  EXPECT_EQ(value_of(text, "ufc_endpoint_in_flight{" + l + "}"), 1);
  EXPECT_EQ(value_of(text, "ufc_endpoint_banned{" + l + "}"), 0);

  const std::string s = "caller=\"tester\",service=\"echo\"";
  EXPECT_EQ(value_of(text, "ufc_service_info{" + s + ",tier=\"online\"}"), 1);
  EXPECT_EQ(value_of(text, "ufc_service_config_version{" + s + "}"), 7);
  EXPECT_EQ(value_of(text, "ufc_service_endpoints{" + s + "}"), 1);
  EXPECT_EQ(value_of(text, "ufc_service_fusing{" + s + "}"), 0);
  EXPECT_GE(value_of(text, "ufc_service_config_age_seconds{" + s + "}"), 0);
  // No sync configured: no sync series.
  EXPECT_THAT(text, Not(HasSubstr("ufc_sync_")));
}

TEST(MetricsTest, TheHistogramCanBeTurnedOffAndABadTierIsRefused) {
  ClientOptions options;
  options.latency_histograms = false;
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 2, "round_robin");
  options.initial_config = config;
  auto client = Client::create(options).value();
  absl::StatusOr<Pick> p = client->pick({.service = "echo"});
  ASSERT_TRUE(p.ok());
  client->report(*p, Outcome::ok(absl::Milliseconds(1)));
  const std::string text = client->metrics_text();
  EXPECT_THAT(text, HasSubstr("ufc_requests_total{caller=\"unknown\",service=\"echo\""));
  EXPECT_THAT(text, Not(HasSubstr("ufc_request_duration_seconds")));
  EXPECT_THAT(text,
              HasSubstr("ufc_service_info{caller=\"unknown\",service=\"echo\",tier=\"unset\"} 1"));

  v1::ClientConfig bad;
  *bad.add_services() = make_service("echo", 2, "round_robin", 2);
  bad.mutable_services(0)->set_tier("batch");
  const absl::Status st = client->apply(bad);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("tier"));
}

TEST(MetricsTest, PerServiceHistogramsSumTheEndpoints) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 3, "round_robin");
  SimClient c(config);
  for (int i = 0; i < 6; ++i) c.pick_and_report("echo", Outcome::http(200, absl::Milliseconds(i)));
  MetricsOptions options;
  options.endpoint_histograms = false;
  const std::string text = c.client->metrics_text(options);
  const std::string s = "caller=\"tester\",service=\"echo\"";
  EXPECT_EQ(value_of(text, "ufc_request_duration_seconds_count{" + s + "}"), 6);
  EXPECT_NEAR(value_of(text, "ufc_request_duration_seconds_sum{" + s + "}"), 0.015, 1e-9);
  EXPECT_EQ(value_of(text, "ufc_request_duration_seconds_bucket{" + s + ",le=\"0.001\"}"), 2);
  EXPECT_THAT(text, Not(HasSubstr("ufc_request_duration_seconds_bucket{" + s + ",endpoint=")));
  // The outcome counters stay per endpoint.
  EXPECT_THAT(text,
              HasSubstr("ufc_requests_total{" + s + ",endpoint=\"10.0.0.1:80\",outcome=\"ok\"} 2"));
}

TEST(MetricsTest, RetriesAdmittedAndRefusedAreCounted) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 2, "round_robin");     // budget 10%
  config.mutable_services(0)->mutable_retry()->set_min_per_second(0);  // and no reserve
  SimClient c(config);
  for (int i = 0; i < 100; ++i) c.pick_and_report("echo", Outcome::ok(absl::Milliseconds(1)));
  c.executor->advance(absl::Milliseconds(100));  // 10 tokens
  int admitted = 0;
  for (int i = 0; i < 12; ++i)
    admitted += c.client->pick({.service = "echo", .is_retry = true}).ok();
  EXPECT_EQ(admitted, 10);
  c.executor->advance(absl::Milliseconds(100));  // the tick counts what was taken
  const std::string text = c.client->metrics_text();
  const std::string s = "caller=\"tester\",service=\"echo\"";
  EXPECT_EQ(value_of(text, "ufc_service_retries_total{" + s + "}"), 10);
  EXPECT_EQ(value_of(text, "ufc_service_retries_refused_total{" + s + "}"), 2);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  v1::ClientConfig config;
  *config.add_services() = make_service("a\"b\\c", 1, "round_robin");
  SimClient c(config);
  EXPECT_THAT(c.client->metrics_text(), HasSubstr("service=\"a\\\"b\\\\c\""));
}

// An endpoint never picked has no series until its first pick (the service's always are):
// an agent holding a whole fleet writes what is in use. On request, it is written as zeros.
TEST(MetricsTest, EndpointsNeverPickedAreLeftOutUnlessAskedFor) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 3, "round_robin");
  SimClient c(config);
  absl::StatusOr<Pick> reported = c.client->pick({.service = "echo"});
  absl::StatusOr<Pick> held = c.client->pick({.service = "echo"});
  ASSERT_TRUE(reported.ok() && held.ok());
  const std::string reported_at(reported->address()), held_at(held->address());
  c.client->report(*reported, Outcome::ok(absl::Milliseconds(1)));
  std::string unused;
  for (const char* a : {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}) {
    if (a != reported_at && a != held_at) unused = a;
  }
  ASSERT_FALSE(unused.empty());
  const std::string s = "caller=\"tester\",service=\"echo\"";
  auto at = [&](const std::string& address) { return s + ",endpoint=\"" + address + "\""; };

  const std::string text = c.client->metrics_text();
  EXPECT_EQ(value_of(text, "ufc_requests_total{" + at(reported_at) + ",outcome=\"ok\"}"), 1);
  EXPECT_EQ(value_of(text, "ufc_endpoint_in_flight{" + at(held_at) + "}"), 1);
  EXPECT_THAT(text, Not(HasSubstr("endpoint=\"" + unused + "\"")));
  EXPECT_EQ(value_of(text, "ufc_service_endpoints{" + s + "}"), 3);

  MetricsOptions all;
  all.unused_endpoints = true;
  const std::string zeros = c.client->metrics_text(all);
  EXPECT_EQ(value_of(zeros, "ufc_requests_total{" + at(unused) + ",outcome=\"ok\"}"), 0);
  EXPECT_EQ(value_of(zeros, "ufc_endpoint_in_flight{" + at(unused) + "}"), 0);
  EXPECT_EQ(value_of(zeros, "ufc_endpoint_banned{" + at(unused) + "}"), 0);
}

}  // namespace
}  // namespace ufc
