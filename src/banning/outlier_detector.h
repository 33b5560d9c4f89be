// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/banning/outlier_detector.h: which backends differ from their peers — by business
// signal over an interval or a probation, and by request when a failure window trips —
// and how severely, on one scale for every detector. Pure functions, no state.

#ifndef UFC_BANNING_OUTLIER_DETECTOR_H_
#define UFC_BANNING_OUTLIER_DETECTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/banning/ban_policy.h"

namespace ufc::internal {

// What one backend did during the interval.
struct IntervalSample {
  uint64_t requests = 0;
  uint64_t status_4xx = 0;
  uint64_t status_5xx = 0;
  double latency_sum_us = 0;  // over all `requests`
};

// Severity: how much of a backend's traffic is bad beyond what its peers show, in [0, 1],
// the same scale for every detector, so that the max ratio's slots go to the worst:
//   status share (4xx, 5xx):  share - peers' share          (100% 404 vs 2%: 0.98)
//   latency:                  (latency - peers') / latency  (250 ms vs 10 ms: 0.96)
//   transport failures:       share - peers' share, where a run of `consecutive`
//                             failures counts as 100% (a closed port: 1.0)
// A 60%-500 backend among clean peers is 0.6: milder than a dead, an always-404 or a
// 25x-slow one.
struct Outlier {
  size_t index = 0;     // into the samples
  std::string reason;   // e.g. "4xx share 100.0% vs peers 2.0%"
  double severity = 0;  // see above
};

// find_outliers() compares each backend that has at least `min_requests` with the mean of
// the *other* such backends (its own figures would dilute the mean it is compared to).
// A backend is an outlier when, for an enabled signal:
//   share >= min_share and share >= factor x peers' mean share      (4xx, 5xx), or
//   latency >= latency_factor x peers' mean and >= peers' mean + latency_floor.
// When several signals hold, the most severe one is reported. A single error proves
// nothing; a backend unlike its peers does; a service whose backends all fail alike has
// no outlier (that is fusing's business). With fewer than two eligible backends there is
// nothing to compare, so nothing is reported. The result is sorted by severity, worst
// first (ties by index). Cost: O(samples).
std::vector<Outlier> find_outliers(const std::vector<IntervalSample>& samples,
                                   const BanPolicy& policy);

// The peers' means one backend is compared with: shares of requests, mean latency.
struct PeerMeans {
  double share_4xx = 0;
  double share_5xx = 0;
  double latency_us = 0;
};

// judge_probation() decides whether a backend back on probation is still bad: its
// requests since it came back (`own.requests` > 0) against what its peers did meanwhile,
// with find_outliers' test at half the bar (min_share / 2; factor, latency_factor and
// latency_floor halved towards 1x and 0): to be let back, a backend must be clearly
// better than what got it banned, which a few dozen requests can tell (a 60%-5xx backend
// shows under 25% in 20 requests about once in 3,000 probations) while a recovered one,
// like its peers, passes. The outlier, or nullopt when it passes.
std::optional<Outlier> judge_probation(const IntervalSample& own, const PeerMeans& peers,
                                       const BanPolicy& policy);

// --- Detection by request: a tripped failure window against the peers' windows ---

// A tripped endpoint's peers (the other in-rotation, weight > 0 endpoints), as judge_trip
// sees them.
struct WindowPeers {
  uint32_t clear = 0;    // windows that have not tripped the rule
  uint32_t tripped = 0;  // windows that have
  // Their failure rate: the larger of (a) the mean window share (failures / window) of the
  // lowest three quarters of them (rounded up) and (b) the pooled transport-failure share
  // of the clear ones over the last seconds, from their counters. The windows are current
  // (an incident that began a moment ago shows in them), and trimming them lets a few
  // peers failing at the same moment (two backends of ten dying together) not hide each
  // other; the counters are precise where ten outcomes a peer are not (a service failing
  // 10%), and a peer whose window tripped is left out of them (its counts are its death).
  double rate = 0;
  uint32_t size() const { return clear + tripped; }
  // Most of them tripped too: the service fails as a whole.
  bool alike() const { return tripped > clear; }
};

// ServiceWindows: every in-rotation, weight > 0 endpoint's window of one service (and its
// recent counts), gathered once per pass as a histogram of failure counts, so that each
// tripped endpoint's peers — everyone but itself — cost O(window), not O(endpoints).
// A plain value; not thread-safe.
class ServiceWindows {
 public:
  explicit ServiceWindows(uint32_t rule) : rule_(rule) {}
  // One endpoint's window and its recent transport failures and requests (decayed).
  void add(uint64_t window, double recent_failures = 0, double recent_requests = 0);
  // The peers of an endpoint whose window (and recent counts) are these: everyone added
  // but itself when it was added (`member`), everyone when not.
  WindowPeers peers_of(uint64_t window, double recent_failures, double recent_requests,
                       bool member) const;

 private:
  uint32_t rule_;
  uint32_t by_failures_[57] = {};  // windows by their failure count (window <= 56)
  uint32_t clear_ = 0, tripped_ = 0;
  double clear_failures_ = 0, clear_requests_ = 0;
};

// How improbable a tripped window must be under its peers' failure rate to make an
// outlier: the binomial tail P(>= its failures | window, peers' rate) below this.
inline constexpr double kTripSignificance = 1e-6;

// P(X >= k) for X ~ Binomial(n, p), summed exactly; n <= 64.
double binomial_tail(uint32_t k, uint32_t n, double p);

// judge_trip() decides whether `window`, which tripped `rule`, is far worse than its
// peers' (the *others'*) windows, or just the service failing alike:
//  * no peers at all (a lone endpoint): judged alone, by the rule;
//  * more peers tripped than not: the service fails as a whole, no outlier (fusing's job);
//  * else an outlier when its failures are improbable at the peers' rate p (see above):
//    binomial_tail(failures, window, p) < kTripSignificance. With clean peers (p = 0)
//    that is the rule itself (a refusing backend is banned at its 5th refusal); at
//    p = 10% a dead backend is banned at 8 failures of 10; at p >= 25% never (a window of
//    10 cannot be improbable enough), so a 50%-failing service bans nobody.
// nullopt when not an outlier; `why` (if given) then says why. Cost: O(window).
std::optional<Outlier> judge_trip(uint64_t window, uint32_t rule, const WindowPeers& peers,
                                  std::string* why = nullptr);

// min_trip_failures() is what report() may act on before judge_trip runs
// (endpoint/trip_gate.h): the fewest failures in a tripped window that judge_trip would
// call an outlier at the peers' failure share `peer_share`; 255 when none would.
uint32_t min_trip_failures(double peer_share, uint32_t rule);

}  // namespace ufc::internal

#endif  // UFC_BANNING_OUTLIER_DETECTOR_H_
