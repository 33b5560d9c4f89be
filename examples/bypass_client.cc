// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Bypass mode end to end: UFC picks, this program talks HTTP, UFC learns from the report.
// Runs the service under each balancing policy in turn and prints, per policy, how the
// requests spread over the backends.
//
//   bypass_client --config=examples/demo.json --service=echo --seconds=1 --threads=4

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "examples/http_get.h"
#include "ufc/client.h"
#include "ufc/config.h"

ABSL_FLAG(std::string, config, "examples/demo.json", "JSON ClientConfig file");
ABSL_FLAG(std::string, service, "echo", "service to call");
ABSL_FLAG(double, seconds, 1.0, "seconds per policy");
ABSL_FLAG(int, threads, 4, "concurrent callers");
ABSL_FLAG(std::string, policies,
          "round_robin,random,weighted_round_robin,weighted_random,consistent_hash,least_loaded",
          "comma-separated balancing policies to run, in order");
ABSL_FLAG(std::string, self_idc, "bj-1", "the caller's own (physical) IDC, for IDC affinity");
ABSL_FLAG(std::string, sync, "",
          "control server host:port: take `service` from ufc-metad instead of --config, and "
          "print each backend's share every --interval_ms for --seconds");
ABSL_FLAG(int, interval_ms, 250, "with --sync: one line per interval");
ABSL_FLAG(int, deadline_ms, 150,
          "each request's total budget (0: none); it travels to the backend");

