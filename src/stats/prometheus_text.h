// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/stats/prometheus_text.h: the Prometheus text exposition format (0.0.4), written
// family by family.
//
// The format wants each family's samples together, after its # HELP and # TYPE lines,
// while the natural walk is endpoint by endpoint; so a MetricFamily gathers its own lines
// and the caller appends the families in order at the end:
//
//   MetricFamily requests("ufc_requests_total", "counter", "Reports, by outcome.");
//   std::string labels;
//   append_label(labels, "service", name);            // service="..."
//   requests.add(labels, "outcome", "ok", 42);         //
//   ufc_requests_total{service="..",outcome="ok"} 42 requests.append_to(out);
//
// Cost: an append per sample, no formatting library; numbers by absl's fast converters.
// Thread-safety: none (a value type).

#ifndef UFC_STATS_PROMETHEUS_TEXT_H_
#define UFC_STATS_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ufc::internal {

// Appends `key="value"` to `labels` (a comma first unless empty), escaping \, " and
// newlines in the value as the format requires.
void append_label(std::string& labels, std::string_view key, std::string_view value);

// Appends a non-negative amount of microseconds as seconds with six decimals (exact).
void append_micros_as_seconds(std::string& out, uint64_t micros);

class MetricFamily {
 public:
  // `name`: the family ("ufc_requests_total"; a histogram's base name without suffix);
  // `type`: counter, gauge or histogram.
  MetricFamily(std::string_view name, std::string_view type, std::string_view help);

  // name{labels} value, and name{labels,extra_key="extra_value"} value.
  void add(std::string_view labels, uint64_t value) { add_line({}, labels, {}, {}, value); }
  void add(std::string_view labels, double value);
  void add(std::string_view labels, std::string_view extra_key, std::string_view extra_value,
           uint64_t value) {
    add_line({}, labels, extra_key, extra_value, value);
  }
  // A histogram family's upper bounds, in microseconds, `finite` of them; +Inf follows.
  void set_bucket_bounds(const int64_t* bounds_us, int finite);
  // A histogram's series: `buckets[i]` (finite + 1 of them) counts the samples with
  // bound(i-1) < x <= bound(i), the last everything above. Writes the cumulative _bucket
  // lines, _sum (from microseconds) and _count.
  void add_histogram(std::string_view labels, const uint64_t* buckets, uint64_t sum_us);

  bool empty() const { return lines_ == 0; }
  // # HELP, # TYPE and the lines; a family without samples writes its header only.
  void append_to(std::string& out) const;
  size_t lines() const { return lines_; }
  size_t bytes() const { return header_.size() + body_.size(); }

 private:
  void add_line(std::string_view suffix, std::string_view labels, std::string_view extra_key,
                std::string_view extra_value, uint64_t value);
  void start_line(std::string_view suffix, std::string_view labels, std::string_view extra_key,
                  std::string_view extra_value);

  std::string name_;
  std::vector<std::string> les_;          // a histogram's `le` values, "+Inf" last
  std::vector<std::string> le_suffixes_;  // le="..."} for each
  std::string header_;
  std::string body_;
  size_t lines_ = 0;
};

}  // namespace ufc::internal

#endif  // UFC_STATS_PROMETHEUS_TEXT_H_
