// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/cpu_shard.h"

#include <unistd.h>

#if __has_include(<sys/rseq.h>)  // glibc >= 2.35 registers rseq and exports its offset
#include <sys/rseq.h>
#define UFC_HAVE_RSEQ 1
#endif

#include <algorithm>
#include <cstdlib>

namespace ufc::internal {

CpuShards::Config CpuShards::init() {
  long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
  // UFC_CPU_SHARDS=N overrides (tests and benchmarks that want a fixed layout).
  if (const char* env = std::getenv("UFC_CPU_SHARDS")) cpus = std::atol(env);
  cpus = std::clamp<long>(cpus, 1, kMax);
  uint32_t count = 1;
  while (count < static_cast<uint32_t>(cpus)) count <<= 1;
  Config c{count - 1, 0};
#ifdef UFC_HAVE_RSEQ
  if (__rseq_size >= offsetof(struct rseq, cpu_id) + sizeof(uint32_t)) {
    c.cpu_offset = __rseq_offset + static_cast<ptrdiff_t>(offsetof(struct rseq, cpu_id));
  }
#endif
  return c;
}

}  // namespace ufc::internal
