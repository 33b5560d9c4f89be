// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/thread_shard.h"

#include <atomic>

namespace ufc::internal::thread_shard_internal {

uint32_t assign() {
  static std::atomic<uint32_t> next{0};
  return shard = next.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff;
}

}  // namespace ufc::internal::thread_shard_internal
