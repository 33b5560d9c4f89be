// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/balancing/balancer.h"

#include <algorithm>

namespace ufc::internal {

Endpoint* pick_again(const Balancer& balancer, PickContext& context, size_t candidates,
                     Endpoint* refused) {
  if (refused->admits(context.random)) return refused;
  // A round robin moves on one endpoint per try, so as many tries as candidates find the
  // one admitting endpoint there is; holds are bounded by the max ratio, so random
  // policies need a few. Past 64 the service is in a transient no snapshot shows yet.
  const size_t tries = std::min<size_t>(candidates, 64);
  Endpoint* e = refused;
  for (size_t t = 0; t < tries; ++t) {
    ++context.attempt;
    e = balancer.pick(context);
    if (e->admission() == 0 || e->admits(context.random)) return e;
  }
  return e;
}

}  // namespace ufc::internal
