// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/stats/prometheus_text.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/common/utf8.h"

namespace ufc::internal {
namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[absl::numbers_internal::kFastToBufferSize];
  char* end = absl::numbers_internal::FastIntToBuffer(v, buf);
  out.append(buf, static_cast<size_t>(end - buf));
}

void append_escaped(std::string& out, std::string_view v, bool quote) {
  // Most values need no escape: one scan, one append. The format is UTF-8: a value that
  // is not (a header a caller sent) has its bad bytes replaced by U+FFFD, or the whole
  // scrape would be refused.
  bool plain = utf8_invalid_at(v) == std::string_view::npos;
  for (size_t i = 0; plain && i < v.size(); ++i) {
    const char c = v[i];
    plain = c != '\\' && c != '\n' && (c != '"' || !quote);
  }
  if (plain) {
    out.append(v.data(), v.size());
    return;
  }
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      const size_t n = utf8_sequence_length(v.substr(i));
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(v.data() + i, n);
        i += n;
      }
      continue;
    } else {
      out += c;
    }
    ++i;
  }
}

}  // namespace

void append_label(std::string& labels, std::string_view key, std::string_view value) {
  if (!labels.empty()) labels += ',';
  labels.append(key.data(), key.size());
  labels += "=\"";
  append_escaped(labels, value, true);
  labels += '"';
}

void append_micros_as_seconds(std::string& out, uint64_t micros) {
  append_uint(out, micros / 1000000);
  char frac[8] = {'.', 0, 0, 0, 0, 0, 0, 0};
  uint64_t f = micros % 1000000;
  for (int i = 6; i >= 1; --i) {
    frac[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  out.append(frac, 7);
}

MetricFamily::MetricFamily(std::string_view name, std::string_view type, std::string_view help)
    : name_(name) {
  header_ = "# HELP ";
  header_.append(name.data(), name.size());
  header_ += ' ';
  append_escaped(header_, help, false);
  header_ += "\n# TYPE ";
  header_.append(name.data(), name.size());
  header_ += ' ';
  header_.append(type.data(), type.size());
  header_ += '\n';
}

void MetricFamily::start_line(std::string_view suffix, std::string_view labels,
                              std::string_view extra_key, std::string_view extra_value) {
  body_ += name_;
  body_.append(suffix.data(), suffix.size());
  const bool any = !labels.empty() || !extra_key.empty();
  if (any) body_ += '{';
  body_.append(labels.data(), labels.size());
  if (!extra_key.empty()) {
    if (!labels.empty()) body_ += ',';
    body_.append(extra_key.data(), extra_key.size());
    body_ += "=\"";
    append_escaped(body_, extra_value, true);
    body_ += '"';
  }
  if (any) body_ += '}';
  body_ += ' ';
  ++lines_;
}

void MetricFamily::add_line(std::string_view suffix, std::string_view labels,
                            std::string_view extra_key, std::string_view extra_value,
                            uint64_t value) {
  start_line(suffix, labels, extra_key, extra_value);
  append_uint(body_, value);
  body_ += '\n';
}

void MetricFamily::add(std::string_view labels, double value) {
  start_line({}, labels, {}, {});
  if (std::isnan(value)) {
    body_ += "NaN";
  } else if (std::isinf(value)) {
    body_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    absl::StrAppend(&body_, value);
  }
  body_ += '\n';
}

void MetricFamily::set_bucket_bounds(const int64_t* bounds_us, int finite) {
  les_.clear();
  for (int i = 0; i < finite; ++i) {
    // In seconds, trimmed: 0.00025, 0.5, 1, 4.096.
    std::string le;
    append_micros_as_seconds(le, static_cast<uint64_t>(bounds_us[i]));
    while (le.back() == '0') le.pop_back();
    if (le.back() == '.') le.pop_back();
    les_.push_back(std::move(le));
  }
  les_.push_back("+Inf");
  le_suffixes_.clear();
  for (const std::string& le : les_) le_suffixes_.push_back("le=\"" + le + "\"} ");
}

void MetricFamily::add_histogram(std::string_view labels, const uint64_t* buckets,
                                 uint64_t sum_us) {
  uint64_t cumulative = 0;
  // name_bucket{labels,le="..."} n: the prefix is the same for every bucket.
  const size_t before = body_.size();
  body_ += name_;
  body_ += "_bucket{";
  body_.append(labels.data(), labels.size());
  if (!labels.empty()) body_ += ',';
  const std::string prefix = body_.substr(before);
  for (size_t i = 0; i < le_suffixes_.size(); ++i) {
    if (i > 0) body_ += prefix;
    cumulative += buckets[i];
    body_ += le_suffixes_[i];
    append_uint(body_, cumulative);
    body_ += '\n';
  }
  lines_ += le_suffixes_.size();
  start_line("_sum", labels, {}, {});
  append_micros_as_seconds(body_, sum_us);
  body_ += '\n';
  add_line("_count", labels, {}, {}, cumulative);
}

void MetricFamily::append_to(std::string& out) const {
  out += header_;
  out += body_;
}

}  // namespace ufc::internal
