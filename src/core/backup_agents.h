// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/backup_agents.h: the backup cluster as the client sees it (ClientOptions::backup):
// picks for services the client has no config for, asked of a remote agent.
//
// The seam has no gRPC in it. With gRPC it is ufc::AgentClient over the backup list (no
// local agent; src/agent/backup_agents.cc); built without gRPC, create() says
// UNIMPLEMENTED. The client keeps what the agents chose in RemotePicks (remote_picks.h).

#ifndef UFC_CORE_BACKUP_AGENTS_H_
#define UFC_CORE_BACKUP_AGENTS_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ufc/agent_client.h"
#include "ufc/client.h"
#include "ufc/outcome.h"
#include "ufc/pick.h"

namespace ufc::internal {

// BackupAgents: AgentClient's pick and report, backup agents only.
// Thread-safety: thread-safe.
class BackupAgents {
 public:
  virtual ~BackupAgents() = default;
  // INVALID_ARGUMENT naming the bad field of `options` (paths "ClientOptions: backup..."),
  // UNIMPLEMENTED when the library was built without gRPC. Connects to nothing yet.
  static absl::StatusOr<std::unique_ptr<BackupAgents>> create(const BackupOptions& options);

  // AgentClient::pick(): an agent's choice, or its refusal (refusal_of() reads it), or
  // UNAVAILABLE without a Refusal when no agent answered. Blocks for at most about
  // agents x timeout.
  virtual absl::StatusOr<AgentPick> pick(const PickRequest& request) = 0;
  // AgentClient::report(): blocks for at most `timeout`.
  virtual absl::Status report(const AgentPick& pick, const Outcome& outcome) = 0;
};

}  // namespace ufc::internal

#endif  // UFC_CORE_BACKUP_AGENTS_H_
