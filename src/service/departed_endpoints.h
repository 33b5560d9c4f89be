// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/service/departed_endpoints.h: endpoints that left a service, still counted.

#ifndef UFC_SERVICE_DEPARTED_ENDPOINTS_H_
#define UFC_SERVICE_DEPARTED_ENDPOINTS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "src/endpoint/endpoint.h"
#include "src/service/service_stats.h"
#include "src/stats/client_stats.h"

namespace ufc::internal {

// DepartedEndpoints: Picks made before an endpoint left the config may still report to it,
// so its live counts stay in the service's totals for kGrace; after that its counts are
// folded into a sum and the endpoint let go.
// Thread-safety: none; the owner's config mutex guards it.
class DepartedEndpoints {
 public:
  static constexpr absl::Duration kGrace = absl::Seconds(60);

  void add(EndpointRef endpoint, int64_t now_ns) {
    live_.push_back(Departed{std::move(endpoint), now_ns});
  }
  // Folds the endpoints that left more than kGrace before `now_ns`.
  void expire(int64_t now_ns) {
    const int64_t cutoff = now_ns - absl::ToInt64Nanoseconds(kGrace);
    auto expired = std::partition(live_.begin(), live_.end(),
                                  [cutoff](const Departed& d) { return d.since_ns > cutoff; });
    for (auto it = expired; it != live_.end(); ++it) folded_ += counts_of(*it->endpoint);
    live_.erase(expired, live_.end());
  }
  // Adds every report to departed endpoints, their in-flight picks (unless `inflight` is
  // nullptr) and their latest report.
  void add_to(OutcomeCounts& counts, uint64_t* inflight, int64_t& last_report_ns,
              int64_t now_ns) const {
    counts += folded_;
    for (const Departed& d : live_) {
      counts += counts_of(*d.endpoint);
      if (inflight != nullptr) *inflight += d.endpoint->inflight();
      last_report_ns = std::max(last_report_ns, d.endpoint->last_report_ns(now_ns));
    }
  }

 private:
  struct Departed {
    EndpointRef endpoint;
    int64_t since_ns;
  };
  std::vector<Departed> live_;
  OutcomeCounts folded_;
};

}  // namespace ufc::internal

#endif  // UFC_SERVICE_DEPARTED_ENDPOINTS_H_
