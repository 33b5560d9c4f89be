// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/service_table.h: the name -> service map `pick` looks a service up in.

#ifndef UFC_CORE_SERVICE_TABLE_H_
#define UFC_CORE_SERVICE_TABLE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ufc::internal {

struct ServiceState;  // src/core/service_state.h

// ServiceTable: an immutable open-addressing table (load factor <= 1/2, linear probing).
//
// Why not absl::flat_hash_map: its DoS-resistant hashing and generic probing cost ~110
// instructions per lookup of a short name (callgrind), a third of a whole pick+report.
// The keys here come from config, not from callers, and the table is rebuilt only when
// services come or go, so it can afford a plain fast hash. Names of up to 16 bytes (most
// service names) are read as two overlapping 64-bit words; those words both feed the hash
// (wyhash's folded 128-bit multiply, https://github.com/wangyi-fudan/wyhash) and decide
// equality, so a lookup makes no call at all.
// Thread-safety: immutable after construction; published and retired like a snapshot.
class ServiceTable {
 public:
  explicit ServiceTable(std::vector<std::pair<std::string, ServiceState*>> entries);

  // The service called `name`, or nullptr.
  // Always inlined: out of line (as GCC chose once pick() grew) it cost 17 more instructions
  // per pick in callgrind.
  __attribute__((always_inline)) ServiceState* find(std::string_view name) const {
    const Key key = make_key(name);
    for (uint64_t i = key.hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.state == nullptr) return nullptr;
      if (slot.key.hash == key.hash && slot.key.a == key.a && slot.key.b == key.b &&
          slot.name.size() == name.size() &&
          (name.size() <= 16 || std::memcmp(slot.name.data(), name.data(), name.size()) == 0)) {
        return slot.state;
      }
    }
  }

  size_t size() const { return names_.size(); }

  static uint64_t hash(std::string_view name) { return make_key(name).hash; }

 private:
  struct Key {
    uint64_t a, b, hash;
  };

  static uint64_t load64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint64_t load32(const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static uint64_t fold(uint64_t x, uint64_t y) {
    const unsigned __int128 r = static_cast<unsigned __int128>(x) * y;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }

  // For n <= 16 the words (a, b) cover every byte, so equal words and lengths mean equal
  // names. Longer names fold all 16-byte blocks into `a` and compare with memcmp.
  __attribute__((always_inline)) static Key make_key(std::string_view s) {
    constexpr uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                       k2 = 0x8ebc6af09c88c6e3ULL;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    uint64_t a = 0, b = 0;
    if (n >= 8 && n <= 16) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4 && n < 8) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0 && n < 4) {
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[n >> 1]} << 8) | p[n - 1];
    } else if (n > 16) {
      uint64_t h = k2;
      size_t i = 0;
      for (; i + 16 <= n; i += 16) h = fold(load64(p + i) ^ k1, load64(p + i + 8) ^ h);
      a = h ^ load64(p + n - 16);
      b = load64(p + n - 8);
    }
    return Key{a, b, fold(a ^ k1 ^ n, b ^ k2) ^ k0};
  }

  struct Slot {
    Key key{};
    std::string_view name;  // into names_
    ServiceState* state = nullptr;
  };
  std::vector<std::string> names_;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

inline ServiceTable::ServiceTable(std::vector<std::pair<std::string, ServiceState*>> entries) {
  names_.reserve(entries.size());  // no reallocation: slots keep views into names_
  size_t capacity = 8;
  while (capacity < 2 * entries.size()) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  for (auto& [name, state] : entries) {
    names_.push_back(std::move(name));
    const std::string_view view = names_.back();
    const Key key = make_key(view);
    uint64_t i = key.hash & mask_;
    while (slots_[i].state != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{key, view, state};
  }
}

}  // namespace ufc::internal

#endif  // UFC_CORE_SERVICE_TABLE_H_
