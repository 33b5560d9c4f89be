// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/balancing/endpoints_fixture.h: endpoints for policy tests, without a Client.

#ifndef UFC_TESTS_BALANCING_ENDPOINTS_FIXTURE_H_
#define UFC_TESTS_BALANCING_ENDPOINTS_FIXTURE_H_

#include <map>
#include <string>
#include <vector>

#include "src/balancing/balancer.h"
#include "src/endpoint/endpoint.h"

namespace ufc::internal {

// Owns n endpoints "10.0.<i/256>.<i%256>:80" and offers them with the given weights.
class EndpointsFixture {
 public:
  explicit EndpointsFixture(std::vector<double> weights) {
    for (size_t i = 0; i < weights.size(); ++i) {
      EndpointIdentity id;
      id.address = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":80";
      id.port = 80;
      owned_.push_back(EndpointRef::adopt(new Endpoint(std::move(id))));
      candidates_.push_back(WeightedEndpoint{owned_.back().get(), weights[i]});
      index_[owned_.back().get()] = static_cast<int>(i);
    }
  }
  static EndpointsFixture uniform(int n) { return EndpointsFixture(std::vector<double>(n, 1.0)); }

  absl::Span<const WeightedEndpoint> candidates() const { return candidates_; }
  Endpoint* at(int i) const { return owned_[i].get(); }
  int index_of(const Endpoint* e) const { return index_.at(e); }
  size_t size() const { return owned_.size(); }

 private:
  std::vector<EndpointRef> owned_;
  std::vector<WeightedEndpoint> candidates_;
  std::map<const Endpoint*, int> index_;
};

}  // namespace ufc::internal

#endif  // UFC_TESTS_BALANCING_ENDPOINTS_FIXTURE_H_
