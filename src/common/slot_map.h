// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/slot_map.h: owned objects under small integer ids, reused after removal.

#ifndef UFC_COMMON_SLOT_MAP_H_
#define UFC_COMMON_SLOT_MAP_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace ufc::internal {

// SlotMap<T>: a vector of owned T indexed by id; removed ids are handed out again, so ids
// stay dense (the managers pack them into 32 bits). O(1) add, remove and lookup.
// Thread-safety: none; the owner's mutex guards it.
template <typename T>
class SlotMap {
 public:
  uint32_t add(std::unique_ptr<T> value) {
    if (!free_.empty()) {
      const uint32_t id = free_.back();
      free_.pop_back();
      slots_[id] = std::move(value);
      return id;
    }
    slots_.push_back(std::move(value));
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  void remove(uint32_t id) {
    slots_[id].reset();
    free_.push_back(id);
  }
  // The live object at `id`, or nullptr (never handed out, or removed).
  T* find(uint64_t id) const { return id < slots_.size() ? slots_[id].get() : nullptr; }
  // The object at `id`, which must be live.
  T& operator[](uint32_t id) const { return *slots_[id]; }
  // Calls f(T&) for every live object, in id order.
  template <typename F>
  void for_each(F f) const {
    for (const std::unique_ptr<T>& s : slots_) {
      if (s != nullptr) f(*s);
    }
  }

 private:
  std::vector<std::unique_ptr<T>> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace ufc::internal

#endif  // UFC_COMMON_SLOT_MAP_H_
