// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/trip_gate.h: what lets `report` take a backend out of rotation the moment
// its failure window trips, before the control path has judged it, without letting it
// take more out than the service may lose.

#ifndef UFC_ENDPOINT_TRIP_GATE_H_
#define UFC_ENDPOINT_TRIP_GATE_H_

#include <atomic>
#include <cstdint>

namespace ufc::internal {

// TripGate: one per service, written by the control path (the ban manager), read by the
// report that trips an endpoint's window. Two things:
//
//  * min_failures: a tripped window holds its endpoint at once only with at least this
//    many failures in it — what the control path computed, from every in-rotation window
//    of the service, that it would call an outlier (255 while the service fails as a
//    whole: then nothing is held, and fusing deals with it);
//  * slots: how many endpoints may be held at once. The control path sets the allowance
//    (what the max ratio leaves); a report claims one before holding its endpoint, and the
//    control path releases the claim once it has judged the endpoint. Claims never exceed
//    the allowance, so holds plus bans never exceed the max ratio.
//
// Cost: a report reads it only when a window trips; a claim is one compare-and-swap.
// Thread-safety: every method is thread-safe and lock-free.
class TripGate {
 public:
  uint32_t min_failures() const { return min_failures_.load(std::memory_order_relaxed); }
  void set_min_failures(uint32_t n) { min_failures_.store(n, std::memory_order_relaxed); }

  // Takes a slot if the allowance leaves one.
  bool try_claim() {
    uint64_t w = slots_.load(std::memory_order_relaxed);
    do {
      if ((w & kClaimsMask) >= (w >> 32)) return false;
    } while (!slots_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel,
                                           std::memory_order_relaxed));
    return true;
  }
  void release_claim() { slots_.fetch_sub(1, std::memory_order_acq_rel); }
  // The most endpoints that may be held (claims outstanding keep counting).
  void set_allowance(uint32_t allowance) {
    uint64_t w = slots_.load(std::memory_order_relaxed);
    while (!slots_.compare_exchange_weak(w, (uint64_t{allowance} << 32) | (w & kClaimsMask),
                                         std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
  }
  // As new: no allowance, no claims, nothing held (a service id reused).
  void reset() {
    slots_.store(0, std::memory_order_relaxed);
    min_failures_.store(255, std::memory_order_relaxed);
  }
  uint32_t allowance() const { return static_cast<uint32_t>(slots_.load() >> 32); }
  uint32_t claims() const { return static_cast<uint32_t>(slots_.load() & kClaimsMask); }

 private:
  static constexpr uint64_t kClaimsMask = 0xffffffff;
  std::atomic<uint64_t> slots_{0};  // allowance (high 32 bits), claims (low 32 bits)
  std::atomic<uint32_t> min_failures_{255};
};

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_TRIP_GATE_H_
