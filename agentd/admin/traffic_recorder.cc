// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/admin/traffic_recorder.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/time/clock.h"
#include "src/stats/json_writer.h"
#include "src/stats/prometheus_text.h"

namespace ufc_agent::admin {
namespace {

constexpr std::string_view kOther = "_other";

// The key: caller, service and endpoint joined by '\0' (none of them holds one).
void make_key(std::string& key, std::string_view caller, std::string_view service,
              std::string_view endpoint) {
  key.clear();
  key.append(caller.data(), caller.size());
  key += '\0';
  key.append(service.data(), service.size());
  key += '\0';
  key.append(endpoint.data(), endpoint.size());
}

// A fast per-thread draw in [0, 1) for sampling (xorshift64*).
double draw() {
  thread_local uint64_t s =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      reinterpret_cast<uintptr_t>(&s) ^ 0x9E3779B97F4A7C15ull;
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return static_cast<double>((s * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

int64_t micros(absl::Duration d) { return absl::ToInt64Microseconds(d); }

}  // namespace

TrafficRecorder::TrafficRecorder(Options options) : options_(options) {}

void TrafficRecorder::record(const AccessRecord& r) {
  thread_local std::string key;
  const std::string_view caller = r.caller.empty() ? std::string_view("unknown") : r.caller;
  // The inbound hop's requests come from remote agents, which strip the x-ufc-* headers:
  // no caller or service to count them by (their callers' agents count them).
  const bool count = r.via != "inbound";
  for (const AccessAttempt& a : r.attempts) {
    if (!count) break;
    make_key(key, caller, r.service, a.backend);
    Shard& shard = shards_[absl::HashOf(key) % kShards];
    absl::MutexLock lock(&shard.mu);
    auto it = shard.counts.find(key);
    if (it == shard.counts.end()) {
      if (series_.load(std::memory_order_relaxed) >= options_.max_series) {
        overflow_.fetch_add(1, std::memory_order_relaxed);
        other_[static_cast<int>(a.outcome)].fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      series_.fetch_add(1, std::memory_order_relaxed);
      it = shard.counts.emplace(key, Counts{}).first;
    }
    ++it->second[static_cast<int>(a.outcome)];
  }
  if (options_.access_log != nullptr && options_.sample > 0 &&
      (options_.sample >= 1 || draw() < options_.sample)) {
    logged_.fetch_add(1, std::memory_order_relaxed);
    options_.access_log->write(access_json(r, absl::Now()));
  }
}

std::string TrafficRecorder::access_json(const AccessRecord& r, absl::Time now) {
  ufc::internal::JsonWriter w;
  w.begin_object();
  w.key("time").value(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone()));
  w.key("via").value(r.via);
  w.key("caller").value(r.caller);
  w.key("service").value(r.service);
  if (!r.method.empty()) w.key("method").value(r.method);
  if (!r.path.empty()) w.key("path").value(r.path.substr(0, 512));
  if (r.status != 0) w.key("status").value(r.status);
  if (!r.reason.empty()) w.key("reason").value(r.reason);
  w.key("duration_us").value(micros(r.duration));
  if (r.deadline_left) w.key("deadline_left_us").value(micros(*r.deadline_left));
  if (!r.trace_id.empty()) w.key("trace_id").value(r.trace_id.substr(0, 256));
  w.key("attempts").begin_array();
  for (const AccessAttempt& a : r.attempts) {
    w.begin_object();
    w.key("backend").value(a.backend);
    w.key("outcome").value(ufc::outcome_class_name(a.outcome));
    if (a.status != 0) w.key("status").value(a.status);
    w.key("latency_us").value(micros(a.latency));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

std::string TrafficRecorder::metrics_text() const {
  using ufc::internal::MetricFamily;
  // Sorted, so that a scrape reads stably.
  std::map<std::string, Counts> all;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (const auto& [k, c] : shard.counts) all.emplace(k, c);
  }
  {
    Counts other{};
    for (int c = 0; c < ufc::kOutcomeClassCount; ++c) {
      other[c] = other_[c].load(std::memory_order_relaxed);
    }
    if (overflow_.load(std::memory_order_relaxed) > 0) {
      std::string key;
      make_key(key, kOther, kOther, kOther);
      all.emplace(key, other);
    }
  }
  MetricFamily requests("ufc_agent_caller_requests_total", "counter",
                        "Attempts the agent's callers made through it, by outcome.");
  std::string labels;
  for (const auto& [key, counts] : all) {
    const size_t a = key.find('\0');
    const size_t b = key.find('\0', a + 1);
    labels.clear();
    ufc::internal::append_label(labels, "caller", std::string_view(key).substr(0, a));
    ufc::internal::append_label(labels, "service", std::string_view(key).substr(a + 1, b - a - 1));
    ufc::internal::append_label(labels, "endpoint", std::string_view(key).substr(b + 1));
    for (int c = 0; c < ufc::kOutcomeClassCount; ++c) {
      if (counts[c] != 0 || c == 0)
        requests.add(labels, "outcome", ufc::outcome_class_name(static_cast<ufc::OutcomeClass>(c)),
                     counts[c]);
    }
  }
  MetricFamily overflow("ufc_agent_caller_series_overflow_total", "counter",
                        "Attempts counted under _other: more (caller, service, endpoint) keys "
                        "than the agent keeps.");
  overflow.add("", overflow_.load(std::memory_order_relaxed));
  MetricFamily logged("ufc_agent_access_log_lines_total", "counter",
                      "Requests written to the access log (sampled).");
  logged.add("", logged_.load(std::memory_order_relaxed));
  std::string out;
  if (!requests.empty()) requests.append_to(out);
  overflow.append_to(out);
  if (options_.access_log != nullptr) {
    logged.append_to(out);
    MetricFamily dropped("ufc_agent_access_log_dropped_total", "counter",
                         "Access-log lines a failed write dropped.");
    dropped.add("", options_.access_log->dropped());
    dropped.append_to(out);
  }
  return out;
}

}  // namespace ufc_agent::admin
