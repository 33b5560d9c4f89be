// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/outlier_detector.h"

#include "absl/strings/str_format.h"

namespace ufc::internal {

std::vector<Outlier> find_outliers(const std::vector<IntervalSample>& samples,
                                   const BanPolicy& policy) {
  struct Figures {
    size_t index;
    double share_4xx, share_5xx, latency_us;
  };
  std::vector<Figures> eligible;
  for (size_t i = 0; i < samples.size(); ++i) {
    const IntervalSample& s = samples[i];
    if (s.requests == 0 || s.requests < policy.min_requests) continue;
    const double n = static_cast<double>(s.requests);
    eligible.push_back(Figures{i, s.status_4xx / n, s.status_5xx / n, s.latency_sum_us / n});
  }
  std::vector<Outlier> out;
  if (eligible.size() < 2) return out;
  double sum_4xx = 0, sum_5xx = 0, sum_latency = 0;
  for (const Figures& f : eligible) {
    sum_4xx += f.share_4xx;
    sum_5xx += f.share_5xx;
    sum_latency += f.latency_us;
  }
  const double peers = static_cast<double>(eligible.size() - 1);
  const double floor_us = absl::ToDoubleMicroseconds(policy.latency_floor);
  for (const Figures& f : eligible) {
    // Each backend against the mean of the others: subtract itself from the totals.
    const double peers_4xx = (sum_4xx - f.share_4xx) / peers;
    const double peers_5xx = (sum_5xx - f.share_5xx) / peers;
    const double peers_latency = (sum_latency - f.latency_us) / peers;
    auto share_outlier = [&](double share, double peer_mean) {
      return share >= policy.min_share && share >= policy.factor * peer_mean;
    };
    if (policy.status_4xx && share_outlier(f.share_4xx, peers_4xx)) {
      out.push_back({f.index, absl::StrFormat("4xx share %.1f%% vs peers %.1f%%", 100 * f.share_4xx,
                                              100 * peers_4xx)});
    } else if (policy.status_5xx && share_outlier(f.share_5xx, peers_5xx)) {
      out.push_back({f.index, absl::StrFormat("5xx share %.1f%% vs peers %.1f%%", 100 * f.share_5xx,
                                              100 * peers_5xx)});
    } else if (policy.latency && f.latency_us >= policy.latency_factor * peers_latency &&
               f.latency_us >= peers_latency + floor_us) {
      out.push_back({f.index, absl::StrFormat("latency %.1f ms vs peers %.1f ms",
                                              f.latency_us / 1000, peers_latency / 1000)});
    }
  }
  return out;
}

}  // namespace ufc::internal
