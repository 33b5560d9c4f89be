// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/fusing/shedding.h"

#include <algorithm>

namespace ufc::internal {

ClassShares shed(double d, const ClassShares& mix) {
  ClassShares p{};
  double total = 0;
  for (double m : mix) total += m;
  if (d <= 0) return p;
  if (total <= 0) {
    p.fill(std::min(d, 1.0));
    return p;
  }
  double to_drop = std::min(d, 1.0) * total;
  // Class ids are priority * 2 + retry; the highest id ranks lowest.
  for (int c = kTrafficClasses - 1; c >= 0 && to_drop > 0; --c) {
    if (mix[c] <= 0) continue;
    const double take = std::min(mix[c], to_drop);
    p[c] = take / mix[c];
    to_drop -= take;
  }
  return p;
}

}  // namespace ufc::internal
