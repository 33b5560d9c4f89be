// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/endpoint.h"

#include "src/banning/request_window.h"

namespace ufc::internal {

Endpoint::Endpoint(EndpointIdentity identity, SuspectQueue* queue)
    : meta_(std::make_unique<EndpointMeta>(std::move(identity))) {
  meta_->queue = queue;
}

uint64_t Endpoint::requests() const {
  uint64_t total = 0;
  for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
  return total;
}

void Endpoint::on_report(OutcomeClass cls, int64_t latency_us, int64_t now_ns) {
  if (latency_us < 0) latency_us = 0;
  word_.fetch_sub(1, std::memory_order_relaxed);
  counts_[static_cast<int>(cls)].fetch_add(1, std::memory_order_relaxed);
  // The latency sum (for the interval mean the business detector compares) is a plain
  // load and store: an atomic add here cost ~25% of a pick+report (bench, side by side).
  // Two reports racing on one endpoint may lose one sample's latency; the mean then reads
  // slightly low, alike for every endpoint under the same load.
  latency_sum_us_.store(
      latency_sum_us_.load(std::memory_order_relaxed) + static_cast<uint64_t>(latency_us),
      std::memory_order_relaxed);

  const uint32_t rule = rule_.load(std::memory_order_relaxed);
  if (WindowRule::enabled(rule)) {
    // A plain load and store, not a CAS loop: two reports racing on one endpoint may drop
    // one outcome from the window, which delays a ban by one attempt at most.
    const bool failure = cls >= OutcomeClass::kConnectRefused;
    const uint64_t w = RequestWindow::push(window_.load(std::memory_order_relaxed), failure,
                                           WindowRule::window(rule));
    window_.store(w, std::memory_order_relaxed);
    if (failure && RequestWindow::tripped(w, rule)) mark_suspect();
  }

  // Racing reports may lose one EWMA update; the average stays meaningful and the
  // request path stays free of compare-and-swap loops.
  const float sample = static_cast<float>(latency_us);
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

void Endpoint::mark_suspect() {
  SuspectQueue* queue = meta_->queue;
  if (queue == nullptr) return;
  if ((flags_.fetch_or(kSuspect, std::memory_order_acq_rel) & kSuspect) != 0) return;  // queued
  ref();  // held while queued
  queue->push(this);
}

void SuspectQueue::push(Endpoint* endpoint) {
  Endpoint* head = head_.load(std::memory_order_relaxed);
  do {
    endpoint->meta().next_suspect = head;
  } while (!head_.compare_exchange_weak(head, endpoint, std::memory_order_release,
                                        std::memory_order_relaxed));
}

void Endpoint::inherit_from(const Endpoint& other) {
  ewma_us_.store(other.ewma_us_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  last_report_ns_.store(other.last_report_ns_.load(std::memory_order_relaxed),
                        std::memory_order_relaxed);
  // The ban state and history carry over; the business baselines do not (this endpoint's
  // counts start at zero). A probe in flight answers for the old endpoint, so a probing
  // ban becomes an expired one: the next housekeeping probes this endpoint afresh.
  BanRecord& ban = meta_->ban;
  ban = other.meta_->ban;
  ban.has_baseline = false;
  if (ban.state == BanState::kProbing) {
    ban.state = BanState::kBanned;
    ban.history().until = absl::InfinitePast();
    ++ban.history().generation;
  }
}

}  // namespace ufc::internal
