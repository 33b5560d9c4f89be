// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// What hostile and huge configs cost a client: for each case, the time to validate it,
// to create a client with it, and to apply a changed version of it, and the peak memory
// the client needed beyond the config itself. Each case runs in a forked child, so peak
// RSS is the case's own and a case that runs away is killed at --timeout.
//
//   build/bench/hostile_config                 # the full table (a few minutes)
//   build/bench/hostile_config --scale=0.01    # every case shrunk 100x (CI smoke)
//   build/bench/hostile_config --only=maglev   # cases whose name contains "maglev"
//
// Goals (issue 11): any config the validator accepts applies in <= 1 s and <= 256 MiB
// extra; 100,000 endpoints in <= 0.5 s under every policy; a ban/unban rebuild <= 10 ms
// for a service of 1,000 endpoints and 100 routes (the "rebuild" rows: the time from a
// ban's decision to the new snapshot, measured through the ban listener).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/balancing/maglev.h"
#include "src/config/limits.h"
#include "src/service/service_snapshot.h"
#include "ufc/client.h"
#include "ufc/config.h"

namespace {

using ufc::v1::ClientConfig;
using ufc::v1::ServiceConfig;
namespace lim = ufc::internal;

double g_scale = 1.0;
int scaled(double n) { return std::max(1, static_cast<int>(std::lround(n * g_scale))); }

std::string address(int i) {
  return absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255, ".", i & 255, ":80");
}

ServiceConfig service(const std::string& name, int endpoints, const std::string& policy,
                      bool varied_weights = false) {
  ServiceConfig s;
  s.set_name(name);
  s.set_version(1);
  s.mutable_balancing()->set_policy(policy);
  for (int i = 0; i < endpoints; ++i) {
    ufc::v1::Endpoint* e = s.add_endpoints();
    e->set_address(address(i));
    if (varied_weights) e->set_weight(1 + (i * 7919) % 100);
    (*e->mutable_tags())["idc"] = absl::StrCat("idc", i % 4);
    (*e->mutable_tags())["shard"] = absl::StrCat("s", i % 16);
  }
  return s;
}

ClientConfig one(ServiceConfig s) {
  ClientConfig c;
  *c.add_services() = std::move(s);
  return c;
}

// Routes whose destinations select {shard: s<j>}: each a different subset.
void add_routes(ServiceConfig& s, int routes, int destinations) {
  for (int r = 0; r < routes; ++r) {
    ufc::v1::Route* route = s.add_routes();
    route->set_name(absl::StrCat("r", r));
    auto* a = route->mutable_match()->add_attributes();
    a->set_key("user");
    a->set_value(absl::StrCat("u", r));
    for (int d = 0; d < destinations; ++d) {
      ufc::v1::Subset* sub = route->add_destinations();
      sub->set_name(absl::StrCat("d", d));
      (*sub->mutable_tags())["shard"] = absl::StrCat("s", (r + d) % 16);
    }
  }
}

