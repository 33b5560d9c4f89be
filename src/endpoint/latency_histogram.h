// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/latency_histogram.h: the per-CPU latency histogram of an endpoint, which
// report fills and metrics read. Fixed buckets, so that filling one is an index
// computation and one store.

#ifndef UFC_ENDPOINT_LATENCY_HISTOGRAM_H_
#define UFC_ENDPOINT_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace ufc::internal {

// Buckets: upper bounds of 250 us x 2^i, i = 0..14 (250 us ... 4.096 s), and one for
// everything above. A sample lands in the first bucket whose bound it does not exceed
// (Prometheus' `le`).
inline constexpr int kLatencyBuckets = 16;
inline constexpr int64_t kLatencyBucketBaseUs = 250;

// The bucket of a latency in microseconds (negative counts as 0). Cost: a multiply, a
// shift, a count of leading zeros and a clamp; no branch.
inline uint32_t latency_bucket(int64_t us) {
  const uint64_t u = us > 0 ? static_cast<uint64_t>(us) : 0;
  const uint64_t below = u - (u != 0);  // us - 1, or 0
  // floor((us - 1) / 250) by a multiply: exact below about 6 s, and never below the true
  // quotient above (so past the last bound, 4.096 s, the bucket is still the last); the
  // product stays in 64 bits below about 49 days.
  const uint64_t q = (below * 4294968u) >> 30;
  // q's bit width, without a branch for q = 0: floor(log2(2q + 1)).
  const uint32_t b = 63u - static_cast<uint32_t>(__builtin_clzll(2 * q + 1));
  return b < kLatencyBuckets - 1 ? b : kLatencyBuckets - 1;
}

// Bucket i's upper bound in microseconds (i < kLatencyBuckets - 1; the last is +Inf).
constexpr int64_t latency_bucket_bound_us(int i) { return kLatencyBucketBaseUs << i; }

// One CPU shard's buckets for one endpoint: two cache lines, in a ShardArena.
struct LatencyBuckets {
  std::atomic<uint64_t> n[kLatencyBuckets] = {};

  // Counts one sample. A plain load and store (an atomic add would cost more than the
  // rest of the histogram): two reports racing on one shard, a thread preempted between
  // the two, may lose one sample, as the shard's latency sum may.
  void add(int64_t latency_us) {
    std::atomic<uint64_t>& c = n[latency_bucket(latency_us)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};
static_assert(sizeof(LatencyBuckets) == 128, "the per-endpoint, per-CPU cost of a histogram");

// The sum of an endpoint's shards, for metrics.
using LatencyCounts = std::array<uint64_t, kLatencyBuckets>;

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_LATENCY_HISTOGRAM_H_
