// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// bench/fleet_bench: the original UFC's fleet in one client (issue 19). One table, one run:
//
//  * memory: a client holding --services x --endpoints endpoints, with 2, 8 and 16 CPU
//    shards (UFC_CPU_SHARDS, each in its own process: the shard count is fixed per
//    process). Heap (mallinfo2) and RSS per endpoint while every service is idle (known,
//    never picked), then the extra per endpoint of --active services picked from, then
//    the same once those went idle again and gave their per-CPU records back; and the
//    CPU the idle fleet takes in the background (% of one core over 2 s: housekeeping,
//    the ban and fuse ticks);
//  * apply: the whole config applied to an empty client (timed), and one service's
//    update (one endpoint of --endpoints changed, its version raised) applied --updates
//    times, median and worst, at the full fleet and at a tenth of it.
//
// The endpoint addresses ("10.a.b.c:80xx") fit std::string's inline buffer, so the
// address costs no heap of its own here: "128 B plus the address" is 128 B.
//
//   build/bench/fleet_bench                          # 1,000 services x 200 endpoints
//   build/bench/fleet_bench --services=20 --endpoints=20 --updates=5   # CI smoke

#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "ufc/client.h"

namespace {

using ufc::bench::flag;
using ufc::bench::heap_in_use;

size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// CPU time of the whole process (every thread), in seconds.
double cpu_seconds() {
  struct rusage u;
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double since_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string service_name(int s) { return "service-" + std::to_string(s); }

// Endpoint e of service s; `moved` gives endpoint 0 a port of its own per version.
std::string address(int s, int e, int moved) {
  return "10." + std::to_string(s / 250) + "." + std::to_string(s % 250) + "." +
         std::to_string(e % 250) + ":" + std::to_string(moved != 0 ? 9000 + moved : 8000 + e / 250);
}

ufc::v1::ServiceConfig service(int s, int endpoints, int version) {
  ufc::v1::ServiceConfig c;
  c.set_name(service_name(s));
  c.set_version(version);
  for (int e = 0; e < endpoints; ++e) {
    ufc::v1::Endpoint* ep = c.add_endpoints();
    // Version v moves one endpoint: the update of one service changes one address.
    ep->set_address(address(s, e, e == 0 ? version - 1 : 0));
    (*ep->mutable_tags())["idc"] = e % 2 ? "bj" : "sh";
  }
  return c;
}

ufc::v1::ClientConfig fleet(int services, int endpoints) {
  ufc::v1::ClientConfig config;
  for (int s = 0; s < services; ++s) *config.add_services() = service(s, endpoints, 1);
  return config;
}

std::unique_ptr<ufc::Client> make_client(absl::Duration idle_release) {
  ufc::ClientOptions options;
  options.self_service = "bench";
  options.idle_release = idle_release;
  absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "create: %s\n", std::string(client.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(client);
}

// Picks and reports `rounds` times per endpoint of services [0, active), from two threads
// (so two CPU shards are written, as on a real host).
void use(ufc::Client& client, int active, int endpoints, int rounds) {
  auto work = [&] {
    for (int s = 0; s < active; ++s) {
      const std::string name = service_name(s);
      for (int i = 0; i < endpoints * rounds; ++i) {
        absl::StatusOr<ufc::Pick> pick = client.pick({.service = name});
        if (pick.ok()) client.report(*pick, ufc::Outcome::http(200, absl::Microseconds(500)));
      }
    }
  };
  std::thread other(work);
  work();
  other.join();
}

// One process per shard count: prints one row.
int memory_row(int shards, int services, int endpoints, int active) {
  const ufc::v1::ClientConfig config = fleet(services, endpoints);
  const double n = static_cast<double>(services) * endpoints;
  const double n_active = static_cast<double>(active) * endpoints;
  malloc_trim(0);
  const size_t heap0 = heap_in_use(), rss0 = rss_bytes();
  std::unique_ptr<ufc::Client> client = make_client(absl::Milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  if (absl::Status st = client->apply(config); !st.ok()) {
    std::fprintf(stderr, "apply: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  const double apply_ms = since_ms(t0);
  const size_t heap1 = heap_in_use(), rss1 = rss_bytes();
  // What the idle fleet costs in the background (housekeeping, the ban and fuse ticks).
  const double cpu0 = cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double background = (cpu_seconds() - cpu0) / 2.0 * 100.0;
  const size_t heap_settled = heap_in_use();  // the base of the active figures
  use(*client, active, endpoints, 4);
  const size_t heap2 = heap_in_use();
  // Idle: housekeeping gives the records back after idle_release (300 ms here).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const size_t heap3 = heap_in_use();
  std::printf("%-7d %12.0f %12.0f %12.1f %14.0f %14.0f %10.0f %8.1f\n", shards,
              static_cast<double>(heap1 - heap0) / n, static_cast<double>(rss1 - rss0) / n,
              (static_cast<double>(heap1) - static_cast<double>(heap0)) / (1 << 20),
              (static_cast<double>(heap2) - static_cast<double>(heap_settled)) / n_active,
              (static_cast<double>(heap3) - static_cast<double>(heap_settled)) / n_active, apply_ms,
              background);
  return 0;
}

// Full apply and one-service updates at `services` services.
void apply_row(int services, int endpoints, int updates) {
  const ufc::v1::ClientConfig config = fleet(services, endpoints);
  std::unique_ptr<ufc::Client> client = make_client(absl::Minutes(10));
  const auto t0 = std::chrono::steady_clock::now();
  if (absl::Status st = client->apply(config); !st.ok()) {
    std::fprintf(stderr, "apply: %s\n", std::string(st.message()).c_str());
    std::exit(1);
  }
  const double full_ms = since_ms(t0);
  use(*client, std::min(services, 10), endpoints, 1);
  std::vector<double> ms;
  for (int u = 0; u < updates; ++u) {
    // Alternate over the services, active and idle ones, each a version up.
    const int s = (u * 7) % services;
    const ufc::v1::ServiceConfig next = service(s, endpoints, 2 + u);
    const auto t1 = std::chrono::steady_clock::now();
    if (absl::Status st = client->apply(next); !st.ok()) {
      std::fprintf(stderr, "update: %s\n", std::string(st.message()).c_str());
      std::exit(1);
    }
    ms.push_back(since_ms(t1));
    if (std::getenv("FLEET_BENCH_VERBOSE") != nullptr) {
      std::fprintf(stderr, "update %d (service %d): %.3f ms\n", u, s, ms.back());
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-9d %10d %12.1f %14.3f %14.3f\n", services, endpoints, full_ms, ms[ms.size() / 2],
              ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  const int services = flag(argc, argv, "--services", 1000);
  const int endpoints = flag(argc, argv, "--endpoints", 200);
  const int active = std::min(services, flag(argc, argv, "--active", 10));
  const int updates = flag(argc, argv, "--updates", 50);
  std::printf("fleet_bench: %d services x %d endpoints, %d active\n\n", services, endpoints,
              active);
  std::printf("Memory per endpoint (B), idle fleet; then per active endpoint\n");
  std::printf("%-7s %12s %12s %12s %14s %14s %10s %8s\n", "shards", "heap_idle", "rss_idle",
              "heap_MB", "active_extra", "after_idle", "apply_ms", "idle_cpu%");
  for (const int shards : {2, 8, 16}) {
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child == 0) {
      ::setenv("UFC_CPU_SHARDS", std::to_string(shards).c_str(), 1);
      std::exit(memory_row(shards, services, endpoints, active));
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  std::printf("\nApply (ms): the whole fleet, and one service's update (%d of them)\n", updates);
  std::printf("%-9s %10s %12s %14s %14s\n", "services", "endpoints", "full_ms", "one_median_ms",
              "one_worst_ms");
  for (const int n : {std::max(1, services / 10), services}) {
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child == 0) {
      apply_row(n, endpoints, updates);
      std::exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  return 0;
}
