// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/thread_shard.h"

#include <atomic>

namespace ufc::internal {
namespace {
std::atomic<uint32_t> next_shard{0};
thread_local uint32_t tls_shard = UINT32_MAX;
}  // namespace

uint32_t thread_shard() {
  uint32_t s = tls_shard;
  if (__builtin_expect(s == UINT32_MAX, 0)) {
    s = tls_shard = next_shard.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff;
  }
  return s;
}

}  // namespace ufc::internal
