// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/outlier_detector.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/endpoint/failure_window.h"

namespace ufc::internal {
namespace {

double clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

// Each enabled signal of `own` against the peers' means; the most severe outlier.
std::optional<Outlier> judge(double share_4xx, double share_5xx, double latency_us,
                             const PeerMeans& peers, const BanPolicy& policy, size_t index) {
  std::optional<Outlier> worst;
  auto consider = [&](double severity, std::string reason) {
    if (!worst.has_value() || severity > worst->severity) {
      worst = Outlier{index, std::move(reason), clamp01(severity)};
    }
  };
  auto share_outlier = [&](double share, double peer_mean) {
    return share >= policy.min_share && share >= policy.factor * peer_mean;
  };
  if (policy.status_4xx && share_outlier(share_4xx, peers.share_4xx)) {
    consider(share_4xx - peers.share_4xx, absl::StrFormat("4xx share %.1f%% vs peers %.1f%%",
                                                          100 * share_4xx, 100 * peers.share_4xx));
  }
  if (policy.status_5xx && share_outlier(share_5xx, peers.share_5xx)) {
    consider(share_5xx - peers.share_5xx, absl::StrFormat("5xx share %.1f%% vs peers %.1f%%",
                                                          100 * share_5xx, 100 * peers.share_5xx));
  }
  const double floor_us = absl::ToDoubleMicroseconds(policy.latency_floor);
  if (policy.latency && latency_us > 0 && latency_us >= policy.latency_factor * peers.latency_us &&
      latency_us >= peers.latency_us + floor_us) {
    consider((latency_us - peers.latency_us) / latency_us,
             absl::StrFormat("latency %.1f ms vs peers %.1f ms", latency_us / 1000,
                             peers.latency_us / 1000));
  }
  return worst;
}

std::string window_reason(uint64_t window, uint32_t rule) {
  const uint32_t k = WindowRule::consecutive(rule);
  if (k != 0 && FailureWindow::run(window) >= k) {
    return absl::StrCat(FailureWindow::run(window), " consecutive transport failures");
  }
  return absl::StrCat(FailureWindow::failures(window), " transport failures in the last ",
                      WindowRule::window(rule), " attempts");
}

}  // namespace

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
  for (const Figures& f : eligible) {
    // Each backend against the mean of the others: subtract itself from the totals.
    const PeerMeans means{(sum_4xx - f.share_4xx) / peers, (sum_5xx - f.share_5xx) / peers,
                          (sum_latency - f.latency_us) / peers};
    if (std::optional<Outlier> o =
            judge(f.share_4xx, f.share_5xx, f.latency_us, means, policy, f.index)) {
      out.push_back(*std::move(o));
    }
  }
  // Worst first, ties in config order. (Not std::stable_sort: it takes a temporary
  // buffer from the heap where std::sort with the index as tiebreak needs none.)
  std::sort(out.begin(), out.end(), [](const Outlier& a, const Outlier& b) {
    return a.severity != b.severity ? a.severity > b.severity : a.index < b.index;
  });
  return out;
}

std::optional<Outlier> judge_probation(const IntervalSample& own, const PeerMeans& peers,
                                       const BanPolicy& policy) {
  if (own.requests == 0) return std::nullopt;
  BanPolicy half = policy;
  half.min_share = policy.min_share / 2;
  half.factor = 1 + (policy.factor - 1) / 2;
  half.latency_factor = 1 + (policy.latency_factor - 1) / 2;
  half.latency_floor = policy.latency_floor / 2;
  const double n = static_cast<double>(own.requests);
  return judge(own.status_4xx / n, own.status_5xx / n, own.latency_sum_us / n, peers, half, 0);
}

void ServiceWindows::add(uint64_t window, double recent_failures, double recent_requests) {
  ++by_failures_[std::min<uint32_t>(FailureWindow::failures(window), 56)];
  if (FailureWindow::tripped(window, rule_)) {
    ++tripped_;
  } else {
    ++clear_;
    clear_failures_ += recent_failures;
    clear_requests_ += recent_requests;
  }
}

WindowPeers ServiceWindows::peers_of(uint64_t window, double recent_failures,
                                     double recent_requests, bool member) const {
  WindowPeers p;
  const bool tripped = FailureWindow::tripped(window, rule_);
  const uint32_t own = std::min<uint32_t>(FailureWindow::failures(window), 56);
  p.clear = clear_ - (member && !tripped ? 1 : 0);
  p.tripped = tripped_ - (member && tripped ? 1 : 0);
  double failures = clear_failures_, requests = clear_requests_;
  if (member && !tripped) {
    failures -= recent_failures;
    requests -= recent_requests;
  }
  const double recent = requests > 0 ? std::max(0.0, failures) / requests : 0;
  const uint32_t m = p.size();
  if (m == 0) {
    p.rate = recent;
    return p;
  }
  // The lowest `keep` windows, from the histogram (less its own window, if a member).
  const uint32_t keep = m - m / 4;
  uint32_t taken = 0;
  double sum = 0;
  for (uint32_t f = 0; f <= 56 && taken < keep; ++f) {
    const uint32_t here = by_failures_[f] - (member && f == own ? 1 : 0);
    const uint32_t take = std::min(here, keep - taken);
    sum += static_cast<double>(f) * take;
    taken += take;
  }
  const double n = std::max<uint32_t>(WindowRule::window(rule_), 1);
  p.rate = std::max(recent, sum / keep / n);
  return p;
}

double binomial_tail(uint32_t k, uint32_t n, double p) {
  if (k == 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // Terms from i = k up: C(n, i) p^i (1-p)^(n-i), in logs so that n = 56 cannot overflow.
  const double lp = std::log(p), lq = std::log1p(-p);
  double sum = 0;
  for (uint32_t i = k; i <= n; ++i) {
    const double log_c = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0);
    sum += std::exp(log_c + i * lp + (n - i) * lq);
  }
  return std::min(1.0, sum);
}

std::optional<Outlier> judge_trip(uint64_t window, uint32_t rule, const WindowPeers& peers,
                                  std::string* why) {
  const uint32_t n = WindowRule::window(rule);
  const uint32_t failures = FailureWindow::failures(window);
  const uint32_t k = WindowRule::consecutive(rule);
  // A run of `consecutive` failures: everything it got lately failed.
  const double share = k != 0 && FailureWindow::run(window) >= k
                           ? 1.0
                           : static_cast<double>(failures) / std::max<uint32_t>(n, 1);
  std::string reason = window_reason(window, rule);
  if (peers.size() == 0) {
    return Outlier{0, std::move(reason), clamp01(share)};
  }
  if (peers.alike()) {
    if (why != nullptr) {
      *why = absl::StrCat(reason, ", like its peers: ", peers.tripped, " of ", peers.size(),
                          " tripped too");
    }
    return std::nullopt;
  }
  const double p = peers.rate;
  if (binomial_tail(failures, n, p) >= kTripSignificance) {
    if (why != nullptr) {
      *why = absl::StrFormat("%s, not far enough off its peers' %.1f%%", reason, 100 * p);
    }
    return std::nullopt;
  }
  return Outlier{0, std::move(reason), clamp01(share - p)};
}

uint32_t min_trip_failures(double peer_share, uint32_t rule) {
  const uint32_t n = WindowRule::window(rule);
  for (uint32_t f = 1; f <= n; ++f) {
    if (binomial_tail(f, n, peer_share) < kTripSignificance) return f;
  }
  return 255;
}

}  // namespace ufc::internal
