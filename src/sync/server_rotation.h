// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/sync/server_rotation.h: which control server to try next.
//
// Servers in the client's own IDC come first, the others after them; within each group
// the order is shuffled by a seed (so a fleet does not pile onto one server) and then
// fixed. A failure moves to the next server; once every server has failed in a row, the
// round is over and the caller backs off before the next. A success ends the round.

#ifndef UFC_SYNC_SERVER_ROTATION_H_
#define UFC_SYNC_SERVER_ROTATION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ufc/sync.h"

namespace ufc::internal {

class ServerRotation {
 public:
  ServerRotation(std::vector<ControlServer> servers, const std::string& self_idc, uint64_t seed);

  const ControlServer& current() const { return order_[index_]; }
  // The current server failed: move on. True when that completed a round of failures
  // (every server failed since the last success): back off before the next try.
  bool failed();
  // The current server answered.
  void succeeded() { failures_ = 0; }
  // Whether the current server is in the client's IDC, and whether any server is.
  bool current_preferred() const { return index_ < preferred_; }
  bool has_preferred() const { return preferred_ > 0; }
  // Back to the first preferred server (a recheck from another IDC's server).
  void restart() {
    index_ = 0;
    failures_ = 0;
  }
  size_t size() const { return order_.size(); }

 private:
  std::vector<ControlServer> order_;
  size_t preferred_ = 0;  // order_[0, preferred_) are in the client's IDC
  size_t index_ = 0;
  size_t failures_ = 0;
};

}  // namespace ufc::internal

#endif  // UFC_SYNC_SERVER_ROTATION_H_
