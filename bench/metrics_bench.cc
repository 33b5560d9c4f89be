// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// bench/metrics_bench: what a Prometheus scrape of a big client costs. One client with
// --services services of --endpoints endpoints each, every endpoint reported to (so every
// series exists: outcomes ok and 5xx, the histogram, the gauges); then --rounds calls of
// Client::metrics_text(), timed, with the text's size and line count, and the heap the
// client holds: histograms on (written per endpoint, or per service: MetricsOptions) and off.
// Then the fleet with only --in_use services picked, as an agent holding every service
// sees it: its never-picked endpoints left out (the default) or written as zeros.
//
//   build/bench/metrics_bench                       # 1,000 services x 200 endpoints
//   build/bench/metrics_bench --services=10 --endpoints=20 --rounds=1   # CI smoke

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "ufc/client.h"

namespace {

using ufc::bench::flag;
using ufc::bench::heap_in_use;

}  // namespace

int main(int argc, char** argv) {
  const int services = flag(argc, argv, "--services", 1000);
  const int endpoints = flag(argc, argv, "--endpoints", 200);
  const int rounds = flag(argc, argv, "--rounds", 3);
  const int in_use = std::min(services, flag(argc, argv, "--in_use", 10));
  std::printf("metrics_bench: %d services x %d endpoints, %d rounds\n\n", services, endpoints,
              rounds);
  std::printf("%-34s %10s %12s %12s %14s %14s\n", "histograms", "heap_MB", "scrape_ms", "text_MB",
              "lines", "B/endpoint");
  struct Mode {
    bool histograms;
    int used;  // services picked and reported
  };
  for (const Mode mode : {Mode{true, services}, Mode{false, services}, Mode{true, in_use}}) {
    const bool histograms = mode.histograms;
    // Each mode in its own process: the per-CPU arenas keep their chunks for reuse, so a
    // second client in one process would not show its records in the heap.
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child != 0) {
      int status = 0;
      ::waitpid(child, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
      continue;
    }
    const size_t heap_before = heap_in_use();
    ufc::ClientOptions options;
    options.self_service = "bench";
    options.latency_histograms = histograms;
    options.initial_config.emplace();
    for (int s = 0; s < services; ++s) {
      ufc::v1::ServiceConfig* c = options.initial_config->add_services();
      c->set_name("service-" + std::to_string(s));
      c->set_version(1);
      c->mutable_fuse()->set_enabled(false);
      for (int e = 0; e < endpoints; ++e) {
        c->add_endpoints()->set_address("10." + std::to_string(s / 250) + "." +
                                        std::to_string(s % 250) + "." + std::to_string(e % 250) +
                                        ":" + std::to_string(8000 + e / 250));
      }
    }
    absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
    if (!client.ok()) {
      std::fprintf(stderr, "%s\n", std::string(client.status().message()).c_str());
      return 1;
    }
    options.initial_config.reset();
    // Every endpoint of the used services reported to: round robin visits each in turn.
    for (int s = 0; s < mode.used; ++s) {
      const std::string name = "service-" + std::to_string(s);
      for (int e = 0; e < endpoints; ++e) {
        absl::StatusOr<ufc::Pick> pick = (*client)->pick({.service = name});
        if (!pick.ok()) continue;
        (*client)->report(*pick, e % 10 == 0 ? ufc::Outcome::http(503, absl::Milliseconds(3))
                                             : ufc::Outcome::http(200, absl::Microseconds(700)));
      }
    }
    const size_t heap = heap_in_use() - heap_before;
    const bool fleet = mode.used == services;
    for (const bool variant : {true, false}) {
      if (!histograms && !variant) break;
      // The whole fleet in use: per-endpoint histograms or per-service ones. Part of it:
      // per-endpoint histograms, the unused endpoints left out or written.
      const bool per_endpoint = fleet ? variant : true;
      ufc::MetricsOptions mo;
      mo.endpoint_histograms = per_endpoint;
      mo.unused_endpoints = !fleet && !variant;
      double best_ms = 1e300;
      size_t bytes = 0, lines = 0;
      for (int r = 0; r < rounds; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string text = (*client)->metrics_text(mo);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        best_ms = std::min(best_ms, ms);
        bytes = text.size();
        lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
      }
      char label[64];
      if (fleet) {
        std::snprintf(label, sizeof label, "%s",
                      !histograms    ? "off"
                      : per_endpoint ? "on, per endpoint"
                                     : "on, per service");
      } else {
        std::snprintf(label, sizeof label, "on, %d in use, unused %s", mode.used,
                      mo.unused_endpoints ? "written" : "left out");
      }
      std::printf("%-34s %10.1f %12.1f %12.1f %14zu %14.0f\n", label,
                  static_cast<double>(heap) / 1e6, best_ms, static_cast<double>(bytes) / 1e6, lines,
                  static_cast<double>(heap) / (static_cast<double>(services) * endpoints));
    }
    std::fflush(stdout);
    std::_Exit(0);
  }
  std::printf(
      "\nheap_MB: the client with its config and state; scrape_ms: the best of the "
      "rounds of metrics_text().\n");
  return 0;
}
