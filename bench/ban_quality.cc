// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Banning decision quality: the scenarios of the banning issue run on simulated time
// through the real client (SimClient + TrafficSim from tests/testing), once with banning
// and once without, and a table of what happened. Deterministic: same output every run.
//
//   build/bench/ban_quality
//
// 10 backends, round robin, 1000 requests/s (100 per backend per second), 60 s each
// (120 s for flapping). "Bad requests" are those sent to the bad backend that failed
// (refused, 4xx, or slow), which banning exists to avoid.

#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "tests/testing/traffic_sim.h"

namespace {

using ufc::Outcome;
using ufc::testing::make_service;
using ufc::testing::SimClient;
using ufc::testing::TrafficSim;

std::string backend(int i) { return "10.0.0." + std::to_string(i) + ":80"; }

struct Scenario {
  const char* name;
  absl::Duration length;
  // Sets behaviours and prober answers; returns the bad backend's address ("" if none).
  std::function<std::string(SimClient&, TrafficSim&)> setup;
};

struct Result {
  double seconds_to_ban = -1;
  int64_t attempts_before_ban = -1;
  int healthy_ever_banned = 0;
  size_t bans = 0;
  size_t max_ratio_events = 0;
  uint64_t failed_picks = 0;
};

Result run(const Scenario& scenario, bool banning) {
  ufc::v1::ServiceConfig s = make_service("svc", 10, "round_robin");
  s.mutable_ban()->set_enabled(banning);
  s.mutable_fuse()->set_enabled(false);  // banning alone
  ufc::v1::ClientConfig config;
  *config.add_services() = s;
  SimClient client(config);
  TrafficSim sim(client, "svc");
  const std::string bad = scenario.setup(client, sim);
  Result r;
  sim.run(scenario.length, 1000);
  for (const ufc::Event& e : sim.events_of(ufc::EventType::kBan)) {
    if (e.endpoint == bad) {
      if (r.seconds_to_ban < 0) r.seconds_to_ban = absl::ToDoubleSeconds(sim.when(e));
    } else {
      ++r.healthy_ever_banned;
    }
  }
  r.attempts_before_ban = bad.empty() ? -1 : sim.stats(bad).attempts_before_ban;
  r.bans = sim.events_of(ufc::EventType::kBan).size() +
           sim.events_of(ufc::EventType::kProbeFailed).size();
  r.max_ratio_events = sim.events_of(ufc::EventType::kMaxBanRatio).size();
  r.failed_picks = sim.failed_picks();
  return r;
}

}  // namespace

int main() {
  // Each scenario counts its bad outcomes itself (the behaviour knows what it returned).
  auto counter = std::make_shared<uint64_t>(0);
  auto counting = [counter](TrafficSim::Behaviour b, std::function<bool(const Outcome&)> bad) {
    return [counter, b, bad](absl::Duration t) {
      Outcome o = b(t);
      if (bad(o)) ++*counter;
      return o;
    };
  };
  auto refused = [](const Outcome& o) { return o.transport != ufc::Transport::kOk; };
  auto client_error = [](const Outcome& o) {
    return o.classify() == ufc::OutcomeClass::kClientError;
  };
  auto slow = [](const Outcome& o) { return o.latency > absl::Milliseconds(50); };

  const Scenario scenarios[] = {
      {"dead backend (refuses)", absl::Seconds(60),
       [&](SimClient& c, TrafficSim& sim) {
         const std::string bad = backend(3);
         sim.set(bad, counting(TrafficSim::refused, refused));
         c.prober->set_reachable([bad](const std::string& a) { return a != bad; });
         return bad;
       }},
      {"100% 404 vs <=4% peers", absl::Seconds(60),
       [&](SimClient& c, TrafficSim& sim) {
         const std::string bad = backend(2);
         sim.set(bad,
                 counting([](absl::Duration) { return Outcome::http(404, absl::Milliseconds(5)); },
                          client_error));
         for (int i = 1; i <= 10; ++i) {
           if (backend(i) == bad) continue;
           auto n = std::make_shared<int>(0);
           sim.set(backend(i), [n](absl::Duration) {
             return Outcome::http(++*n % 25 == 0 ? 404 : 200, absl::Milliseconds(10));
           });
         }
         return bad;
       }},
      {"3.6x slower (90 vs 25 ms)", absl::Seconds(60),
       [&](SimClient& c, TrafficSim& sim) {
         const std::string bad = backend(9);
         for (int i = 1; i <= 10; ++i) {
           const absl::Duration latency =
               backend(i) == bad ? absl::Milliseconds(90) : absl::Milliseconds(25);
           TrafficSim::Behaviour b = [latency](absl::Duration) {
             return Outcome::http(200, latency);
           };
           sim.set(backend(i), backend(i) == bad ? counting(b, slow) : b);
         }
         return bad;
       }},
      {"incident: all fail 50%", absl::Seconds(60),
       [&](SimClient& c, TrafficSim& sim) {
         auto rng = std::make_shared<std::mt19937>(42);
         for (int i = 1; i <= 10; ++i) {
           sim.set(backend(i), counting(
                                   [rng](absl::Duration) {
                                     return (*rng)() % 2
                                                ? TrafficSim::refused({})
                                                : Outcome::http(200, absl::Milliseconds(10));
                                   },
                                   refused));
         }
         return std::string();
       }},
      {"flapping 5 s / 5 s", absl::Seconds(120),
       [&](SimClient& c, TrafficSim& sim) {
         const std::string bad = backend(5);
         auto failing = [](absl::Duration t) {
           return t >= absl::Seconds(3) &&
                  (absl::ToInt64Milliseconds(t - absl::Seconds(3)) / 5000) % 2 == 0;
         };
         sim.set(bad, counting(
                          [failing](absl::Duration t) {
                            return failing(t) ? TrafficSim::refused(t)
                                              : Outcome::http(200, absl::Milliseconds(10));
                          },
                          refused));
         c.prober->set_reachable([&sim, bad, failing](const std::string& a) {
           return a != bad || !failing(sim.elapsed());
         });
         return bad;
       }},
  };

  std::printf("%-28s %-8s %10s %10s %10s %12s %6s %9s %9s\n", "scenario", "banning", "to ban (s)",
              "attempts", "healthy", "bad requests", "bans", "ratio evt", "no pick");
  for (const Scenario& s : scenarios) {
    for (bool banning : {true, false}) {
      *counter = 0;
      const Result r = run(s, banning);
      char to_ban[32] = "-", attempts[32] = "-";
      if (r.seconds_to_ban >= 0) std::snprintf(to_ban, sizeof(to_ban), "%.3f", r.seconds_to_ban);
      if (r.attempts_before_ban >= 0)
        std::snprintf(attempts, sizeof(attempts), "%lld",
                      static_cast<long long>(r.attempts_before_ban));
      std::printf("%-28s %-8s %10s %10s %10d %12llu %6zu %9zu %9llu\n", s.name,
                  banning ? "on" : "off", to_ban, attempts, r.healthy_ever_banned,
                  static_cast<unsigned long long>(*counter), r.bans, r.max_ratio_events,
                  static_cast<unsigned long long>(r.failed_picks));
    }
  }
  std::printf(
      "\nto ban: when the bad backend was first banned; attempts: requests it got before that;\n"
      "healthy: other backends ever banned (goal 0; in the incident every backend is 'bad');\n"
      "bad requests: failed (or slow) requests sent to bad backends over the run;\n"
      "bans: bans plus re-bans after failed probes; no pick: picks that found no backend.\n");
  return 0;
}
