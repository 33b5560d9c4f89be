// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/admin/traffic_recorder.h: what the agent keeps of each request it served (the
// proxy's, and the gRPC callers' reports): per (caller, service, endpoint) counts by
// outcome, for /metrics (ufc_agent_caller_requests_total: the agent's client sees one
// caller, itself; this is who its callers were), and a sampled JSON-lines access log.
//
// Bounded: at most `max_series` (caller, service, endpoint) keys; attempts of keys beyond
// are counted under caller="_other", service="_other", endpoint="_other" (and in
// ufc_agent_caller_series_overflow_total), so a caller that invents names cannot grow the
// agent's memory or the scrape.
//
// The access log is written by record() itself (one writev on an O_APPEND descriptor,
// for the sampled requests only): on a slow disk a high sample rate slows the proxy's
// loop; keep --access_log_sample low or the log on a local disk.
//
// Thread-safety: record() from any thread (16 mutex shards, no allocation once a key
// exists); metrics_text() from any thread.

#ifndef UFC_AGENTD_ADMIN_TRAFFIC_RECORDER_H_
#define UFC_AGENTD_ADMIN_TRAFFIC_RECORDER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "agentd/access_record.h"
#include "agentd/admin/json_lines.h"
#include "ufc/outcome.h"

namespace ufc_agent::admin {

class TrafficRecorder {
 public:
  struct Options {
    JsonLinesFile* access_log = nullptr;  // none: no access log
    double sample = 0.01;                 // the share of requests logged, [0, 1]
    size_t max_series = 10000;
  };
  explicit TrafficRecorder(Options options);

  void record(const AccessRecord& r);
  std::string metrics_text() const;

  // The access-log line for `r` (exposed for tests).
  static std::string access_json(const AccessRecord& r, absl::Time now);

 private:
  using Counts = std::array<uint64_t, ufc::kOutcomeClassCount>;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Counts> counts ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;
  const Options options_;
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> series_{0};
  std::atomic<uint64_t> overflow_{0};
  std::array<std::atomic<uint64_t>, ufc::kOutcomeClassCount> other_{};  // the _other key
  std::atomic<uint64_t> logged_{0};
};

}  // namespace ufc_agent::admin

#endif  // UFC_AGENTD_ADMIN_TRAFFIC_RECORDER_H_
