// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/endpoint.h"

namespace ufc::internal {

Endpoint::Endpoint(EndpointIdentity identity)
    : identity_(std::make_unique<const EndpointIdentity>(std::move(identity))) {}

void Endpoint::on_report(OutcomeClass cls, int64_t latency_us, int64_t now_ns) {
  word_.fetch_sub(1, std::memory_order_relaxed);
  counts_[static_cast<int>(cls)].fetch_add(1, std::memory_order_relaxed);
  // Racing reports may lose one EWMA update; the average stays meaningful and the
  // request path stays free of compare-and-swap loops.
  const float sample = static_cast<float>(latency_us < 0 ? 0 : latency_us);
  const float old = ewma_us_.load(std::memory_order_relaxed);
  const int64_t last = last_report_ns_.load(std::memory_order_relaxed);
  float next = sample;
  if (last != 0 && old > 0) {
    const int64_t dt = now_ns - last;
    float alpha = kMinAlpha;
    // dt/(dt+D) exceeds kMinAlpha only when dt > D*a/(1-a): divide only then (rarely at
    // high request rates, where reports arrive within the same clock tick).
    if (dt > static_cast<int64_t>(kDecayNs * kMinAlpha / (1 - kMinAlpha))) {
      alpha = static_cast<float>(dt) / static_cast<float>(dt + kDecayNs);
    }
    next = old + alpha * (sample - old);
  }
  ewma_us_.store(next, std::memory_order_relaxed);
  last_report_ns_.store(now_ns, std::memory_order_relaxed);
}

void Endpoint::inherit_from(const Endpoint& other) {
  ewma_us_.store(other.ewma_us_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  last_report_ns_.store(other.last_report_ns_.load(std::memory_order_relaxed),
                        std::memory_order_relaxed);
}

}  // namespace ufc::internal
