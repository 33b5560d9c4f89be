// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/endpoint/failure_window.h: the last N attempts to one backend, kept in one 64-bit
// word that `report` updates inline, and the rule that says when it has tripped. The ban
// manager sets the rule (detection by request, spec section 6); the endpoint applies it.

#ifndef UFC_ENDPOINT_FAILURE_WINDOW_H_
#define UFC_ENDPOINT_FAILURE_WINDOW_H_

#include <cstdint>

namespace ufc::internal {

// The trip rule as the request path reads it: one 32-bit word per endpoint, written by
// the control path when the service's config changes.
//   bits 0-7 window N, 8-15 failures M, 16-23 consecutive K (0 = off), bit 24 enabled.
struct WindowRule {
  static uint32_t pack(bool enabled, uint32_t window, uint32_t failures, uint32_t consecutive) {
    return (window & 0xff) | (failures & 0xff) << 8 | (consecutive & 0xff) << 16 |
           (enabled ? 1u << 24 : 0u);
  }
  static bool enabled(uint32_t r) { return (r >> 24) & 1; }
  static uint32_t window(uint32_t r) { return r & 0xff; }
  static uint32_t failures(uint32_t r) { return (r >> 8) & 0xff; }
  static uint32_t consecutive(uint32_t r) { return (r >> 16) & 0xff; }
};

// The window word: bits 0-55 the last (up to 56) outcomes, newest in bit 0, 1 = transport
// failure; bits 56-63 the current run of consecutive transport failures (saturating).
struct FailureWindow {
  static constexpr uint64_t kBitsMask = (uint64_t{1} << 56) - 1;

  // The word after one more outcome, keeping the last `window` outcomes.
  static uint64_t push(uint64_t word, bool failure, uint32_t window) {
    const uint64_t mask = window >= 56 ? kBitsMask : (uint64_t{1} << window) - 1;
    const uint64_t bits = ((word << 1) | (failure ? 1 : 0)) & mask;
    uint64_t run = word >> 56;
    run = failure ? (run < 255 ? run + 1 : 255) : 0;
    return bits | run << 56;
  }
  static uint32_t failures(uint64_t word) {
    return static_cast<uint32_t>(__builtin_popcountll(word & kBitsMask));
  }
  static uint32_t run(uint64_t word) { return static_cast<uint32_t>(word >> 56); }

  // Whether the rule trips ("ban", for the ban manager): M or more failures among the last N (fewer
  // than N attempts so far count as they are: five refusals in the first five attempts are enough),
  // or a run of K.
  static bool tripped(uint64_t word, uint32_t rule) {
    const uint32_t k = WindowRule::consecutive(rule);
    return failures(word) >= WindowRule::failures(rule) || (k != 0 && run(word) >= k);
  }
};

}  // namespace ufc::internal

#endif  // UFC_ENDPOINT_FAILURE_WINDOW_H_
