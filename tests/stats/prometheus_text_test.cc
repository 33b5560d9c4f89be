// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/stats/prometheus_text.h"

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

TEST(PrometheusTextTest, FamiliesKeepTheirSamplesTogetherAfterTheirHeader) {
  MetricFamily a("x_total", "counter", "Things.\nMore \\ things.");
  MetricFamily b("y", "gauge", "A level.");
  std::string labels;
  append_label(labels, "k", "v\"1\\\n");
  a.add(labels, "kind", "p", uint64_t{3});
  b.add("", 0.5);
  a.add("", uint64_t{18446744073709551615u});
  b.add(labels, 1.0 / 0.0);
  std::string out;
  a.append_to(out);
  b.append_to(out);
  EXPECT_EQ(out,
            "# HELP x_total Things.\\nMore \\\\ things.\n"
            "# TYPE x_total counter\n"
            "x_total{k=\"v\\\"1\\\\\\n\",kind=\"p\"} 3\n"
            "x_total 18446744073709551615\n"
            "# HELP y A level.\n"
            "# TYPE y gauge\n"
            "y 0.5\n"
            "y{k=\"v\\\"1\\\\\\n\"} +Inf\n");
}

TEST(PrometheusTextTest, HistogramsAreCumulativeWithSumAndCount) {
  MetricFamily h("d_seconds", "histogram", "Latency.");
  const int64_t bounds[] = {250, 1000, 1500000};
  h.set_bucket_bounds(bounds, 3);
  const uint64_t buckets[] = {1, 0, 2, 4};
  h.add_histogram("a=\"b\"", buckets, 12'000'007);
  std::string out;
  h.append_to(out);
  EXPECT_EQ(out,
            "# HELP d_seconds Latency.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{a=\"b\",le=\"0.00025\"} 1\n"
            "d_seconds_bucket{a=\"b\",le=\"0.001\"} 1\n"
            "d_seconds_bucket{a=\"b\",le=\"1.5\"} 3\n"
            "d_seconds_bucket{a=\"b\",le=\"+Inf\"} 7\n"
            "d_seconds_sum{a=\"b\"} 12.000007\n"
            "d_seconds_count{a=\"b\"} 7\n");
}

TEST(PrometheusTextTest, ValuesThatAreNotUtf8AreRepaired) {
  std::string labels;
  append_label(labels, "caller", std::string_view("a\xff\"b\xc3\xa9", 6));
  EXPECT_EQ(labels, "caller=\"a\xEF\xBF\xBD\\\"b\xc3\xa9\"");
}

TEST(PrometheusTextTest, MicrosecondsPrintAsExactSeconds) {
  std::string s;
  append_micros_as_seconds(s, 0);
  s += ' ';
  append_micros_as_seconds(s, 1);
  s += ' ';
  append_micros_as_seconds(s, 4096000);
  EXPECT_EQ(s, "0.000000 0.000001 4.096000");
}

}  // namespace
}  // namespace ufc::internal
