// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/common/epoch.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "src/common/thread_shard.h"

namespace ufc::internal {

namespace {

bool register_membarrier() {
  const long supported = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

}  // namespace

struct EpochDomain::ThreadExit {
  Record* record = nullptr;
  ~ThreadExit();
};

// Releases the record at thread exit so another thread can reuse it.
thread_local EpochDomain::ThreadExit EpochDomain::tls_exit_;

EpochDomain::ThreadExit::~ThreadExit() {
  if (record != nullptr) {
    EpochDomain::tls_record_ = nullptr;
    record->epoch.store(0, std::memory_order_release);
    record->in_use.store(false, std::memory_order_release);
  }
}

EpochDomain::EpochDomain() : use_membarrier_(register_membarrier()) {
  // A child process has only the forking thread: the other threads' records would keep
  // their epochs forever and stall every reclaim in the child.
  pthread_atfork(nullptr, nullptr, &EpochDomain::after_fork_in_child);
}

void EpochDomain::after_fork_in_child() {
  EpochDomain& d = global();
  for (Record* r = d.records_.load(std::memory_order_relaxed); r != nullptr; r = r->next) {
    if (r == tls_record_) continue;
    r->epoch.store(0, std::memory_order_relaxed);
    r->in_use.store(false, std::memory_order_relaxed);
  }
}

EpochDomain::Record* EpochDomain::acquire_record() {
  for (Record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    bool expected = false;
    if (!r->in_use.load(std::memory_order_relaxed) &&
        r->in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      return r;
    }
  }
  auto* r = new Record();
  r->in_use.store(true, std::memory_order_relaxed);
  Record* head = records_.load(std::memory_order_relaxed);
  do {
    r->next = head;
  } while (!records_.compare_exchange_weak(head, r, std::memory_order_release,
                                           std::memory_order_relaxed));
  return r;
}

// Only the global domain exists, so one thread-local record per thread suffices.
EpochDomain::Record* EpochDomain::register_thread() {
  thread_shard();  // assigned before the record shows: see try_enter()
  Record* r = acquire_record();
  tls_record_ = r;
  tls_exit_.record = r;
  return r;
}

void EpochDomain::heavy_barrier() {
  if (use_membarrier_) {
    // Registration succeeded, so this cannot fail with EPERM; the kernel documents no
    // other failure for this command.
    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

void EpochDomain::retire_raw(void* object, void (*deleter)(void*)) {
  absl::MutexLock lock(&mu_);
  const uint64_t epoch = global_epoch_.fetch_add(1, std::memory_order_acq_rel);
  retired_.push_back(Retired{object, deleter, epoch});
}

void EpochDomain::reclaim() {
  std::vector<Retired> ready;
  {
    absl::MutexLock lock(&mu_);
    if (retired_.empty()) return;
    heavy_barrier();
    // Oldest epoch any reader is still in; objects unpublished before it are unreachable.
    uint64_t oldest = global_epoch_.load(std::memory_order_acquire);
    for (Record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
      const uint64_t e = r->epoch.load(std::memory_order_acquire);
      if (e != 0) oldest = std::min(oldest, e);
    }
    auto keep = std::partition(retired_.begin(), retired_.end(),
                               [oldest](const Retired& x) { return x.epoch >= oldest; });
    ready.assign(keep, retired_.end());
    retired_.erase(keep, retired_.end());
  }
  for (const Retired& x : ready) x.deleter(x.object);
}

void EpochDomain::drain() {
  for (;;) {
    reclaim();
    if (pending() == 0) return;
    std::this_thread::yield();
  }
}

void EpochDomain::synchronize() {
  // Readers that enter from now on announce at least `target`; wait out the older ones.
  const uint64_t target = global_epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
  heavy_barrier();
  for (Record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    for (;;) {
      const uint64_t e = r->epoch.load(std::memory_order_acquire);
      if (e == 0 || e >= target) break;
      std::this_thread::yield();
    }
  }
  reclaim();
}

size_t EpochDomain::pending() const {
  absl::MutexLock lock(&mu_);
  return retired_.size();
}

}  // namespace ufc::internal
