// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/admin/traffic_recorder.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ufc_agent::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

AccessRecord record(std::string_view caller, std::string_view service, const AccessAttempt* a,
                    size_t n) {
  AccessRecord r;
  r.via = "proxy";
  r.caller = caller;
  r.service = service;
  r.attempts = absl::MakeConstSpan(a, n);
  return r;
}

TEST(TrafficRecorderTest, CountsEveryAttemptPerCallerServiceAndEndpoint) {
  TrafficRecorder t({nullptr, 0, 100});
  const AccessAttempt two[] = {
      {"10.0.0.1:80", ufc::OutcomeClass::kConnectRefused, 0, absl::Milliseconds(1)},
      {"10.0.0.2:80", ufc::OutcomeClass::kSuccess, 200, absl::Milliseconds(2)}};
  t.record(record("web", "echo", two, 2));
  t.record(record("", "echo", two + 1, 1));
  AccessRecord hop = record("", "", two + 1, 1);
  hop.via = "inbound";  // remote agents' requests: no caller or service to count by
  t.record(hop);
  const std::string text = t.metrics_text();
  EXPECT_THAT(text, HasSubstr("ufc_agent_caller_requests_total{caller=\"web\",service=\"echo\","
                              "endpoint=\"10.0.0.1:80\",outcome=\"connect_refused\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ufc_agent_caller_requests_total{caller=\"web\",service=\"echo\","
                              "endpoint=\"10.0.0.2:80\",outcome=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("{caller=\"unknown\",service=\"echo\",endpoint=\"10.0.0.2:80\","
                              "outcome=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ufc_agent_caller_series_overflow_total 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("service=\"\"")));
}

TEST(TrafficRecorderTest, KeysBeyondTheBoundFoldIntoOther) {
  TrafficRecorder t({nullptr, 0, 10});
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&t, k] {
      for (int i = 0; i < 1000; ++i) {
        const std::string caller = "caller-" + std::to_string(k * 1000 + i);
        const AccessAttempt a{"10.0.0.1:80", ufc::OutcomeClass::kSuccess, 200, {}};
        t.record(record(caller, "echo", &a, 1));
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string text = t.metrics_text();
  size_t series = 0;
  for (size_t at = 0;
       (at = text.find("\nufc_agent_caller_requests_total{", at)) != std::string::npos; ++at) {
    ++series;
  }
  // A few keys may slip past the bound while threads race on the count: never many.
  EXPECT_LE(series, 10u + 4u + 1u);
  EXPECT_THAT(text, HasSubstr("{caller=\"_other\",service=\"_other\",endpoint=\"_other\","
                              "outcome=\"ok\"}"));
  EXPECT_THAT(text, Not(HasSubstr("ufc_agent_caller_series_overflow_total 0\n")));
}

TEST(TrafficRecorderTest, TheAccessLogIsOneJsonLinePerSampledRequest) {
  const std::string path =
      ::testing::TempDir() + "/traffic_recorder_test." + std::to_string(::getpid()) + ".jsonl";
  ::unlink(path.c_str());
  auto file = JsonLinesFile::open(path, "access_log");
  ASSERT_TRUE(file.ok());
  TrafficRecorder all({file->get(), 1.0, 100});
  const AccessAttempt a[] = {
      {"10.0.0.1:80", ufc::OutcomeClass::kReset, 0, absl::Microseconds(1500)},
      {"10.0.0.2:80", ufc::OutcomeClass::kServerError, 503, absl::Microseconds(700)}};
  AccessRecord r = record("web", "echo", a, 2);
  r.method = "GET";
  r.path = "/a\"b";
  r.status = 503;
  r.trace_id = "00-abc-01";
  r.duration = absl::Microseconds(2500);
  r.deadline_left = absl::Milliseconds(300);
  all.record(r);
  TrafficRecorder none({file->get(), 0.0, 100});
  none.record(r);
  std::ifstream in(path);
  std::string line, extra;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_FALSE(std::getline(in, extra)) << "sample 0 logs nothing";
  EXPECT_THAT(line, HasSubstr("\"via\":\"proxy\",\"caller\":\"web\",\"service\":\"echo\","
                              "\"method\":\"GET\",\"path\":\"/a\\\"b\",\"status\":503,"
                              "\"duration_us\":2500,\"deadline_left_us\":300000,"
                              "\"trace_id\":\"00-abc-01\",\"attempts\":[{\"backend\":"
                              "\"10.0.0.1:80\",\"outcome\":\"reset\",\"latency_us\":1500},"
                              "{\"backend\":\"10.0.0.2:80\",\"outcome\":\"server_error\","
                              "\"status\":503,\"latency_us\":700}]}"));
  EXPECT_EQ(file->get()->written(), 1u);
}

TEST(TrafficRecorderTest, AFailedWriteIsCountedNotFatal) {
  auto file = JsonLinesFile::open("/dev/full", "access_log");
  ASSERT_TRUE(file.ok());
  TrafficRecorder t({file->get(), 1.0, 100});
  const AccessAttempt a{"10.0.0.1:80", ufc::OutcomeClass::kSuccess, 200, {}};
  t.record(record("web", "echo", &a, 1));
  EXPECT_EQ(file->get()->dropped(), 1u);
  EXPECT_THAT(t.metrics_text(), HasSubstr("ufc_agent_access_log_dropped_total 1\n"));
  EXPECT_FALSE(JsonLinesFile::open("/nonexistent/dir/x.jsonl", "access_log").ok());
}

}  // namespace
}  // namespace ufc_agent::admin