struct Case {
  std::string name;
  std::function<ClientConfig()> make;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  const int n100k = scaled(100000);
  for (const char* policy : {"round_robin", "random", "weighted_round_robin", "weighted_random",
                             "consistent_hash", "least_loaded"}) {
    const bool weighted = std::string(policy).find("weight") != std::string::npos ||
                          std::string(policy) == "consistent_hash";
    out.push_back({absl::StrCat("100k endpoints, ", policy, weighted ? " (weights 1..100)" : ""),
                   [=] { return one(service("big", n100k, policy, weighted)); }});
  }
  out.push_back({"10,000 services x 10 endpoints", [] {
                   ClientConfig c;
                   for (int i = 0; i < scaled(10000); ++i) {
                     *c.add_services() = service(absl::StrCat("svc", i), 10, "round_robin");
                   }
                   return c;
                 }});
  // Issue 11's inputs.
  out.push_back({"#1 maglev max table x 100 destinations", [] {
                   ServiceConfig s = service("ch", 1, "consistent_hash");
                   s.mutable_balancing()->mutable_consistent_hash()->set_min_table_size(
                       lim::kMaxMaglevTableSize);
                   s.mutable_endpoints(0)->clear_tags();
                   ufc::v1::Route* r = s.add_routes();
                   for (int d = 0; d < 100; ++d) r->add_destinations()->set_name(absl::StrCat(d));
                   return one(s);
                 }});
  out.push_back({"#2 one endpoint, 100k tags, selected on all", [] {
                   ServiceConfig s = service("tags", 1, "round_robin");
                   auto* tags = s.mutable_endpoints(0)->mutable_tags();
                   ufc::v1::Subset* sub = s.add_routes()->add_destinations();
                   for (int t = 0; t < scaled(100000); ++t) {
                     (*tags)[absl::StrCat("k", t)] = "v";
                     (*sub->mutable_tags())[absl::StrCat("k", t)] = "v";
                   }
                   return one(s);
                 }});
  out.push_back({"#3 1,000 routes x 100k endpoints", [] {
                   ServiceConfig s = service("routes", scaled(100000), "round_robin");
                   add_routes(s, scaled(1000), 1);
                   return one(s);
                 }});
  out.push_back({"#4 10 MB route name x 100 destinations", [] {
                   ServiceConfig s = service("long", 16, "round_robin");
                   ufc::v1::Route* r = s.add_routes();
                   r->set_name(std::string(scaled(10 << 20), 'x'));
                   for (int d = 0; d < 100; ++d) {
                     ufc::v1::Subset* sub = r->add_destinations();
                     sub->set_name(absl::StrCat(d));
                   }
                   return one(s);
                 }});
  out.push_back({"#4 10 MB route name x 32 destinations", [] {
                   ServiceConfig s = service("long", 16, "round_robin");
                   ufc::v1::Route* r = s.add_routes();
                   r->set_name(std::string(scaled(10 << 20), 'x'));
                   for (int d = 0; d < lim::kMaxDestinationsPerRoute; ++d) {
                     r->add_destinations()->set_name(absl::StrCat(d));
                   }
                   return one(s);
                 }});
  out.push_back({"#4 10,000 routes x 1,000 attributes", [] {
                   ServiceConfig s = service("attrs", 16, "round_robin");
                   for (int i = 0; i < scaled(10000); ++i) {
                     ufc::v1::Route* r = s.add_routes();
                     for (int a = 0; a < 1000; ++a) {
                       auto* m = r->mutable_match()->add_attributes();
                       m->set_key(absl::StrCat("k", a));
                       m->set_value("v");
                     }
                     r->add_destinations();
                   }
                   return one(s);
                 }});
  // The largest configs the limits allow, one dimension at a time.
  out.push_back({"max routes x destinations, 100k endpoints", [] {
                   ServiceConfig s = service("maxroutes", scaled(100000), "round_robin");
                   add_routes(s, lim::kMaxRoutesPerService, lim::kMaxDestinationsPerRoute);
                   return one(s);
                 }});
  out.push_back({"max routes x destinations, maglev, 1k endpoints", [] {
                   ServiceConfig s = service("maxch", 1000, "consistent_hash", true);
                   add_routes(s, lim::kMaxRoutesPerService, lim::kMaxDestinationsPerRoute);
                   return one(s);
                 }});
  out.push_back({"max tags per endpoint x 10k endpoints", [] {
                   ServiceConfig s = service("maxtags", scaled(10000), "round_robin");
                   for (auto& e : *s.mutable_endpoints()) {
                     for (int t = 2; t < lim::kMaxTagsPerEndpoint; ++t) {
                       (*e.mutable_tags())[absl::StrCat("key", t)] = std::string(64, 'v');
                     }
                   }
                   ufc::v1::Subset* sub = s.add_routes()->add_destinations();
                   for (int t = 2; t < 2 + lim::kMaxTagsPerSelector; ++t) {
                     (*sub->mutable_tags())[absl::StrCat("key", t)] = std::string(64, 'v');
                   }
                   return one(s);
                 }});
  out.push_back({"max attributes x max routes", [] {
                   ServiceConfig s = service("maxattrs", 16, "round_robin");
                   for (int i = 0; i < lim::kMaxRoutesPerService; ++i) {
                     ufc::v1::Route* r = s.add_routes();
                     r->set_name(std::string(lim::kMaxNameLength - 8, 'r') + std::to_string(i));
                     for (int a = 0; a < lim::kMaxAttributesPerRule; ++a) {
                       auto* m = r->mutable_match()->add_attributes();
                       m->set_key(std::string(lim::kMaxNameLength - 8, 'k') + std::to_string(a));
                       m->set_value(std::string(lim::kMaxValueLength, 'v'));
                     }
                     r->add_destinations();
                   }
                   return one(s);
                 }});
  out.push_back({"max maglev entries, 16 subsets", [] {
                   ServiceConfig s = service("maxmaglev", 16 * 1000, "consistent_hash", true);
                   // 16 tables of min_table_size slots, and 1,600,000 for the whole service.
                   s.mutable_balancing()->mutable_consistent_hash()->set_min_table_size(
                       (lim::kMaxMaglevEntriesPerService - 1600000) / 16 - 4000);
                   ufc::v1::Route* r = s.add_routes();
                   for (int d = 0; d < 16; ++d) {
                     (*r->add_destinations()->mutable_tags())["shard"] = absl::StrCat("s", d);
                   }
                   return one(s);
                 }});
  return out;
}

// The changed version an apply installs: every service one version up, one weight changed.
ClientConfig changed(ClientConfig c) {
  for (ServiceConfig& s : *c.mutable_services()) {
    s.set_version(s.version() + 1);
    if (s.endpoints_size() > 0) s.mutable_endpoints(0)->set_weight(2);
  }
  return c;
}

long rss_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atol(line + 6);
  }
  if (f != nullptr) std::fclose(f);
  return kib;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Row {
  char verdict[160];
  double validate_s = -1, create_s = -1, apply_s = -1;
  double extra_mib = 0;
  size_t bytes = 0;
};

