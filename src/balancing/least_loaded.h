// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/balancing/least_loaded.h: "least_loaded" — power of two choices on in-flight
// requests and latency.

#ifndef UFC_BALANCING_LEAST_LOADED_H_
#define UFC_BALANCING_LEAST_LOADED_H_

#include <cstdint>
#include <vector>

#include "src/balancing/balancer.h"
#include "src/endpoint/endpoint.h"

namespace ufc::internal {

// LeastLoaded: draws two distinct endpoints at random and takes the one with the lower
// cost = (in-flight + 1) x latency EWMA / weight (Mitzenmacher, "The power of two choices
// in randomized load balancing", 2001; the cost is Finagle's "peak EWMA" idea with
// in-flight as the load). Ties go to fewer in flight.
//
// An endpoint with no report for `idle_reset` counts as zero latency, so one that was
// slow once is tried again instead of starved forever; its EWMA then weights the fresh
// sample by the silence (see Endpoint::on_report).
// The load it sees is the calling CPU's view (Endpoint::inflight(shard) and its latency
// EWMA): each core balances the requests it started, as each client of a fleet balances
// on its own view. A global view would read lines other cores write on every pick, which
// costs more than the choice gains at two threads (bench/thread_scaling). Only when this
// CPU has no fresh latency for a candidate does it borrow another CPU's.
// Cost: one random draw, two endpoints and their per-CPU records; no shared writes.
class LeastLoaded final : public Balancer {
 public:
  LeastLoaded(absl::Span<const WeightedEndpoint> endpoints, int64_t idle_reset_ns);
  Endpoint* pick(const PickContext& context) const override;
  size_t memory_bytes() const override { return candidates_.capacity() * sizeof(Candidate); }

 private:
  struct Candidate {
    Endpoint* endpoint;
    float inverse_weight;  // normalized so the largest weight is 1
  };
  // `stats`: c.endpoint->stats_base().
  float cost(const Candidate& c, const ShardStats* stats, uint32_t shard, uint32_t now_tick) const;
  // The freshest latency EWMA among the other CPUs' views; 0 if none is fresh.
  float borrowed_latency(const ShardStats* stats, uint32_t shard, uint32_t now_tick) const;

  std::vector<Candidate> candidates_;
  int32_t idle_reset_ticks_;  // CoarseTicks (~1.05 ms)
};

}  // namespace ufc::internal

#endif  // UFC_BALANCING_LEAST_LOADED_H_
