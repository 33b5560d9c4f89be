// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The library built without gRPC (UFC_WITH_GRPC=OFF): no control-server sync.

#include "src/sync/sync_source.h"

namespace ufc::internal {

absl::StatusOr<std::unique_ptr<SyncSource>> SyncSource::create(Options options) {
  return absl::UnimplementedError(
      "ClientOptions::sync: this build of libufc has no gRPC (UFC_WITH_GRPC=OFF)");
}

}  // namespace ufc::internal