// In the child: everything but the config's own memory is the client's.
Row run_case(const Case& c) {
  Row row{};
  ClientConfig config = c.make();
  ClientConfig next = changed(config);
  row.bytes = config.ByteSizeLong();
  ufc::ClientOptions options;
  options.initial_config = config;  // the caller's copy, made before measuring
  const long base = rss_kib();
  auto t = std::chrono::steady_clock::now();
  absl::Status valid = ufc::validate_config(config);
  row.validate_s = seconds_since(t);
  if (!valid.ok()) {
    std::snprintf(row.verdict, sizeof row.verdict, "rejected: %.120s",
                  std::string(valid.message()).c_str());
  } else {
    t = std::chrono::steady_clock::now();
    auto client = ufc::Client::create(options);
    row.create_s = seconds_since(t);
    if (!client.ok()) {
      std::snprintf(row.verdict, sizeof row.verdict, "create failed: %.110s",
                    std::string(client.status().message()).c_str());
    } else {
      t = std::chrono::steady_clock::now();
      absl::Status applied = (*client)->apply(next);
      row.apply_s = seconds_since(t);
      std::snprintf(
          row.verdict, sizeof row.verdict, "%s",
          applied.ok() ? "accepted" : std::string(applied.message()).substr(0, 120).c_str());
    }
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  row.extra_mib = static_cast<double>(usage.ru_maxrss - base) / 1024.0;
  return row;
}

// A ban's rebuild: the snapshot with one endpoint out of rotation, built from the one in
// force, as the ban listener does; the best of 20. With `full`, every set is rebuilt (what
// a new IDC map costs).
double rebuild_seconds(const ServiceConfig& config, bool full) {
  auto parsed = ufc::internal::parse_service(config);
  if (!parsed.ok()) return -1;
  auto update = ufc::internal::build_endpoints(parsed->endpoints.specs, nullptr, nullptr);
  auto env = std::make_shared<ufc::internal::RoutingEnv>();
  std::vector<bool> out(update.set->size());
  auto snap = ufc::internal::compile_snapshot(parsed->policy, update.set, parsed->endpoints.layout,
                                              env, out, nullptr, absl::Now());
  double best = 1e9;
  for (int i = 0; i < 20; ++i) {
    out[(i * 37) % out.size()] = !out[(i * 37) % out.size()];
    auto t = std::chrono::steady_clock::now();
    auto next =
        full ? ufc::internal::recompile(*snap, out, env) : ufc::internal::recompile(*snap, out);
    best = std::min(best, seconds_since(t));
    snap = std::move(next);
  }
  return best;
}

std::string seconds(double s) { return s < 0 ? "-" : absl::StrCat(std::round(s * 1e4) / 1e4); }

}  // namespace

int main(int argc, char** argv) {
  double timeout_s = 60;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--scale=", 0) == 0) g_scale = std::stod(arg.substr(8));
    if (arg.rfind("--timeout=", 0) == 0) timeout_s = std::stod(arg.substr(10));
    if (arg.rfind("--only=", 0) == 0) only = arg.substr(7);
  }
  std::printf("%-50s %10s %9s %9s %9s %9s  %s\n", "case", "bytes", "validate", "create", "apply",
              "extraMiB", "verdict");
  int failures = 0;
  for (const Case& c : cases()) {
    if (!only.empty() && c.name.find(only) == std::string::npos) continue;
    int fds[2];
    if (pipe(fds) != 0) return 2;
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Row row = run_case(c);
      (void)!write(fds[1], &row, sizeof row);
      _exit(0);
    }
    close(fds[1]);
    auto start = std::chrono::steady_clock::now();
    int status = 0;
    bool done = false;
    while (!done && seconds_since(start) < timeout_s) {
      done = waitpid(pid, &status, WNOHANG) == pid;
      if (!done) usleep(10000);
    }
    Row row{};
    if (!done) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      std::snprintf(row.verdict, sizeof row.verdict, "KILLED after %.0f s", timeout_s);
      ++failures;
    } else if (read(fds[0], &row, sizeof row) != sizeof row) {
      std::snprintf(row.verdict, sizeof row.verdict, "child died (status %d)", status);
      ++failures;
    }
    close(fds[0]);
    std::printf("%-50s %10zu %9s %9s %9s %9.1f  %s\n", c.name.c_str(), row.bytes,
                seconds(row.validate_s).c_str(), seconds(row.create_s).c_str(),
                seconds(row.apply_s).c_str(), row.extra_mib, row.verdict);
  }
  if (!only.empty() && std::string("rebuild").find(only) == std::string::npos) {
    return failures == 0 ? 0 : 1;
  }
  std::printf("\nban/unban rebuild, 1,000 endpoints, 100 routes x 4 destinations (best of 20):\n");
  for (const char* policy : {"round_robin", "weighted_round_robin", "consistent_hash"}) {
    ServiceConfig s = service("rebuild", 1000, policy, true);
    add_routes(s, 100, 4);
    std::printf("  %-22s incremental %8.2f ms   every set %8.2f ms\n", policy,
                rebuild_seconds(s, false) * 1e3, rebuild_seconds(s, true) * 1e3);
  }
  return failures == 0 ? 0 : 1;
}
