// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/sync/server_rotation.h"

#include <algorithm>
#include <random>

namespace ufc::internal {

ServerRotation::ServerRotation(std::vector<ControlServer> servers, const std::string& self_idc,
                               uint64_t seed) {
  std::vector<ControlServer> mine, others;
  for (ControlServer& s : servers) {
    (!self_idc.empty() && s.idc == self_idc ? mine : others).push_back(std::move(s));
  }
  std::mt19937_64 rng(seed);
  std::shuffle(mine.begin(), mine.end(), rng);
  std::shuffle(others.begin(), others.end(), rng);
  preferred_ = mine.size();
  order_ = std::move(mine);
  order_.insert(order_.end(), others.begin(), others.end());
}

bool ServerRotation::failed() {
  if (order_.empty()) return true;
  index_ = (index_ + 1) % order_.size();
  if (++failures_ >= order_.size()) {
    failures_ = 0;
    index_ = 0;  // every round starts with the client's own IDC
    return true;
  }
  return false;
}

}  // namespace ufc::internal
