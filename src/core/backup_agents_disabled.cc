// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The library built without gRPC (UFC_WITH_GRPC=OFF): no backup agents.

#include "src/core/backup_agents.h"

namespace ufc::internal {

absl::StatusOr<std::unique_ptr<BackupAgents>> BackupAgents::create(const BackupOptions& options) {
  return absl::UnimplementedError(
      "ClientOptions: backup: this build of libufc has no gRPC (UFC_WITH_GRPC=OFF)");
}

}  // namespace ufc::internal
