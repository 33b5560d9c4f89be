// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/ticket_table.h: the picks an agent holds between a caller's Pick and its Report.
//
// A remote caller cannot hold a ufc::Pick, so the agent keeps it and hands out a ticket:
// 16 opaque bytes that find the pick again in O(1). A ticket is
//
//   slot (4 bytes) | generation (4 bytes) | nonce (8 bytes, random)
//
// little-endian. The slot says where the pick is; the generation, bumped each time the
// slot is reused, makes a reused or stale ticket miss; the nonce, drawn from absl::BitGen
// for each pick, makes a forged one miss even for a caller who has seen other tickets.
//
// Bounded memory: the table has a fixed number of slots, allocated at construction, split
// into shards, each with a free list and its held slots listed in issue order. A ticket
// lives until its report or until `ttl` has passed; only when every slot of its shard
// holds a live pick is the shard's oldest evicted to make room. A pick
// that leaves the table without a report is destroyed unreported (its in-flight slot is
// released) and counted as expired or evicted.
//
// Cost: put/take are a shard mutex, a few stores and one BitGen draw (~30 ns); each
// thread puts to the shards in turn from its own starting point, so one caller's picks
// spread over the whole table and gRPC's threads rarely meet on a shard. Thread-safety: every
// method may be called from any thread.

#ifndef UFC_AGENTD_TICKET_TABLE_H_
#define UFC_AGENTD_TICKET_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ufc/clock.h"
#include "ufc/pick.h"

namespace ufc::agentd {

inline constexpr size_t kTicketSize = 16;

class TicketTable {
 public:
  struct Options {
    size_t capacity = 262144;                // slots in all; [shards, 2^31]
    absl::Duration ttl = absl::Seconds(30);  // > 0
    size_t shards = 16;                      // [1, 256]
  };
  // Counters since construction (plain values; a consistent-enough read, not a snapshot).
  struct Stats {
    uint64_t issued = 0;       // tickets handed out
    uint64_t reported = 0;     // taken back by a report
    uint64_t expired = 0;      // dropped unreported after ttl
    uint64_t evicted = 0;      // dropped unreported: the shard needed the slot
    uint64_t malformed = 0;    // take() of something that is not a ticket
    uint64_t forged = 0;       // right slot and generation, wrong nonce
    uint64_t unknown = 0;      // no such live ticket: reused, expired or evicted
    uint64_t outstanding = 0;  // held now
  };

  // INVALID_ARGUMENT (naming the field) for options out of range.
  static absl::StatusOr<std::unique_ptr<TicketTable>> create(const Options& options);
  ~TicketTable();

  // put() stores `pick` and writes its ticket to `ticket` (kTicketSize bytes). Evicts the
  // shard's oldest pick when the shard is full, and drops picks past their ttl it meets.
  // `caller` and `service` (the caller's name and the picked service, for metrics and the
  // access log) are kept beside it.
  void put(Pick pick, MonotonicTime now, char* ticket, std::string_view caller = {},
           std::string_view service = {});

  // take() returns the pick of `ticket` and forgets it (single use). INVALID_ARGUMENT for
  // a ticket of the wrong size or slot, or a forged one (a wrong nonce, generation 0); NOT_FOUND
  // for one already reported, expired or evicted.
  // With `caller` and `service`, also the names put() kept.
  absl::StatusOr<Pick> take(std::string_view ticket, MonotonicTime now,
                            std::string* caller = nullptr, std::string* service = nullptr);

  // expire() drops every pick past its ttl (the agent calls it about once a second, so
  // that an idle agent does not hold picks forever). Returns how many it dropped.
  size_t expire(MonotonicTime now);

  Stats stats() const;
  size_t capacity() const { return shards_.size() * per_shard_; }
  absl::Duration ttl() const { return ttl_; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Slot {
    std::optional<Pick> pick;
    std::string caller, service;
    uint32_t generation = 0;
    uint64_t nonce = 0;
    int64_t expires_ns = 0;
    // Held: neighbours in issue order (oldest first). Free: `next` is the next free slot.
    uint32_t prev = kNil;
    uint32_t next = kNil;
  };
  struct Shard {
    absl::Mutex mu;
    std::vector<Slot> slots ABSL_GUARDED_BY(mu);
    uint32_t free ABSL_GUARDED_BY(mu) = kNil;    // a free slot, or kNil when all are held
    uint32_t oldest ABSL_GUARDED_BY(mu) = kNil;  // the issue-order list of held slots
    uint32_t newest ABSL_GUARDED_BY(mu) = kNil;
    absl::BitGen random ABSL_GUARDED_BY(mu);
  };

  TicketTable(const Options& options);
  size_t next_shard();  // the shard the calling thread puts to next
  // Takes slot `i` out of the held list and onto the free list; its pick goes to `out`
  // (destroyed by the caller, outside the lock) unless null.
  void release(Shard& shard, uint32_t i, std::vector<Pick>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Releases the held picks past their ttl, oldest first. Returns how many.
  size_t drop_expired(Shard& shard, int64_t now_ns, std::vector<Pick>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const absl::Duration ttl_;
  const size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint32_t> next_thread_shard_{0};

  std::atomic<uint64_t> issued_{0}, reported_{0}, expired_{0}, evicted_{0}, malformed_{0},
      forged_{0}, unknown_{0};
};

}  // namespace ufc::agentd

#endif  // UFC_AGENTD_TICKET_TABLE_H_
