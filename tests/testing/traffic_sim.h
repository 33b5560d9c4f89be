// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/traffic_sim.h: open-loop traffic against one service of a SimClient, on
// simulated time. The backends are functions of time; the client is the real library.

#ifndef UFC_TESTS_TESTING_TRAFFIC_SIM_H_
#define UFC_TESTS_TESTING_TRAFFIC_SIM_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/testing/sim_client.h"

namespace ufc::testing {

// TrafficSim: sends `rate` requests per second, evenly spaced: pick, ask the chosen
// backend's behaviour for the outcome, report, then advance simulated time (running the
// client's timers) to the next request. With `in_flight` n > 1, n picks go out before
// their n reports come back (a caller with n requests in flight). Stalled, time moves
// but the client's timers do not run (a starved tick thread), until unstalled.
class TrafficSim {
 public:
  // What a backend answers to a request sent `elapsed` after the simulation started.
  using Behaviour = std::function<Outcome(absl::Duration elapsed)>;

  struct Stats {
    uint64_t requests = 0;
    uint64_t transport_failures = 0;
    uint64_t status_errors = 0;        // 4xx and 5xx
    int64_t attempts_before_ban = -1;  // requests it got before its first ban; -1: never
  };

  TrafficSim(SimClient& client, std::string service)
      : client_(client), service_(std::move(service)), start_(client.clock->now()) {}

  static Outcome healthy(absl::Duration) { return Outcome::http(200, absl::Milliseconds(10)); }
  static Outcome refused(absl::Duration) {
    return Outcome::transport_error(Transport::kConnectRefused, absl::Milliseconds(1));
  }

  void set(const std::string& address, Behaviour behaviour) {
    behaviours_[address] = std::move(behaviour);
  }

  // Runs for `duration` at `rate` requests per second, `in_flight` at a time.
  void run(absl::Duration duration, double rate, int in_flight = 1) {
    const absl::Duration gap = absl::Seconds(1) / rate;
    const absl::Time end = client_.clock->now() + duration;
    std::vector<std::pair<Pick, absl::Duration>> flying;
    while (client_.clock->now() < end) {
      for (int k = 0; k < in_flight && client_.clock->now() < end; ++k) {
        const absl::Duration elapsed = client_.clock->now() - start_;
        absl::StatusOr<Pick> pick = client_.client->pick({.service = service_});
        if (pick.ok()) {
          flying.emplace_back(*std::move(pick), elapsed);
        } else {
          ++failed_picks_;
        }
        if (k + 1 < in_flight) advance(gap);
      }
      for (auto& [pick, elapsed] : flying) {
        const std::string address(pick.address());
        auto it = behaviours_.find(address);
        const Outcome outcome = it != behaviours_.end() ? it->second(elapsed) : healthy(elapsed);
        client_.client->report(pick, outcome);
        Stats& s = stats_[address];
        ++s.requests;
        const OutcomeClass c = outcome.classify();
        s.transport_failures += c >= OutcomeClass::kConnectRefused;
        s.status_errors += c == OutcomeClass::kClientError || c == OutcomeClass::kServerError;
      }
      flying.clear();
      advance(gap);
      note_bans();
    }
  }

  // While stalled, time moves and the client's timers do not run; unstalling runs every
  // timer that fell due meanwhile (as a starved thread catching up).
  void set_stalled(bool stalled) {
    stalled_ = stalled;
    if (!stalled) {
      client_.executor->advance(absl::ZeroDuration());
      note_bans();
    }
  }

  const std::map<std::string, Stats>& stats() const { return stats_; }
  Stats stats(const std::string& address) const {
    auto it = stats_.find(address);
    return it == stats_.end() ? Stats{} : it->second;
  }
  // Every backend's stats summed.
  Stats totals() const {
    Stats t;
    for (const auto& [address, s] : stats_) {
      t.requests += s.requests;
      t.transport_failures += s.transport_failures;
      t.status_errors += s.status_errors;
    }
    return t;
  }
  uint64_t failed_picks() const { return failed_picks_; }
  absl::Duration elapsed() const { return client_.clock->now() - start_; }
  // When an event happened, relative to the start (events carry wall time).
  absl::Duration when(const Event& e) const {
    return e.wall_time - (client_.clock->wall_now() - (client_.clock->now() - start_));
  }
  std::vector<Event> events_of(EventType type, const std::string& endpoint = "") const {
    std::vector<Event> out;
    for (const Event& e : client_.events) {
      if (e.type == type && (endpoint.empty() || e.endpoint == endpoint)) out.push_back(e);
    }
    return out;
  }

 private:
  void note_bans() {
    for (; seen_events_ < client_.events.size(); ++seen_events_) {
      const Event& e = client_.events[seen_events_];
      if (e.type != EventType::kBan) continue;
      Stats& s = stats_[e.endpoint];
      if (s.attempts_before_ban < 0) s.attempts_before_ban = static_cast<int64_t>(s.requests);
    }
  }

  void advance(absl::Duration d) {
    if (stalled_) {
      client_.clock->advance(d);
    } else {
      client_.executor->advance(d);
    }
  }

  SimClient& client_;
  bool stalled_ = false;
  std::string service_;
  absl::Time start_;
  std::map<std::string, Behaviour> behaviours_;
  std::map<std::string, Stats> stats_;
  uint64_t failed_picks_ = 0;
  size_t seen_events_ = 0;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_TRAFFIC_SIM_H_
