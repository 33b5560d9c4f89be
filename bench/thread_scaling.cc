// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Where two-thread scaling goes: pick+report throughput on 1 thread, on 2 threads sharing
// one client, and on 2 threads with a client each (same policy and size, nothing shared
// but the process). The gap between the last two is what sharing endpoint state costs:
// every pick/report writes its endpoint's cache line, which the other core then has to
// fetch back.
//
//   build/bench/thread_scaling [policy ...]   (default: all six policies; 10, 100, 1000 endpoints)
//
// shared/separate is what sharing one client costs (1.00: nothing); the separate arm is
// the machine's own bound on two-thread scaling. The ratio columns are medians of the per-round
// ratios (each round runs the three arms back to back). Every pick carries the same hash key:
// consistent_hash sends them all to one hot endpoint, the worst case for sharing (it scales too:
// the state is per CPU).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "ufc/client.h"

namespace {

std::unique_ptr<ufc::Client> make_client(const std::string& policy, int n) {
  ufc::v1::ServiceConfig s;
  s.set_name("svc");
  for (int i = 0; i < n; ++i) {
    ufc::v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":80");
    e->set_weight(1 + i % 4);
  }
  s.mutable_balancing()->set_policy(policy);
  ufc::ClientOptions options;
  options.initial_config.emplace();
  *options.initial_config->add_services() = s;
  return *ufc::Client::create(options);
}

// Millions of pick+report per second, summed over `threads` threads.
double run(const std::vector<ufc::Client*>& clients, int threads, long iterations) {
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ufc::Client& client = *clients[t % clients.size()];
      for (long i = 0; i < iterations; ++i) {
        absl::StatusOr<ufc::Pick> pick = client.pick({.service = "svc", .hash_key = "k"});
        client.report(*pick, outcome);
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return threads * iterations / seconds / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> policies;
  for (int i = 1; i < argc; ++i) policies.push_back(argv[i]);
  if (policies.empty()) {
    policies = {"round_robin",     "random",          "weighted_round_robin",
                "weighted_random", "consistent_hash", "least_loaded"};
  }
  // Five interleaved rounds, medians: these VMs' throughput wanders by +-20% from one
  // second to the next, and interleaving exposes all three arms to the same drift.
  constexpr long kIterations = 2000000;
  constexpr int kRounds = 5;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("%-22s %9s %10s %18s %20s %17s   (medians of %d rounds)\n", "policy", "endpoints",
              "1 thread", "2 threads, shared", "2 threads, separate", "shared/separate", kRounds);
  for (const std::string& policy : policies) {
    for (int n : {10, 100, 1000}) {
      auto a = make_client(policy, n);
      auto b = make_client(policy, n);
      std::vector<double> one, shared, separate, shared_ratio, separate_ratio, cost;
      for (int r = 0; r < kRounds; ++r) {
        one.push_back(run({a.get()}, 1, kIterations));
        shared.push_back(run({a.get()}, 2, kIterations));
        separate.push_back(run({a.get(), b.get()}, 2, kIterations));
        shared_ratio.push_back(shared.back() / one.back());
        separate_ratio.push_back(separate.back() / one.back());
        cost.push_back(shared.back() / separate.back());
      }
      std::printf("%-22s %9d %7.1f M/s %8.1f M/s %5.2fx %10.1f M/s %5.2fx %17.2f\n", policy.c_str(),
                  n, median(one), median(shared), median(shared_ratio), median(separate),
                  median(separate_ratio), median(cost));
    }
  }
  return 0;
}
