// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// pick+report cost per policy, at 10 / 100 / 1000 endpoints, on 1 and 2 threads, with
// side-by-side references measured in the same run: one steady_clock read, a mutex-guarded
// round robin and a shared fetch_add round robin (the designs the request path avoids).
// Then heap bytes per endpoint, per policy.
//
//   build/bench/pick_report_bench --benchmark_min_time=0.5
//
// "Time" is wall time per pick+report and thread; items_per_second sums all threads, so
// the 2-thread / 1-thread ratio of items_per_second is the scaling.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "src/common/cpu_shard.h"
#include "src/endpoint/endpoint.h"
#include "tests/dns/dnsmasq_process.h"
#include "ufc/client.h"

// Heap accounting for the memory figures: every allocation in the process is counted.
namespace {
std::atomic<int64_t> heap_bytes{0};
struct Header {
  size_t size;
  size_t pad;
};
}  // namespace

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + n));
  if (h == nullptr) throw std::bad_alloc();
  h->size = n;
  heap_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  return h + 1;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  Header* h = static_cast<Header*>(p) - 1;
  heap_bytes.fetch_sub(static_cast<int64_t>(h->size), std::memory_order_relaxed);
  std::free(h);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void* operator new[](size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }
void* operator new(size_t n, std::align_val_t a) {
  const size_t align = std::max(static_cast<size_t>(a), sizeof(Header));
  char* raw =
      static_cast<char*>(std::aligned_alloc(align, (align + n + align - 1) / align * align));
  if (raw == nullptr) throw std::bad_alloc();
  auto* h = reinterpret_cast<Header*>(raw + align) - 1;
  h->size = n;
  h->pad = align;
  heap_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  return raw + align;
}
void operator delete(void* p, std::align_val_t) noexcept {
  if (p == nullptr) return;
  Header* h = static_cast<Header*>(p) - 1;
  heap_bytes.fetch_sub(static_cast<int64_t>(h->size), std::memory_order_relaxed);
  std::free(static_cast<char*>(p) - h->pad);
}
void operator delete(void* p, size_t, std::align_val_t a) noexcept { operator delete(p, a); }

namespace {

constexpr const char* kPolicies[] = {"round_robin",     "random",          "weighted_round_robin",
                                     "weighted_random", "consistent_hash", "least_loaded"};
constexpr int kSizes[] = {10, 100, 1000};

ufc::v1::ServiceConfig service(const std::string& policy, int n, bool banning = true) {
  ufc::v1::ServiceConfig s;
  s.set_name("svc");
  s.set_version(1);
  for (int i = 0; i < n; ++i) {
    ufc::v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":80");
    e->set_weight(1 + i % 4);  // uneven, so the weighted policies do real work
    (*e->mutable_tags())["idc"] = i % 2 ? "bj" : "sh";
  }
  s.mutable_balancing()->set_policy(policy);
  s.mutable_ban()->set_enabled(banning);
  return s;
}

std::unique_ptr<ufc::Client> make_client(const std::string& policy, int n, bool banning = true,
                                         bool histograms = true) {
  ufc::ClientOptions options;
  options.latency_histograms = histograms;
  options.initial_config.emplace();
  *options.initial_config->add_services() = service(policy, n, banning);
  return *ufc::Client::create(options);
}

// The client under test, created by Setup before the benchmark's threads start and
// destroyed by Teardown, so no other client's background thread runs meanwhile.
std::unique_ptr<ufc::Client> current;

void SetUpClient(const benchmark::State& state) {
  current =
      make_client(kPolicies[state.range(0)], static_cast<int>(state.range(1)), state.range(2) != 0);
}
void TearDownClient(const benchmark::State&) { current.reset(); }

std::vector<std::string>& keys() {
  static auto* k = [] {
    auto* v = new std::vector<std::string>();
    for (int i = 0; i < 4096; ++i) v->push_back("user-" + std::to_string(i * 7919));
    return v;
  }();
  return *k;
}

void BM_PickReport(benchmark::State& state) {
  ufc::Client& client = *current;
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const std::vector<std::string>& k = keys();
  size_t i = static_cast<size_t>(state.thread_index()) * 1000;
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick =
        client.pick({.service = "svc", .hash_key = k[i++ & (k.size() - 1)]});
    client.report(*pick, outcome);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kPolicies[state.range(0)]);
}

