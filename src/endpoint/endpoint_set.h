// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/endpoint_set.h: the endpoint side of one service version.

#ifndef UFC_ENDPOINT_ENDPOINT_SET_H_
#define UFC_ENDPOINT_ENDPOINT_SET_H_

#include <cstddef>
#include <vector>

#include "src/endpoint/endpoint.h"

namespace ufc::internal {

// EndpointSet: a service's endpoints in config order and their weights (0 = drained).
//
// Immutable once built and shared: by every snapshot compiled from it (a ban or an unban
// recompiles the candidate sets over the same set), by the ban manager (which keeps one
// record per position) and by the fuse manager (which sums its counters). A config or
// endpoint update builds a new set that shares the Endpoint objects whose address and
// tags stayed, so their live state carries over.
// Thread-safety: immutable; freed on the control path when its last holder lets go.
struct EndpointSet {
  std::vector<EndpointRef> endpoints;
  std::vector<double> weights;

  size_t size() const { return endpoints.size(); }
};

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_ENDPOINT_SET_H_
