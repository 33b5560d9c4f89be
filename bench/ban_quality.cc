// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Banning decision quality: the scenarios of the banning issues run on simulated time
// through the real client (SimClient + TrafficSim from tests/testing), with fusing on as
// users run it, and tables of what happened. Deterministic: same output every run.
//
//   build/bench/ban_quality            everything (about 20 s)
//   build/bench/ban_quality --quick    the orders part on a sample of the orders
//
// 1. Single bad backends and service-wide incidents: 10 backends, round robin, 1000
//    requests/s (100 per backend per second), 60 s each (120 s for flapping), once with
//    banning and once without. "Bad requests" are those sent to a bad backend that failed
//    (refused, 4xx, or slow), which banning exists to avoid.
// 2. Four bad of seven under a 50% cap (3 slots), in every order of the bad ones' config
//    positions: which three hold the slots.
// 3. The nginx-like service: probation after each unban of a still-bad backend.
// 4. A dead backend while the client's tick thread is stalled.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/traffic_sim.h"

namespace {

using ufc::Event;
using ufc::EventType;
using ufc::Outcome;
using ufc::testing::make_service;
using ufc::testing::SimClient;
using ufc::testing::TrafficSim;

std::string backend(int i) { return "10.0.0." + std::to_string(i) + ":80"; }

ufc::v1::ClientConfig one_service(int n, bool banning, double max_ratio = 0.5) {
  ufc::v1::ServiceConfig s = make_service("svc", n, "round_robin");
  s.mutable_ban()->set_enabled(banning);
  if (max_ratio != 0.5) s.mutable_ban()->set_max_ratio(max_ratio);
  ufc::v1::ClientConfig config;
  *config.add_services() = s;
  return config;
}

// --- 1. The table ---

struct Scenario {
  const char* name;
  absl::Duration length;
  // Sets behaviours and prober answers; returns the bad backends' addresses (none: an
  // incident, where every backend is alike).
  std::function<std::vector<std::string>(SimClient&, TrafficSim&)> setup;
};

struct Result {
  double seconds_to_ban = -1;
  int64_t attempts_before_ban = -1;
  int healthy_ever_banned = 0;
  size_t bans = 0;
  size_t max_ratio_events = 0;
  size_t fuse_starts = 0;
  uint64_t failed_picks = 0;
};

Result run(const Scenario& scenario, bool banning) {
  SimClient client(one_service(10, banning));
  TrafficSim sim(client, "svc");
  const std::vector<std::string> bad = scenario.setup(client, sim);
  Result r;
  sim.run(scenario.length, 1000);
  for (const Event& e : sim.events_of(EventType::kBan)) {
    if (std::find(bad.begin(), bad.end(), e.endpoint) != bad.end()) {
      if (r.seconds_to_ban < 0) r.seconds_to_ban = absl::ToDoubleSeconds(sim.when(e));
    } else if (!bad.empty()) {
      ++r.healthy_ever_banned;
    }
  }
  for (const std::string& b : bad) {
    r.attempts_before_ban = std::max(r.attempts_before_ban, sim.stats(b).attempts_before_ban);
  }
  r.bans = sim.events_of(EventType::kBan).size() + sim.events_of(EventType::kProbeFailed).size();
  r.max_ratio_events = sim.events_of(EventType::kMaxBanRatio).size();
  r.fuse_starts = sim.events_of(EventType::kFuseStart).size();
  r.failed_picks = sim.failed_picks();
  return r;
}

void table() {
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
  auto all_refusing = [&](int percent) {
    return [&, percent](SimClient&, TrafficSim& sim) {
      auto rng = std::make_shared<std::mt19937>(42);
      for (int i = 1; i <= 10; ++i) {
        sim.set(backend(i), counting(
                                [rng, percent](absl::Duration) {
                                  return static_cast<int>((*rng)() % 100) < percent
                                             ? TrafficSim::refused({})
                                             : Outcome::http(200, absl::Milliseconds(10));
                                },
                                refused));
      }
      return std::vector<std::string>();
    };
  };

  const Scenario scenarios[] = {
      {"dead backend (refuses)", absl::Seconds(60),
       [&](SimClient& c, TrafficSim& sim) {
         const std::string bad = backend(3);
         sim.set(bad, counting(TrafficSim::refused, refused));
         c.prober->set_reachable([bad](const std::string& a) { return a != bad; });
         return std::vector<std::string>{bad};
       }},
      {"100% 404 vs <=4% peers", absl::Seconds(60),
       [&](SimClient&, TrafficSim& sim) {
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
         return std::vector<std::string>{bad};
       }},
      {"3.6x slower (90 vs 25 ms)", absl::Seconds(60),
       [&](SimClient&, TrafficSim& sim) {
         const std::string bad = backend(9);
         for (int i = 1; i <= 10; ++i) {
           const absl::Duration latency =
               backend(i) == bad ? absl::Milliseconds(90) : absl::Milliseconds(25);
           TrafficSim::Behaviour b = [latency](absl::Duration) {
             return Outcome::http(200, latency);
           };
           sim.set(backend(i), backend(i) == bad ? counting(b, slow) : b);
         }
         return std::vector<std::string>{bad};
       }},
      {"2 of 10 dead at once", absl::Seconds(60),
       [&](SimClient& c, TrafficSim& sim) {
         const std::vector<std::string> bad = {backend(4), backend(5)};
         for (const std::string& b : bad) sim.set(b, counting(TrafficSim::refused, refused));
         c.prober->set_reachable([bad](const std::string& a) {
           return std::find(bad.begin(), bad.end(), a) == bad.end();
         });
         return bad;
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
         return std::vector<std::string>{bad};
       }},
      {"incident: all fail 50%", absl::Seconds(60), all_refusing(50)},
      {"incident: all fail 20%", absl::Seconds(60), all_refusing(20)},
      {"incident: all fail 10%", absl::Seconds(60), all_refusing(10)},
      {"incident: all slow 3x", absl::Seconds(60),
       [&](SimClient&, TrafficSim& sim) {
         // 75 ms (3x the 25 ms above), jittered by +-20 ms per request.
         auto rng = std::make_shared<std::mt19937>(7);
         for (int i = 1; i <= 10; ++i) {
           sim.set(backend(i), counting(
                                   [rng](absl::Duration) {
                                     return Outcome::http(200,
                                                          absl::Milliseconds(55 + (*rng)() % 41));
                                   },
                                   slow));
         }
         return std::vector<std::string>();
       }},
      {"incident: all 4xx", absl::Seconds(60),
       [&](SimClient&, TrafficSim& sim) {
         for (int i = 1; i <= 10; ++i) {
           sim.set(
               backend(i),
               counting([](absl::Duration) { return Outcome::http(404, absl::Milliseconds(5)); },
                        client_error));
         }
         return std::vector<std::string>();
       }},
  };

  std::printf("1. Single bad backends and incidents (10 backends, 1000 req/s, fusing on)\n\n");
  std::printf("%-27s %-7s %10s %8s %7s %12s %5s %9s %5s %8s\n", "scenario", "banning", "to ban (s)",
              "attempts", "healthy", "bad requests", "bans", "ratio evt", "fuse", "no pick");
  for (const Scenario& s : scenarios) {
    for (bool banning : {true, false}) {
      *counter = 0;
      const Result r = run(s, banning);
      char to_ban[32] = "-", attempts[32] = "-";
      if (r.seconds_to_ban >= 0) std::snprintf(to_ban, sizeof(to_ban), "%.3f", r.seconds_to_ban);
      if (r.attempts_before_ban >= 0)
        std::snprintf(attempts, sizeof(attempts), "%lld",
                      static_cast<long long>(r.attempts_before_ban));
      std::printf("%-27s %-7s %10s %8s %7d %12llu %5zu %9zu %5zu %8llu\n", s.name,
                  banning ? "on" : "off", to_ban, attempts, r.healthy_ever_banned,
                  static_cast<unsigned long long>(*counter), r.bans, r.max_ratio_events,
                  r.fuse_starts, static_cast<unsigned long long>(r.failed_picks));
    }
  }
  std::printf(
      "\nto ban: when a bad backend was first banned; attempts: most requests a bad backend got\n"
      "before its first ban; healthy: other backends ever banned (goal 0; in an incident every\n"
      "backend is alike, and 'bans' should be 0); bad requests: failed (or slow) requests sent\n"
      "to bad backends; bans: bans plus re-bans (failed probes and probations); fuse: fusing\n"
      "episodes started; no pick: picks refused (dropped by fusing, or no backend).\n\n");
}

// --- 2. Four bad of seven, every order ---

// The nginx-like backends: what each kind answers.
enum Kind { kHealthy, k404, k500, kSlow, kClosed };
const char* kind_name(Kind k) {
  static const char* names[] = {"healthy", "404", "60%-500", "slow", "closed"};
  return names[k];
}

void set_kind(SimClient& c, TrafficSim& sim, const std::string& address, Kind kind,
              absl::Duration closed_from, std::shared_ptr<std::mt19937> rng) {
  switch (kind) {
    case kHealthy:
      sim.set(address, [](absl::Duration) { return Outcome::http(200, absl::Milliseconds(2)); });
      break;
    case k404:
      sim.set(address, [](absl::Duration) { return Outcome::http(404, absl::Milliseconds(1)); });
      break;
    case k500:
      sim.set(address, [rng](absl::Duration) {
        return Outcome::http((*rng)() % 10 < 6 ? 500 : 200, absl::Milliseconds(2));
      });
      break;
    case kSlow:
      sim.set(address, [](absl::Duration) { return Outcome::http(200, absl::Milliseconds(250)); });
      break;
    case kClosed:
      sim.set(address, [closed_from](absl::Duration t) {
        return t >= closed_from ? TrafficSim::refused(t)
                                : Outcome::http(200, absl::Milliseconds(2));
      });
      break;
  }
  (void)c;
}

struct OrderResult {
  std::set<int> held;  // positions holding a slot at the end
  bool healthy_banned = false;
  bool passed_over_event = false;  // a max_ban_ratio event named the 60%-500 one
  size_t replacements = 0;         // unbans that said "replaced"
};

OrderResult run_order(const std::vector<Kind>& kinds, absl::Duration closed_from) {
  SimClient c(one_service(static_cast<int>(kinds.size()), true));
  TrafficSim sim(c, "svc");
  auto rng = std::make_shared<std::mt19937>(11);
  std::string closed;
  for (size_t i = 0; i < kinds.size(); ++i) {
    set_kind(c, sim, backend(static_cast<int>(i + 1)), kinds[i], closed_from, rng);
    if (kinds[i] == kClosed) closed = backend(static_cast<int>(i + 1));
  }
  c.prober->set_reachable([closed](const std::string& a) { return a != closed; });
  sim.run(absl::Seconds(15), 1000);
  OrderResult r;
  const std::string state = c.client->query("endpoints^svc");
  for (size_t i = 0; i < kinds.size(); ++i) {
    const std::string key = "\"address\":\"" + backend(static_cast<int>(i + 1)) + "\"";
    const size_t at = state.find(key);
    const char* prefix = "\"ban\":{\"state\":\"";
    const size_t ban = state.find(prefix, at) + std::strlen(prefix);
    if (state.compare(ban, 2, "ok") != 0) r.held.insert(static_cast<int>(i));
  }
  for (const Event& e : c.events) {
    const int pos = std::atoi(e.endpoint.c_str() + std::strlen("10.0.0.")) - 1;
    if (e.type == EventType::kBan && kinds[pos] == kHealthy) r.healthy_banned = true;
    if (e.type == EventType::kMaxBanRatio && kinds[pos] == k500) r.passed_over_event = true;
    if (e.type == EventType::kUnban && e.detail.find("replaced") != std::string::npos) {
      ++r.replacements;
    }
  }
  return r;
}

void orders(bool quick) {
  std::printf(
      "2. Four bad of seven, max ratio 0.5 (3 slots), every order of the bad ones' positions\n"
      "   (3 healthy; always-404; 60%%-500; 250 ms slow; closed port), 15 s each\n\n");
  std::printf("%-34s %6s %14s %12s %12s %10s %8s\n", "variant", "orders", "worst 3 held",
              "404 held", "500 named", "replaced", "healthy");
  for (const absl::Duration closed_from : {absl::ZeroDuration(), absl::Seconds(12)}) {
    // Every placement of the four bad kinds over seven positions: 7!/3! = 840 orders.
    std::vector<Kind> kinds = {kHealthy, kHealthy, kHealthy, k404, k500, kSlow, kClosed};
    std::sort(kinds.begin(), kinds.end());
    int n = 0, worst = 0, with_404 = 0, named = 0, healthy = 0;
    size_t replaced = 0;
    do {
      if (quick && n % 20 != 0) {
        ++n;
        continue;
      }
      const OrderResult r = run_order(kinds, closed_from);
      std::set<Kind> held;
      for (int p : r.held) held.insert(kinds[p]);
      worst += held == std::set<Kind>{k404, kSlow, kClosed};
      with_404 += held.count(k404);
      named += r.passed_over_event;
      healthy += r.healthy_banned;
      replaced += r.replacements;
      ++n;
    } while (std::next_permutation(kinds.begin(), kinds.end()));
    const int ran = quick ? (n + 19) / 20 : n;
    std::printf("%-34s %6d %9d/%-4d %7d/%-4d %7d/%-4d %10zu %8d\n",
                closed_from == absl::ZeroDuration() ? "closed port dead from the start"
                                                    : "closed port dies at 12 s",
                ran, worst, ran, with_404, ran, named, ran, replaced, healthy);
  }
  std::printf(
      "\nworst 3 held: orders where the closed, 404 and slow ones held the three slots at 15 s;\n"
      "500 named: a max_ban_ratio event named the 60%%-500 one as passed over; replaced: unbans\n"
      "of a milder holder for a worse outlier (the closed port dying at 12 s takes the 500's\n"
      "slot); healthy: orders where a healthy backend was ever banned.\n\n");
}

// --- 3. The nginx-like service: probation ---

void nginx_like() {
  std::printf(
      "3. nginx-like: 3 healthy, always-404, 60%%-500, 250 ms slow, closed port; max ratio 0.6\n"
      "   (all four may be out), 1000 req/s, 120 s, fusing on\n\n");
  const Kind kinds[] = {kHealthy, k404, kHealthy, k500, kSlow, kHealthy, kClosed};
  for (bool probation : {true, false}) {
    ufc::v1::ClientConfig config = one_service(7, true, 0.6);
    config.mutable_services(0)->mutable_ban()->mutable_probation()->set_enabled(probation);
    SimClient c(config);
    TrafficSim sim(c, "svc");
    auto rng = std::make_shared<std::mt19937>(5);
    std::map<std::string, Kind> kind_of;
    for (int i = 0; i < 7; ++i) {
      set_kind(c, sim, backend(i + 1), kinds[i], absl::ZeroDuration(), rng);
      kind_of[backend(i + 1)] = kinds[i];
    }
    c.prober->set_reachable([](const std::string& a) { return a != backend(7); });

    // Walk in 1 ms steps (one request each): per bad backend, the requests it got between
    // each return to rotation (unban or probation) and the next ban; per second, the
    // caller's success rate (2xx from a backend; refused picks count as failures).
    std::map<std::string, uint64_t> back_at;  // requests when it came back, while back
    std::vector<uint64_t> after_return;
    size_t seen = 0;
    absl::Duration all_banned_at = absl::InfiniteDuration();
    std::set<std::string> banned_once;
    double worst_second = 1;
    uint64_t ok_before = 0, all_before = 0;
    for (int ms = 1; ms <= 120000; ++ms) {
      sim.run(absl::Milliseconds(1), 1000);
      for (; seen < c.events.size(); ++seen) {
        const Event& e = c.events[seen];
        const uint64_t now = sim.stats(e.endpoint).requests;
        if (e.type == EventType::kUnban || e.type == EventType::kProbation) {
          back_at[e.endpoint] = now;
        } else if (e.type == EventType::kBan || e.type == EventType::kProbeFailed) {
          if (auto it = back_at.find(e.endpoint); it != back_at.end()) {
            after_return.push_back(now - it->second);
            back_at.erase(it);
          }
          if (kind_of[e.endpoint] != kHealthy) banned_once.insert(e.endpoint);
          if (banned_once.size() == 4 && all_banned_at == absl::InfiniteDuration()) {
            all_banned_at = sim.elapsed();
          }
        }
      }
      if (ms % 1000 == 0) {
        const TrafficSim::Stats t = sim.totals();
        const uint64_t all = t.requests + sim.failed_picks();
        const uint64_t ok = t.requests - t.transport_failures - t.status_errors;
        if (sim.elapsed() > all_banned_at + absl::Seconds(1) && all > all_before) {
          worst_second =
              std::min(worst_second, static_cast<double>(ok - ok_before) / (all - all_before));
        }
        ok_before = ok;
        all_before = all;
      }
    }
    const uint64_t most =
        after_return.empty() ? 0 : *std::max_element(after_return.begin(), after_return.end());
    std::printf(
        "probation %-3s: every bad backend banned once by %.1f s; %zu returns of a still-bad\n"
        "               backend, at most %llu requests to it before its re-ban; worst 1-s success\n"
        "               rate after that: %.1f%%; bans+re-bans %zu, probations %zu\n",
        probation ? "on" : "off", absl::ToDoubleSeconds(all_banned_at), after_return.size(),
        static_cast<unsigned long long>(most), 100 * worst_second,
        sim.events_of(EventType::kBan).size() + sim.events_of(EventType::kProbeFailed).size(),
        sim.events_of(EventType::kProbation).size());
  }
  std::printf("\n");
}

// --- 4. A dead backend under a stalled tick ---

void stalled_tick() {
  std::printf(
      "4. A dead backend while the client's tick thread is stalled (10 backends, 1000 req/s,\n"
      "   by-request rule 5 of 10 / 5 in a row); the tick is stalled for 2 s from 1 s on\n\n");
  std::printf("%-10s %18s %22s %12s\n", "in flight", "failed requests", "threshold + in flight",
              "banned at");
  for (int in_flight : {1, 8, 32}) {
    SimClient c(one_service(10, true));
    TrafficSim sim(c, "svc");
    const std::string dead = backend(3);
    bool down = false;
    sim.set(dead, [&down](absl::Duration t) {
      return down ? TrafficSim::refused(t) : Outcome::http(200, absl::Milliseconds(10));
    });
    c.prober->set_reachable([dead](const std::string& a) { return a != dead; });
    sim.run(absl::Seconds(1), 1000, in_flight);
    sim.set_stalled(true);
    down = true;
    sim.run(absl::Seconds(2), 1000, in_flight);
    const uint64_t failed = sim.stats(dead).transport_failures;
    sim.set_stalled(false);
    const std::vector<Event> bans = sim.events_of(EventType::kBan, dead);
    std::printf("%-10d %18llu %22d %12s\n", in_flight, static_cast<unsigned long long>(failed),
                5 + in_flight, bans.empty() ? "never" : "after stall");
  }
  std::printf(
      "\nfailed requests: requests the dead backend got during the stall (all refused): the ban\n"
      "takes effect at the next pick, so at most the 5 that tripped the window plus those already\n"
      "in flight; the ban itself is recorded when the tick catches up.\n");
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  table();
  orders(quick);
  nginx_like();
  stalled_tick();
  return 0;
}