// Every policy and size with banning on (the default); at 1000 endpoints also with
// banning off, side by side, for the cost of the by-request window and interval sums.
void PolicyArgs(benchmark::internal::Benchmark* b) {
  for (int p = 0; p < 6; ++p) {
    for (int n : kSizes) b->Args({p, n, 1});
    b->Args({p, 1000, 0});
  }
}
BENCHMARK(BM_PickReport)
    ->Apply(PolicyArgs)
    ->ArgNames({"policy", "endpoints", "ban"})
    ->Setup(SetUpClient)
    ->Teardown(TearDownClient)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// The same through a ServiceHandle (Client::service): `mode` 1 with the same request,
// 2 with none (Client::pick(handle): no hash key, so consistent_hash places at random).
void BM_PickReportHandle(benchmark::State& state) {
  ufc::Client& client = *current;
  const ufc::ServiceHandle svc = client.service("svc").value();
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const std::vector<std::string>& k = keys();
  size_t i = static_cast<size_t>(state.thread_index()) * 1000;
  const bool plain = state.range(3) == 2;
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick =
        plain ? client.pick(svc) : client.pick(svc, {.hash_key = k[i++ & (k.size() - 1)]});
    client.report(*pick, outcome);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kPolicies[state.range(0)]) +
                 (plain ? " handle, no request" : " handle"));
}
void HandleArgs(benchmark::internal::Benchmark* b) {
  for (int p = 0; p < 6; ++p) {
    for (int n : kSizes) {
      b->Args({p, n, 1, 1});
      b->Args({p, n, 1, 2});
    }
  }
}
BENCHMARK(BM_PickReportHandle)
    ->Apply(HandleArgs)
    ->ArgNames({"policy", "endpoints", "ban", "mode"})
    ->Setup(SetUpClient)
    ->Teardown(TearDownClient)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// By name, through a handle with the request, through a handle with none, interleaved
// (batches of 2000 alternating over one client, 1000 endpoints): the medians side by side.
void BM_HandleCostInterleaved(benchmark::State& state) {
  auto client = make_client(kPolicies[state.range(0)], 1000);
  const ufc::ServiceHandle svc = client->service("svc").value();
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const std::vector<std::string>& k = keys();
  constexpr int kBatch = 2000;
  std::vector<double> t[3];
  size_t i = 0;
  auto batch = [&](int mode) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int n = 0; n < kBatch; ++n) {
      const std::string& key = k[i++ & (k.size() - 1)];
      absl::StatusOr<ufc::Pick> pick = mode == 0 ? client->pick({.service = "svc", .hash_key = key})
                                       : mode == 1 ? client->pick(svc, {.hash_key = key})
                                                   : client->pick(svc);
      client->report(*pick, outcome);
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
           kBatch;
  };
  for (auto _ : state) {
    for (int mode = 0; mode < 3; ++mode) t[mode].push_back(batch(mode));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  state.counters["name_ns"] = median(t[0]);
  state.counters["handle_ns"] = median(t[1]);
  state.counters["plain_ns"] = median(t[2]);
  state.SetItemsProcessed(state.iterations() * 3 * kBatch);
  state.SetLabel(kPolicies[state.range(0)]);
}
BENCHMARK(BM_HandleCostInterleaved)->DenseRange(0, 5)->ArgName("policy")->Iterations(500);

// The same with a deadline on every request (far enough not to expire): the cost of the
// deadline check and of capping the attempt's timeouts.
// The latency histogram's cost: the same pick+report with ClientOptions::latency_histograms
// on and off, side by side, at 1000 endpoints; latencies cycle through 16 values spread
// over the buckets, so the stores do not all land in one line.
void BM_PickReportHistogram(benchmark::State& state) {
  ufc::Client& client = *current;
  ufc::Outcome outcomes[16];
  for (int i = 0; i < 16; ++i) {
    outcomes[i] = ufc::Outcome::http(200, absl::Microseconds(100 << (i % 12)));
  }
  uint32_t i = static_cast<uint32_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick = client.pick({.service = "svc"});
    client.report(*pick, outcomes[i++ & 15]);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kPolicies[state.range(0)]) +
                 (state.range(1) != 0 ? " histogram on" : " histogram off"));
}
BENCHMARK(BM_PickReportHistogram)
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({5, 0})
    ->Args({5, 1})
    ->ArgNames({"policy", "histogram"})
    ->Setup([](const benchmark::State& state) {
      current = make_client(kPolicies[state.range(0)], 1000, true, state.range(1) != 0);
    })
    ->Teardown(TearDownClient)
    ->Threads(1)
    ->UseRealTime();

