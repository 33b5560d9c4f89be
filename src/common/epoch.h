// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/epoch.h: epoch-based reclamation, the lifetime scheme behind UFC's immutable
// snapshots.
//
// The request path reads a service's snapshot through a plain atomic pointer. A config
// update publishes a new snapshot and *retires* the old one; the old one is freed only once
// no reader can still hold it. Readers announce themselves with one store to a per-thread
// slot (no shared cache line is written), so reads scale with cores; writers pay for it.
//
// The scheme is classic EBR (Fraser, "Practical lock-freedom", 2004) with asymmetric
// fences: where Linux's membarrier(PRIVATE_EXPEDITED) is available the reader's store-load
// fence is a compiler barrier and the writer issues the process-wide barrier instead (the
// approach of liburcu's "memb" flavour and folly's asymmetric barriers). Without
// membarrier readers fall back to a full fence.

#ifndef UFC_COMMON_EPOCH_H_
#define UFC_COMMON_EPOCH_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/synchronization/mutex.h"
#include "src/common/tls.h"

namespace ufc::internal {

// EpochDomain: read-side critical sections plus deferred deletion.
//
// Cost: a Guard is a thread-local load, two loads and two stores (~1-2 ns with membarrier).
// retire() takes a mutex; reclaim() issues one membarrier syscall and scans the thread
// slots. Thread-safety: all methods are thread-safe. Sections nest.
class EpochDomain {
 public:
  // The process-wide domain; never destroyed (threads may outlive main).
  static EpochDomain& global() {
    static EpochDomain* domain = new EpochDomain();
    return *domain;
  }

  struct Record;  // one per thread; below

  // Guard: a read-side critical section. Pointers loaded from retire-protected atomics
  // stay valid until the guard dies. Must not be held across blocking calls. A guard
  // inside another guard of the same thread is free: it finds the thread's announcement
  // in place and leaves it to the outer one.
  class Guard {
   public:
    ABSL_ATTRIBUTE_ALWAYS_INLINE explicit Guard(EpochDomain& domain = global())
        : record_(domain.enter()) {}
    ABSL_ATTRIBUTE_ALWAYS_INLINE ~Guard() {
      if (record_ != nullptr) record_->epoch.store(0, std::memory_order_release);
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Record* record_;  // the thread's record when this is the outermost section
  };

  // A section without a Guard, for a request path that must not keep one alive across
  // calls (a path that calls nothing keeps few registers): try_enter() enters as the
  // outermost section and returns the thread's record, or returns nullptr, having entered
  // nothing, when the thread is inside a section already or has no record yet (take a
  // Guard then). leave(record) ends the section; every path out of it must. A thread that
  // has a record has its thread_shard() assigned (register_thread() assigns it first), so
  // a section try_enter() opened may read thread_shard_internal::shard without the test.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Record* try_enter() {
    Record* r = tls_record_;
    if (__builtin_expect(r == nullptr || r->epoch.load(std::memory_order_relaxed) != 0, 0)) {
      return nullptr;
    }
    announce(r);
    return r;
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void leave(Record* record) {
    record->epoch.store(0, std::memory_order_release);
  }
  // leave() when it goes out of scope, also by an exception: for a path off the short one
  // that calls what may throw.
  class Leave {
   public:
    explicit Leave(Record* record) : record_(record) {}
    ~Leave() { leave(record_); }
    Leave(const Leave&) = delete;
    Leave& operator=(const Leave&) = delete;

   private:
    Record* record_;
  };

  // retire() schedules `object` for deletion once every reader that might have loaded it
  // has left its section. The caller must already have unpublished it.
  template <typename T>
  void retire(T* object) {
    if (object != nullptr) retire_raw(object, [](void* p) { delete static_cast<T*>(p); });
  }
  // The same for storage that goes back some other way than `delete` (an arena slot):
  // `deleter(object)` runs once it is safe.
  void retire(void* object, void (*deleter)(void*)) {
    if (object != nullptr) retire_raw(object, deleter);
  }

  // reclaim() deletes what is safe to delete now; never blocks on readers.
  void reclaim();

  // drain() blocks until everything retired so far is deleted. Must not be called inside
  // a Guard.
  void drain();

  // synchronize() blocks until every reader that was inside a section when it was called
  // has left, then reclaims: everything the caller retired before is deleted on return.
  // Unlike drain(), it does not wait for other threads' later retirements. Must not be
  // called inside a Guard.
  void synchronize();

  // For tests: how many objects wait for deletion.
  size_t pending() const;

  // Whether readers use the membarrier fast path.
  bool uses_membarrier() const { return use_membarrier_; }

  // One per thread that ever entered, reused after the thread exits.
  struct alignas(64) Record {
    // 0 when the owning thread is outside any section; otherwise the epoch it entered in.
    std::atomic<uint64_t> epoch{0};
    std::atomic<bool> in_use{false};
    Record* next = nullptr;
  };

 private:
  // Announces the calling thread in the current epoch and returns its record, or returns
  // nullptr when the thread is inside a section already (its older announcement covers
  // this one). Only the owning thread writes its record's epoch, so its own relaxed load
  // tells whether it is inside.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Record* enter() {
    Record* r = tls_record_;
    if (__builtin_expect(r == nullptr, 0)) r = register_thread();
    if (r->epoch.load(std::memory_order_relaxed) != 0) return nullptr;
    announce(r);
    return r;
  }
  // Announces the thread's record `r` in the current epoch.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void announce(Record* r) {
    // Acquire pairs with retire_raw's increment: seeing the new epoch implies seeing the
    // unpublish that preceded it.
    r->epoch.store(global_epoch_.load(std::memory_order_acquire), std::memory_order_relaxed);
    // The announcement must be visible before this thread loads any protected pointer;
    // with membarrier the writer's heavy barrier provides the other half of the fence.
    if (__builtin_expect(use_membarrier_, 1)) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
  }

  // The calling thread's record. Defined here, constant-initialized and trivially
  // destructible, so that other files read it directly (no TLS wrapper call or check).
  static inline thread_local Record* tls_record_ UFC_HOT_TLS = nullptr;
  struct ThreadExit;  // releases the record when its thread exits
  static thread_local ThreadExit tls_exit_;
  Record* register_thread();
  EpochDomain();
  static void after_fork_in_child();
  void retire_raw(void* object, void (*deleter)(void*));
  void heavy_barrier();
  Record* acquire_record();

  struct Retired {
    void* object;
    void (*deleter)(void*);
    uint64_t epoch;  // the global epoch value when it was unpublished
  };

  bool use_membarrier_ = false;
  std::atomic<uint64_t> global_epoch_{1};
  std::atomic<Record*> records_{nullptr};  // push-only list; records are reused, never freed
  mutable absl::Mutex mu_;
  std::vector<Retired> retired_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_EPOCH_H_
