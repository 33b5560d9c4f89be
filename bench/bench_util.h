// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// bench/bench_util.h: what the table-printing benchmarks share: `--name=N` flags and the
// heap in use.

#ifndef UFC_BENCH_BENCH_UTIL_H_
#define UFC_BENCH_BENCH_UTIL_H_

#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace ufc::bench {

// The integer of `--name=N` among the arguments, or `fallback`.
inline int flag(int argc, char** argv, const char* name, int fallback) {
  const size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return std::atoi(argv[i] + n + 1);
  }
  return fallback;
}

// Bytes the allocator has handed out and not taken back (mallinfo2).
inline size_t heap_in_use() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace ufc::bench

#endif  // UFC_BENCH_BENCH_UTIL_H_