namespace {

struct BackendStats {
  std::string mode;
  long requests = 0, ok = 0, server_errors = 0, failures = 0, budgets = 0;
  double latency_ms = 0, budget_ms = 0;
};
using Table = std::map<std::string, BackendStats>;

Table run_policy(ufc::Client& client, const std::string& service, double seconds, int threads,
                 absl::Duration budget) {
  Table table;
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Table local;
      std::mt19937_64 rng(t + 1);
      while (!stop.load(std::memory_order_relaxed)) {
        const std::string user = absl::StrCat("user-", rng() % 10000);
        const ufc::Deadline deadline =
            budget > absl::ZeroDuration() ? ufc::Deadline::after(budget) : ufc::Deadline::none();
        absl::StatusOr<ufc::Pick> pick =
            client.pick({.service = service, .hash_key = user, .deadline = deadline});
        if (!pick.ok()) {
          std::fprintf(stderr, "pick: %s\n", std::string(pick.status().ToString()).c_str());
          continue;
        }
        std::string echoed;
        const ufc::Outcome outcome = ufc_examples::http_get(*pick, "/", &echoed);
        client.report(*pick, outcome);
        BackendStats& s = local[std::string(pick->address())];
        double received = 0;
        if (absl::SimpleAtod(echoed, &received)) {
          s.budget_ms += received;
          ++s.budgets;
        }
        s.mode = std::string(pick->tag("mode"));
        ++s.requests;
        const ufc::OutcomeClass c = outcome.classify();
        s.ok += c == ufc::OutcomeClass::kSuccess;
        s.server_errors += c == ufc::OutcomeClass::kServerError;
        s.failures += c != ufc::OutcomeClass::kSuccess && c != ufc::OutcomeClass::kServerError &&
                      c != ufc::OutcomeClass::kClientError;
        s.latency_ms += absl::ToDoubleMilliseconds(outcome.latency);
      }
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [address, s] : local) {
        BackendStats& total = table[address];
        total.mode = s.mode;
        total.requests += s.requests;
        total.ok += s.ok;
        total.server_errors += s.server_errors;
        total.failures += s.failures;
        total.latency_ms += s.latency_ms;
        total.budget_ms += s.budget_ms;
        total.budgets += s.budgets;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  return table;
}

void print_table(const std::string& policy, const Table& table) {
  long total = 0;
  for (const auto& [address, s] : table) total += s.requests;
  std::printf("\npolicy %-22s %8ld requests\n", policy.c_str(), total);
  std::printf("  %-18s %-8s %9s %7s %8s %6s %7s %9s %10s\n", "backend", "mode", "requests", "share",
              "2xx", "5xx", "errors", "mean ms", "budget ms");
  for (const auto& [address, s] : table) {
    std::printf("  %-18s %-8s %9ld %6.1f%% %8ld %6ld %7ld %9.2f %10.1f\n", address.c_str(),
                s.mode.c_str(), s.requests, total ? 100.0 * s.requests / total : 0.0, s.ok,
                s.server_errors, s.failures, s.requests ? s.latency_ms / s.requests : 0.0,
                s.budgets ? s.budget_ms / s.budgets : 0.0);
  }
}

// --sync: the service comes from ufc-metad; a line per interval shows how traffic follows
// the config as it changes.
int run_synced(const std::string& service) {
  ufc::ClientOptions options;
  options.self_service = "bypass-client";
  options.sync.servers = {{absl::GetFlag(FLAGS_sync), ""}};
  options.sync.services = {service};
  options.on_event = [](const ufc::Event& e) {
    if (e.type == ufc::EventType::kConfigApplied || e.type == ufc::EventType::kSyncConnected) {
      std::printf("  event %s %s v%llu %s\n", ufc::event_type_name(e.type), e.service.c_str(),
                  static_cast<unsigned long long>(e.version), e.detail.c_str());
      std::fflush(stdout);
    }
  };
  absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "ufc: %s\n", std::string(client.status().ToString()).c_str());
    return 1;
  }
  if (absl::Status s = (*client)->wait_for_config(service, absl::Seconds(10)); !s.ok()) {
    std::fprintf(stderr, "ufc: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const double interval = absl::GetFlag(FLAGS_interval_ms) / 1000.0;
  const absl::Time start = absl::Now();
  for (double t = 0; t < absl::GetFlag(FLAGS_seconds); t += interval) {
    Table table = run_policy(**client, service, interval, absl::GetFlag(FLAGS_threads),
                             absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
    long total = 0;
    for (const auto& [address, s] : table) total += s.requests;
    std::string line = absl::StrFormat("  t=%5.2fs", absl::ToDoubleSeconds(absl::Now() - start));
    for (const auto& [address, s] : table) {
      absl::StrAppend(&line, absl::StrFormat("  %s %5.1f%%", address,
                                             total ? 100.0 * s.requests / total : 0.0));
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string service = absl::GetFlag(FLAGS_service);
  if (!absl::GetFlag(FLAGS_sync).empty()) return run_synced(service);
  ufc::ClientOptions options;
  options.self_service = "bypass-client";
  options.self_idc = absl::GetFlag(FLAGS_self_idc);
  options.config_path = absl::GetFlag(FLAGS_config);
  std::mutex events_mu;
  std::vector<std::string> events;  // printed after each policy's table
  options.on_event = [&](const ufc::Event& e) {
    if (e.type == ufc::EventType::kConfigApplied) return;  // one per policy: not news
    std::string line = absl::StrCat("  event ", ufc::event_type_name(e.type), " ", e.endpoint);
    if (e.ban_time > absl::ZeroDuration())
      absl::StrAppend(&line, " for ", absl::FormatDuration(e.ban_time));
    if (!e.detail.empty()) absl::StrAppend(&line, ": ", e.detail);
    std::lock_guard<std::mutex> lock(events_mu);
    events.push_back(std::move(line));
  };
  absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "ufc: %s\n", std::string(client.status().ToString()).c_str());
    return 1;
  }
  absl::StatusOr<ufc::v1::ClientConfig> config = ufc::load_config_file(options.config_path);
  const ufc::v1::ServiceConfig* base = nullptr;
  for (const auto& s : config->services()) {
    if (s.name() == service) base = &s;
  }
  if (base == nullptr) {
    std::fprintf(stderr, "service %s is not in %s\n", service.c_str(), options.config_path.c_str());
    return 1;
  }

  uint64_t version = base->version();
  for (absl::string_view policy : absl::StrSplit(absl::GetFlag(FLAGS_policies), ',')) {
    ufc::v1::ServiceConfig next = *base;
    next.set_version(++version);
    next.mutable_balancing()->set_policy(std::string(policy));
    if (absl::Status s = (*client)->apply(next); !s.ok()) {
      std::fprintf(stderr, "apply %s: %s\n", std::string(policy).c_str(),
                   std::string(s.ToString()).c_str());
      return 1;
    }
    Table table =
        run_policy(**client, service, absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_threads),
                   absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
    for (const auto& e : base->endpoints()) {  // show backends that got nothing, too
      BackendStats& s = table[e.address()];
      if (s.mode.empty() && e.tags().count("mode")) s.mode = e.tags().at("mode");
    }
    print_table(std::string(policy), table);
    std::lock_guard<std::mutex> lock(events_mu);
    for (const std::string& line : events) std::printf("%s\n", line.c_str());
    events.clear();
  }
  std::printf("\nquery(\"request_info^%s\") = %s\n", service.c_str(),
              (*client)->query("request_info^" + service).c_str());
  return 0;
}
