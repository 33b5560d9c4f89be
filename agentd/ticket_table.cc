// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/ticket_table.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ufc::agentd {
namespace {

void put_u32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t get_u32(const char* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
uint64_t get_u64(const char* in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

int64_t ns_of(MonotonicTime t) { return absl::ToUnixNanos(t.reading()); }

// Each thread walks the shards round-robin from its own starting point: one caller's
// picks spread over the whole table (a single Session runs on one gRPC thread), and two
// threads rarely want the same shard at once. No shared counter on the way.
thread_local uint32_t thread_shard_cursor = UINT32_MAX;

}  // namespace

absl::StatusOr<std::unique_ptr<TicketTable>> TicketTable::create(const Options& options) {
  if (options.shards < 1 || options.shards > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("tickets.shards: ", options.shards, " is not in [1, 256]"));
  }
  if (options.capacity < options.shards || options.capacity > (size_t{1} << 31)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tickets.capacity: ", options.capacity, " is not in [shards, 2^31]"));
  }
  if (options.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("tickets.ttl: must be positive");
  }
  return std::unique_ptr<TicketTable>(new TicketTable(options));
}

TicketTable::TicketTable(const Options& options)
    : ttl_(options.ttl), per_shard_(options.capacity / options.shards) {
  shards_.reserve(options.shards);
  for (size_t i = 0; i < options.shards; ++i) {
    auto shard = std::make_unique<Shard>();
    absl::MutexLock lock(&shard->mu);
    shard->slots.resize(per_shard_);
    for (size_t j = 0; j < per_shard_; ++j) {
      shard->slots[j].next = j + 1 < per_shard_ ? static_cast<uint32_t>(j + 1) : kNil;
    }
    shard->free = 0;
    shards_.push_back(std::move(shard));
  }
}

TicketTable::~TicketTable() = default;

size_t TicketTable::next_shard() {
  if (thread_shard_cursor == UINT32_MAX) {
    // A spread-out start per thread (the golden-ratio step keeps starts apart).
    thread_shard_cursor = next_thread_shard_.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B9u;
  }
  return thread_shard_cursor++ % shards_.size();
}

void TicketTable::release(Shard& shard, uint32_t i, std::vector<Pick>* out) {
  Slot& slot = shard.slots[i];
  (slot.prev == kNil ? shard.oldest : shard.slots[slot.prev].next) = slot.next;
  (slot.next == kNil ? shard.newest : shard.slots[slot.next].prev) = slot.prev;
  if (out != nullptr) out->push_back(*std::move(slot.pick));
  slot.pick.reset();
  slot.prev = kNil;
  slot.next = shard.free;
  shard.free = i;
}

size_t TicketTable::drop_expired(Shard& shard, int64_t now_ns, std::vector<Pick>* out) {
  size_t dropped = 0;
  while (shard.oldest != kNil && shard.slots[shard.oldest].expires_ns <= now_ns) {
    release(shard, shard.oldest, out);
    ++dropped;
  }
  return dropped;
}

void TicketTable::put(Pick pick, MonotonicTime now, char* ticket, std::string_view caller,
                      std::string_view service) {
  const size_t s = next_shard();
  Shard& shard = *shards_[s];
  const int64_t now_ns = ns_of(now);
  std::vector<Pick> dropped;  // destroyed after the lock, unreported
  uint32_t slot_index = 0;
  {
    absl::MutexLock lock(&shard.mu);
    const size_t expired = drop_expired(shard, now_ns, &dropped);
    if (expired > 0) expired_.fetch_add(expired, std::memory_order_relaxed);
    if (shard.free == kNil) {
      // Every slot holds a live pick: the oldest gives way.
      release(shard, shard.oldest, &dropped);
      evicted_.fetch_add(1, std::memory_order_relaxed);
    }
    const uint32_t i = shard.free;
    Slot& slot = shard.slots[i];
    shard.free = slot.next;
    slot.prev = shard.newest;
    slot.next = kNil;
    (shard.newest == kNil ? shard.oldest : shard.slots[shard.newest].next) = i;
    shard.newest = i;
    slot.pick.emplace(std::move(pick));
    slot.caller.assign(caller.data(), caller.size());
    slot.service.assign(service.data(), service.size());
    ++slot.generation;
    slot.nonce = absl::Uniform<uint64_t>(shard.random);
    slot.expires_ns = now_ns + absl::ToInt64Nanoseconds(ttl_);
    slot_index = static_cast<uint32_t>(s * per_shard_ + i);
    put_u32(ticket, slot_index);
    put_u32(ticket + 4, slot.generation);
    put_u64(ticket + 8, slot.nonce);
  }
  issued_.fetch_add(1, std::memory_order_relaxed);
}

absl::StatusOr<Pick> TicketTable::take(std::string_view ticket, MonotonicTime now,
                                       std::string* caller, std::string* service) {
  if (ticket.size() != kTicketSize) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return absl::InvalidArgumentError(
        absl::StrCat("ticket: ", ticket.size(), " bytes, expected ", kTicketSize));
  }
  const uint32_t index = get_u32(ticket.data());
  const uint32_t generation = get_u32(ticket.data() + 4);
  const uint64_t nonce = get_u64(ticket.data() + 8);
  if (index >= capacity()) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return absl::InvalidArgumentError("ticket: no such slot (not a ticket of this agent)");
  }
  if (generation == 0) {  // never issued: a slot's first pick is generation 1
    forged_.fetch_add(1, std::memory_order_relaxed);
    return absl::InvalidArgumentError("ticket: forged (generation 0 is never issued)");
  }
  Shard& shard = *shards_[index / per_shard_];
  const int64_t now_ns = ns_of(now);
  std::vector<Pick> expired_pick;  // destroyed after the lock
  {
    absl::MutexLock lock(&shard.mu);
    const uint32_t i = static_cast<uint32_t>(index % per_shard_);
    Slot& slot = shard.slots[i];
    if (slot.generation == generation && slot.nonce != nonce) {
      forged_.fetch_add(1, std::memory_order_relaxed);
      return absl::InvalidArgumentError("ticket: forged (it does not match the pick it names)");
    }
    if (slot.generation != generation || !slot.pick.has_value()) {
      unknown_.fetch_add(1, std::memory_order_relaxed);
      return absl::NotFoundError("ticket: already reported, expired or evicted");
    }
    if (slot.expires_ns <= now_ns) {
      release(shard, i, &expired_pick);
      expired_.fetch_add(1, std::memory_order_relaxed);
    } else {
      Pick pick = *std::move(slot.pick);
      if (caller != nullptr) caller->swap(slot.caller);
      if (service != nullptr) service->swap(slot.service);
      release(shard, i, nullptr);
      reported_.fetch_add(1, std::memory_order_relaxed);
      return pick;
    }
  }
  unknown_.fetch_add(1, std::memory_order_relaxed);
  return absl::NotFoundError("ticket: expired");
}

size_t TicketTable::expire(MonotonicTime now) {
  const int64_t now_ns = ns_of(now);
  size_t total = 0;
  for (auto& shard : shards_) {
    std::vector<Pick> dropped;
    {
      absl::MutexLock lock(&shard->mu);
      total += drop_expired(*shard, now_ns, &dropped);
    }
  }
  if (total > 0) expired_.fetch_add(total, std::memory_order_relaxed);
  return total;
}

TicketTable::Stats TicketTable::stats() const {
  Stats s;
  s.issued = issued_.load(std::memory_order_relaxed);
  s.reported = reported_.load(std::memory_order_relaxed);
  s.expired = expired_.load(std::memory_order_relaxed);
  s.evicted = evicted_.load(std::memory_order_relaxed);
  s.malformed = malformed_.load(std::memory_order_relaxed);
  s.forged = forged_.load(std::memory_order_relaxed);
  s.unknown = unknown_.load(std::memory_order_relaxed);
  const uint64_t gone = s.reported + s.expired + s.evicted;
  s.outstanding = s.issued > gone ? s.issued - gone : 0;
  return s;
}

}  // namespace ufc::agentd