// The same comparison interleaved, which these noisy shared machines need for a few-ns
// difference: two clients (histograms on, off) over the same 1000 endpoints, batches of
// 2000 pick+reports alternating between them; the median batch of each, per operation.
void BM_HistogramCostInterleaved(benchmark::State& state) {
  auto on = make_client(kPolicies[state.range(0)], 1000, true, true);
  auto off = make_client(kPolicies[state.range(0)], 1000, true, false);
  ufc::Outcome outcomes[16];
  for (int i = 0; i < 16; ++i) {
    outcomes[i] = ufc::Outcome::http(200, absl::Microseconds(100 << (i % 12)));
  }
  constexpr int kBatch = 2000;
  std::vector<double> t_on, t_off;
  uint32_t i = 0;
  auto batch = [&](ufc::Client& c) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < kBatch; ++k) {
      absl::StatusOr<ufc::Pick> pick = c.pick({.service = "svc"});
      c.report(*pick, outcomes[i++ & 15]);
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
           kBatch;
  };
  for (auto _ : state) {
    t_on.push_back(batch(*on));
    t_off.push_back(batch(*off));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  state.counters["on_ns"] = median(t_on);
  state.counters["off_ns"] = median(t_off);
  state.counters["delta_ns"] = median(t_on) - median(t_off);
  state.SetItemsProcessed(state.iterations() * 2 * kBatch);
  state.SetLabel(kPolicies[state.range(0)]);
}
BENCHMARK(BM_HistogramCostInterleaved)->Arg(0)->Arg(5)->ArgName("policy")->Iterations(2000);

