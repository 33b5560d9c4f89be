// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/service/service_stats.h: what a snapshot tells about its service, as stats structs.

#ifndef UFC_SERVICE_SERVICE_STATS_H_
#define UFC_SERVICE_SERVICE_STATS_H_

#include <cstdint>
#include <vector>

#include "src/service/service_snapshot.h"
#include "src/stats/client_stats.h"

namespace ufc::internal {

// Every report `endpoint` has counted, by class (a sum over its CPU shards).
OutcomeCounts counts_of(const Endpoint& endpoint);

// Fills `out`'s identity (name, version, policy), endpoint counts, the reports and
// in-flight picks of the snapshot's endpoints, and when it was applied; raises
// `last_report_ns` to the newest report among them. Adds to the counts already in `out`.
void add_snapshot_stats(const ServiceSnapshot& snapshot, int64_t now_ns, ServiceStats& out,
                        int64_t& last_report_ns);

// Each endpoint of the snapshot, with `bans` (parallel to its EndpointSet; missing ones
// read as in rotation).
std::vector<EndpointStats> endpoint_stats(const ServiceSnapshot& snapshot,
                                          const std::vector<BanStats>& bans);

// The snapshot's rules (with their match counts) and candidate sets.
RoutingStats routing_stats(const ServiceSnapshot& snapshot);

}  // namespace ufc::internal

#endif  // UFC_SERVICE_SERVICE_STATS_H_
