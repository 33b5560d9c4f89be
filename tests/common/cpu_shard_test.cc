// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// cpu_shard() must name the CPU the thread runs on: pinned to each CPU in turn, the
// thread must read that CPU's shard (a wrong rseq offset would read a constant instead).

#include "src/common/cpu_shard.h"

#include <sched.h>

#include <vector>

#include "gtest/gtest.h"

namespace ufc::internal {
namespace {

TEST(CpuShardTest, ShardCountIsAPowerOfTwoWithinTheCap) {
  const uint32_t n = CpuShards::count();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, CpuShards::kMax);
  EXPECT_EQ(n & (n - 1), 0u);
}

TEST(CpuShardTest, FollowsTheCpuTheThreadIsPinnedTo) {
  if (CpuShards::config().cpu_offset == 0) GTEST_SKIP() << "rseq is not registered here";
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE && cpus.size() < 8; ++c) {
    if (CPU_ISSET(c, &original)) cpus.push_back(c);
  }
  ASSERT_FALSE(cpus.empty());
  for (int c : cpus) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    sched_yield();  // the kernel moves the thread (and updates rseq) before it runs again
    EXPECT_EQ(sched_getcpu(), c);
    EXPECT_EQ(cpu_shard(), static_cast<uint32_t>(c) & CpuShards::mask()) << "cpu " << c;
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);
}

}  // namespace
}  // namespace ufc::internal