// DNS destinations cost the request path nothing: a service whose endpoints come from a
// real dnsmasq through the client's c-ares resolver, beside a service with the same
// endpoints written statically, interleaved as above (the snapshot pick reads is built
// the same way either way). Needs /usr/sbin/dnsmasq (skipped without it).
void BM_DnsCostInterleaved(benchmark::State& state) {
  const int n = static_cast<int>(state.range(1));
  ufc::testing::Dnsmasq::Config zone;
  ufc::v1::ServiceConfig fixed;
  fixed.set_name("svc");
  fixed.mutable_balancing()->set_policy(kPolicies[state.range(0)]);
  for (int i = 0; i < n; ++i) {
    const std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    zone.hosts.emplace_back(ip, "svc.ufc.test");
    ufc::v1::Endpoint* e = fixed.add_endpoints();
    e->set_address(ip + ":80");
    (*e->mutable_tags())["idc"] = "bj";
  }
  absl::StatusOr<std::unique_ptr<ufc::testing::Dnsmasq>> dns =
      ufc::testing::Dnsmasq::start(std::move(zone));
  if (!dns.ok()) {
    state.SkipWithError(std::string(dns.status().message()).c_str());
    return;
  }
  ufc::v1::ServiceConfig named = fixed;
  named.clear_endpoints();
  ufc::v1::DnsDestination* d = named.mutable_destinations()->add_dns();
  d->set_name("svc.ufc.test");
  d->set_port(80);
  (*d->mutable_tags())["idc"] = "bj";
  ufc::ClientOptions options;
  options.dns.servers = {(*dns)->server()};
  options.initial_config.emplace();
  *options.initial_config->add_services() = named;
  std::unique_ptr<ufc::Client> from_dns = *ufc::Client::create(options);
  options.initial_config.emplace();
  *options.initial_config->add_services() = fixed;
  std::unique_ptr<ufc::Client> from_config = *ufc::Client::create(options);
  for (int tries = 0; tries < 500; ++tries) {  // the first answer: up to 5 s
    if (from_dns->query("request_info^svc").find("\"state\":\"ok\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string info = from_dns->query("request_info^svc");
  if (info.find("\"endpoints\":" + std::to_string(n) + ",") == std::string::npos) {
    state.SkipWithError(("the name did not resolve to every endpoint: " + info).c_str());
    return;
  }
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  constexpr int kBatch = 2000;
  std::vector<double> t_dns, t_static;
  auto batch = [&](ufc::Client& c) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < kBatch; ++k) {
      absl::StatusOr<ufc::Pick> pick = c.pick({.service = "svc"});
      c.report(*pick, outcome);
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
           kBatch;
  };
  for (auto _ : state) {
    t_dns.push_back(batch(*from_dns));
    t_static.push_back(batch(*from_config));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  state.counters["dns_ns"] = median(t_dns);
  state.counters["static_ns"] = median(t_static);
  state.counters["delta_ns"] = median(t_dns) - median(t_static);
  state.SetItemsProcessed(state.iterations() * 2 * kBatch);
  state.SetLabel(kPolicies[state.range(0)]);
}
BENCHMARK(BM_DnsCostInterleaved)
    ->Args({0, 100})
    ->Args({3, 100})
    ->Args({5, 100})
    ->ArgNames({"policy", "endpoints"})
    ->Iterations(2000);

void BM_PickReportWithDeadline(benchmark::State& state) {
  ufc::Client& client = *current;
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const ufc::Deadline deadline = ufc::Deadline::after(absl::Hours(1));
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick = client.pick({.service = "svc", .deadline = deadline});
    client.report(*pick, outcome);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kPolicies[state.range(0)]);
}
BENCHMARK(BM_PickReportWithDeadline)
    ->Args({0, 1000, 1})
    ->ArgNames({"policy", "endpoints", "ban"})
    ->Setup(SetUpClient)
    ->Teardown(TearDownClient)
    ->UseRealTime();

// Routing: ten rules, each on one request attribute; the request matches the tenth, whose
// destination is a 100-endpoint subset of the 1000. The request carries three attributes.
void SetUpTenRules(const benchmark::State& state) {
  ufc::v1::ServiceConfig s = service("round_robin", 1000);
  for (int i = 0; i < 1000; ++i)
    (*s.mutable_endpoints(i)->mutable_tags())["pool"] = "p" + std::to_string(i % 10);
  for (int r = 0; r < 10; ++r) {
    ufc::v1::Route* route = s.add_routes();
    route->set_name("rule" + std::to_string(r));
    ufc::v1::AttributeMatch* m = route->mutable_match()->add_attributes();
    m->set_key("x-rule");
    m->set_value("r" + std::to_string(r));
    ufc::v1::Subset* subset = route->add_destinations();
    (*subset->mutable_tags())["pool"] = "p" + std::to_string(r);
  }
  ufc::ClientOptions options;
  options.initial_config.emplace();
  *options.initial_config->add_services() = s;
  current = *ufc::Client::create(options);
}

void BM_PickReportTenRules(benchmark::State& state) {
  ufc::Client& client = *current;
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const std::vector<ufc::Attribute> attributes = {
      {"x-user", "alice"}, {"x-trace", "5f2c9a"}, {"x-rule", "r9"}};
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick = client.pick({.service = "svc", .attributes = attributes});
    client.report(*pick, outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PickReportTenRules)->Setup(SetUpTenRules)->Teardown(TearDownClient)->UseRealTime();

// Fault injection: one rule on attribute x-chaos (present), aborting 10% with 503 and
// delaying 10% by 5 ms, over round robin and 1000 endpoints; compare with
// BM_PickReport/policy:0/endpoints:1000/ban:1 (no rules: one branch). chaos:0, requests
// without the attribute (the rule is tried, nothing drawn); chaos:1, with it (an aborted
// pick skips balancing and its report does nothing).
void SetUpFaults(const benchmark::State& state) {
  ufc::v1::ServiceConfig s = service("round_robin", 1000);
  ufc::v1::FaultRule* f = s.add_faults();
  ufc::v1::AttributeMatch* m = f->add_attributes();
  m->set_key("x-chaos");
  m->set_op("present");
  f->mutable_abort()->set_percent(10);
  f->mutable_abort()->set_http_status(503);
  f->mutable_delay()->set_percent(10);
  f->mutable_delay()->mutable_fixed()->set_nanos(5000000);
  ufc::ClientOptions options;
  options.initial_config.emplace();
  *options.initial_config->add_services() = s;
  current = *ufc::Client::create(options);
}

void BM_PickReportWithFaults(benchmark::State& state) {
  ufc::Client& client = *current;
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const std::vector<ufc::Attribute> chaos = {{"x-user", "alice"}, {"x-chaos", "1"}};
  const std::vector<ufc::Attribute> calm = {{"x-user", "alice"}};
  const std::vector<ufc::Attribute>& attributes = state.range(0) ? chaos : calm;
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick = client.pick({.service = "svc", .attributes = attributes});
    client.report(*pick, outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PickReportWithFaults)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("chaos")
    ->Setup(SetUpFaults)
    ->Teardown(TearDownClient)
    ->UseRealTime();

// IDC affinity only: 1000 endpoints, half in the caller's IDC; compare with
// BM_PickReport/policy:0/endpoints:1000/ban:1 (round robin, same endpoints, no affinity).
void SetUpIdcAffinity(const benchmark::State& state) {
  ufc::v1::ServiceConfig s = service("round_robin", 1000);
  s.mutable_idc_affinity()->set_enabled(true);
  ufc::ClientOptions options;
  options.self_idc = "bj";
  options.initial_config.emplace();
  *options.initial_config->add_services() = s;
  current = *ufc::Client::create(options);
}

void BM_PickReportIdcAffinity(benchmark::State& state) {
  ufc::Client& client = *current;
  const ufc::Outcome outcome = ufc::Outcome::http(200, absl::Microseconds(1500));
  const std::vector<std::string>& k = keys();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<ufc::Pick> pick =
        client.pick({.service = "svc", .hash_key = k[i++ & (k.size() - 1)]});
    client.report(*pick, outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PickReportIdcAffinity)
    ->Setup(SetUpIdcAffinity)
    ->Teardown(TearDownClient)
    ->UseRealTime();

// --- References, same run ---

void BM_SteadyClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SteadyClockNow)->Threads(1)->UseRealTime();

struct alignas(64) PaddedCounter {
  std::atomic<uint64_t> v{0};
};
std::vector<PaddedCounter> reference_counters(1000);

// What a shared-cursor round robin costs: one fetch_add on a line every thread writes.
void BM_RefSharedFetchAddRoundRobin(benchmark::State& state) {
  static std::atomic<uint64_t> cursor{0};
  for (auto _ : state) {
    const uint64_t i = cursor.fetch_add(1, std::memory_order_relaxed) % 1000;
    reference_counters[i].v.fetch_add(1, std::memory_order_relaxed);
    reference_counters[i].v.fetch_sub(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RefSharedFetchAddRoundRobin)->Threads(1)->Threads(2)->UseRealTime();

// What a mutex-guarded picker costs (the design the snapshot + epoch scheme replaces).
void BM_RefMutexRoundRobin(benchmark::State& state) {
  static std::mutex mu;
  static uint64_t cursor = 0;
  for (auto _ : state) {
    uint64_t i;
    {
      std::lock_guard<std::mutex> lock(mu);
      i = cursor++ % 1000;
    }
    reference_counters[i].v.fetch_add(1, std::memory_order_relaxed);
    reference_counters[i].v.fetch_sub(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RefMutexRoundRobin)->Threads(1)->Threads(2)->UseRealTime();

// --- Memory ---

// Heap bytes one more endpoint costs, per policy: (heap with 1000 endpoints - heap with
// 10) / 990, from creating a client. endpoint_B is the Endpoint object (identity, ban
// record, shared request-path state), per_cpu_B its per-CPU records (48 B x CPU shards),
// histogram_B its per-CPU latency buckets (128 B x CPU shards; ClientOptions::latency_histograms);
// the rest is address and tag storage, snapshot entries and the policy's tables.
void BM_MemoryPerEndpoint(benchmark::State& state) {
  const std::string policy = kPolicies[state.range(0)];
  auto measure = [&](int n) {
    const int64_t before = heap_bytes.load();
    auto client = make_client(policy, n);
    const int64_t after = heap_bytes.load();
    return after - before;
  };
  // The per-CPU records come from a process-wide arena that keeps its chunks: warm it up
  // so both measurements draw from it, and add the records' size explicitly.
  make_client(policy, 1000).reset();
  int64_t small = 0, large = 0;
  for (auto _ : state) {
    small = measure(10);
    large = measure(1000);
  }
  const double shards = ufc::internal::CpuShards::count();
  const double per_cpu = static_cast<double>(sizeof(ufc::internal::ShardStats)) * shards;
  const double histogram = static_cast<double>(sizeof(ufc::internal::LatencyBuckets)) * shards;
  const double per_endpoint = static_cast<double>(large - small) / 990.0 + per_cpu + histogram;
  state.counters["heap_B_per_endpoint"] = per_endpoint;
  state.counters["endpoint_B"] = sizeof(ufc::internal::Endpoint);
  state.counters["per_cpu_B"] = per_cpu;
  state.counters["histogram_B"] = histogram;
  state.SetLabel(policy);
}
BENCHMARK(BM_MemoryPerEndpoint)->DenseRange(0, 5)->ArgName("policy")->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
