// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// bench/metad_fanout: the control plane under load, against a real ufc-metad process.
//
//   build/bench/metad_fanout [--quick] [--watchers=100,1000,5000,10000] [--puts=5]
//                            [--fleet=1000x200] [--etcd=auto|host:port|""] [--fanout_only]
//                            [--pollers=2] [--metad=PATH]
//
// 1. Fan-out: N watcher streams (this process, gRPC's async client on --pollers
//    completion queues, 200 streams per connection), each subscribed to one service, as a
//    client library would be. One Put changes that service; the time from the Put's start
//    to each watcher receiving it: p50 / p99 / max over `puts` rounds; metad's RSS with N
//    watchers connected; the CPU time metad and the watchers spent per Put (what bounds
//    the latency on 2 cores: their sum over 2 is the shortest a push can take). --metad
//    runs another build's server, for a side-by-side run.
// 2. The fleet in one client: `fleet` services x endpoints put into metad; a ufc::Client
//    with all_services syncs them: bytes on the wire, time to applied, client RSS growth;
//    then a restart of the client with nothing changed (cold start from its cache, then
//    the stream: bytes), and with one service changed meanwhile (only it is sent).
// 3. Puts/s through metad to each store (sequential PutService of a small service, one at a
//    time): the local directory, and etcd (by default a one-member etcd started here).
// 4. pick+report ns/op with a synced client (and a Put every 100 ms) against a client
//    with the same service from a file, interleaved, medians of 3.
//
// What it does not show: watchers spread over many hosts (here they share the machine's
// 2 cores with the server), and TLS.

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "tests/metad/metad_process.h"
#include "ufc/client.h"
#include "ufc/v1/meta.grpc.pb.h"

ABSL_FLAG(bool, quick, false, "tiny sizes (CI smoke)");
ABSL_FLAG(bool, fanout_only, false, "only the fan-out table");
ABSL_FLAG(std::string, metad, UFC_METAD_BIN,
          "fan-out: the ufc-metad binary (another build's, for a side-by-side run)");
ABSL_FLAG(int, pollers, 2,
          "fan-out: completion queues in the bench process, a thread each (the watchers are "
          "spread over them, as thousands of client processes would not share one thread)");
ABSL_FLAG(std::string, watchers, "100,1000,5000,10000", "watcher counts");
ABSL_FLAG(int, puts, 5, "Put rounds per watcher count");
ABSL_FLAG(std::string, fleet, "1000x200", "services x endpoints for the fleet sync");
ABSL_FLAG(std::string, etcd, "auto",
          "the Puts/s row over etcd: host:port of a running etcd; \"auto\": start Debian's "
          "/usr/bin/etcd on loopback (ephemeral ports) when installed; \"\": no etcd row");

namespace {

using ufc::testing::MetadProcess;
using ufc::testing::TempDir;

// A one-member etcd (/usr/bin/etcd) on 127.0.0.1 for the Puts/s row: its data under a
// temporary directory, killed by PID when this goes away.
class BenchEtcd {
 public:
  static constexpr char kBinary[] = "/usr/bin/etcd";
  static bool installed() { return ::access(kBinary, X_OK) == 0; }

  // False if it could not be spawned.
  bool start() {
    int ports[2];
    int fds[2];
    for (int i = 0; i < 2; ++i) {  // bound together, so the kernel gives distinct ports
      fds[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (fds[i] < 0 || ::bind(fds[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return false;
      }
      ports[i] = ntohs(addr.sin_port);
    }
    for (int fd : fds) ::close(fd);
    endpoint_ = absl::StrCat("127.0.0.1:", ports[0]);
    const std::string client = "http://" + endpoint_;
    const std::string peer = absl::StrCat("http://127.0.0.1:", ports[1]);
    std::vector<std::string> args = {kBinary,
                                     "--name=bench",
                                     "--data-dir=" + dir_.path() + "/etcd",
                                     "--listen-client-urls=" + client,
                                     "--advertise-client-urls=" + client,
                                     "--listen-peer-urls=" + peer,
                                     "--initial-advertise-peer-urls=" + peer,
                                     "--initial-cluster=bench=" + peer,
                                     "--log-outputs=" + dir_.path() + "/etcd.log",
                                     "--logger=zap"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execv(kBinary, argv.data());
      ::_exit(127);
    }
    return true;
  }
  ~BenchEtcd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  TempDir dir_;
  std::string endpoint_;
  pid_t pid_ = -1;
};

long rss_kb(pid_t pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// CPU time (user + system) of a process, or of this one (pid 0), in milliseconds.
double cpu_ms(pid_t pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');  // the command may hold spaces
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  if (f.size() < 13) return 0;
  // Fields 14 and 15 of the whole line: utime, stime, in clock ticks.
  return (std::stod(f[11]) + std::stod(f[12])) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ufc::v1::ServiceConfig make_service(const std::string& name, int endpoints, int salt) {
  ufc::v1::ServiceConfig s;
  s.set_name(name);
  for (int i = 0; i < endpoints; ++i) {
    ufc::v1::Endpoint* e = s.add_endpoints();
    e->set_address(absl::StrCat("10.", (i >> 8) & 255, ".", i & 255, ".", salt % 250 + 1, ":8080"));
    e->set_weight(1 + i % 3);
    (*e->mutable_tags())["idc"] = i % 2 ? "bj" : "sh";
  }
  return s;
}

class Admin {
 public:
  explicit Admin(const std::string& address) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(256 << 20);
    stub_ = ufc::v1::Meta::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  uint64_t put(const ufc::v1::ServiceConfig& s) {
    ufc::v1::PutServiceRequest req;
    *req.mutable_service() = s;
    ufc::v1::PutServiceResponse resp;
    grpc::ClientContext ctx;
    grpc::Status st = stub_->PutService(&ctx, req, &resp);
    if (!st.ok())
      std::fprintf(stderr, "put %s: %s\n", s.name().c_str(), st.error_message().c_str());
    return resp.version();
  }

 private:
  std::unique_ptr<ufc::v1::Meta::Stub> stub_;
};

// ---- 1. Fan-out ----

struct Watcher {
  enum Op { kStart, kRead, kWrite, kFinish };
  struct Tag {
    Watcher* w;
    Op op;
  };
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<ufc::v1::WatchRequest, ufc::v1::WatchResponse>>
      stream;
  ufc::v1::WatchRequest request;  // the one being written
  ufc::v1::WatchResponse response;
  Tag start{this, kStart}, read{this, kRead}, write{this, kWrite}, finish{this, kFinish};
  bool writing = false;
  bool ack_due = false;
  ufc::v1::WatchRequest next_ack;
  std::atomic<uint64_t> version{0};    // the newest version of "fan" received
  std::atomic<int64_t> arrival_ns{0};  // when it arrived
  // Counts every watcher's arrival of a newer version: the main thread waits on this one
  // counter instead of scanning thousands of watchers (cache misses that took a fifth of
  // a core from the pollers it measures).
  std::atomic<int>* arrived = nullptr;
  grpc::Status status;
};

struct FanoutResult {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double metad_cpu_ms = 0, bench_cpu_ms = 0;  // per Put, from the Put to the last arrival
  long metad_rss_mb = 0;
  int connected = 0;
};

// One poller thread drives every watcher on one completion queue.
void poll_watchers(grpc::CompletionQueue& cq) {
  void* t;
  bool ok;
  while (cq.Next(&t, &ok)) {
    auto* tag = static_cast<Watcher::Tag*>(t);
    Watcher* w = tag->w;
    switch (tag->op) {
      case Watcher::kStart:
        if (!ok) break;
        w->writing = true;
        w->stream->Write(w->request, &w->write);
        w->stream->Read(&w->response, &w->read);
        break;
      case Watcher::kRead:
        if (!ok) {
          w->stream->Finish(&w->status, &w->finish);
          break;
        }
        for (const auto& s : w->response.services()) {
          if (s.name() == "fan" && s.version() > w->version.load()) {
            w->arrival_ns.store(absl::GetCurrentTimeNanos());
            w->version.store(s.version());
            w->arrived->fetch_add(1);
          }
        }
        w->next_ack.Clear();
        w->next_ack.mutable_ack()->set_response_id(w->response.response_id());
        w->next_ack.mutable_ack()->set_global_version(w->response.global_version());
        if (!w->writing) {
          w->request = w->next_ack;
          w->writing = true;
          w->stream->Write(w->request, &w->write);
        } else {
          w->ack_due = true;
        }
        w->stream->Read(&w->response, &w->read);
        break;
      case Watcher::kWrite:
        w->writing = false;
        if (ok && w->ack_due) {
          w->ack_due = false;
          w->request = w->next_ack;
          w->writing = true;
          w->stream->Write(w->request, &w->write);
        }
        break;
      case Watcher::kFinish:
        break;
    }
  }
}

template <typename Pred>
bool wait_for(Pred pred, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

FanoutResult fanout(MetadProcess& metad, Admin& admin, int n, int rounds) {
  const int per_channel = 200;
  std::vector<std::unique_ptr<ufc::v1::Meta::Stub>> stubs;
  for (int i = 0; i < (n + per_channel - 1) / per_channel; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("ufc.bench.channel", i);  // distinct args: distinct connections
    stubs.push_back(ufc::v1::Meta::NewStub(
        grpc::CreateCustomChannel(metad.address(), grpc::InsecureChannelCredentials(), args)));
  }
  uint64_t v = admin.put(make_service("fan", 10, 0));
  const int pollers = std::max(1, absl::GetFlag(FLAGS_pollers));
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs;
  for (int i = 0; i < pollers; ++i) cqs.push_back(std::make_unique<grpc::CompletionQueue>());
  std::atomic<int> arrived{0};
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Watcher>();
    w->arrived = &arrived;
    w->stream = stubs[i / per_channel]->PrepareAsyncWatch(&w->context, cqs[i % pollers].get());
    w->request.mutable_client()->set_client_id(absl::StrCat("bench-", i));
    w->request.add_subscribe("fan");
    w->stream->StartCall(&w->start);
    watchers.push_back(std::move(w));
  }
  std::vector<std::thread> threads;
  for (auto& cq : cqs) threads.emplace_back([&cq] { poll_watchers(*cq); });
  auto all_at = [&](uint64_t version) {
    int have = 0;
    for (auto& w : watchers) have += w->version.load() == version;
    return have;
  };
  FanoutResult out;
  out.connected = wait_for([&] { return arrived.load() >= n; }, absl::Seconds(120)) ? n : all_at(v);
  absl::SleepFor(absl::Milliseconds(300));  // ACKs settle
  out.metad_rss_mb = rss_kb(metad.pid()) / 1024;
  std::vector<double> delays;
  int measured = 0;
  for (int r = 1; r <= rounds && out.connected == n; ++r) {
    const double metad0 = cpu_ms(metad.pid()), bench0 = cpu_ms(0);
    arrived.store(0);
    const int64_t started = absl::GetCurrentTimeNanos();
    v = admin.put(make_service("fan", 10, r));
    if (!wait_for([&] { return arrived.load() >= n; }, absl::Seconds(60))) {
      std::fprintf(stderr, "round %d: only %d of %d watchers got version %llu\n", r, all_at(v), n,
                   static_cast<unsigned long long>(v));
      break;  // its stragglers would count in the next round's arrivals
    }
    out.metad_cpu_ms += cpu_ms(metad.pid()) - metad0;
    out.bench_cpu_ms += cpu_ms(0) - bench0;
    ++measured;
    for (auto& w : watchers) {
      if (w->version.load() == v) delays.push_back((w->arrival_ns.load() - started) / 1e6);
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  for (auto& w : watchers) w->context.TryCancel();
  absl::SleepFor(absl::Milliseconds(300));
  for (auto& cq : cqs) cq->Shutdown();
  for (std::thread& t : threads) t.join();
  if (measured > 0) {
    out.metad_cpu_ms /= measured;
    out.bench_cpu_ms /= measured;
  }
  std::sort(delays.begin(), delays.end());
  if (!delays.empty()) {
    out.p50_ms = delays[delays.size() / 2];
    out.p99_ms = delays[std::min(delays.size() - 1, delays.size() * 99 / 100)];
    out.max_ms = delays.back();
  }
  return out;
}

// ---- 2. The fleet in one client ----

uint64_t sync_stat(ufc::Client& client, const std::string& key) {
  const std::string json = client.query("sync");
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":([0-9]+)"))) return std::stoull(m[1]);
  return 0;
}

void fleet(MetadProcess& metad, Admin& admin, int services, int endpoints,
           const std::string& cache) {
  const absl::Time put_start = absl::Now();
  uint64_t global = 0;
  for (int i = 0; i < services; ++i) {
    global = admin.put(make_service(absl::StrCat("svc-", i), endpoints, i));
  }
  const double put_s = absl::ToDoubleSeconds(absl::Now() - put_start);
  ufc::ClientOptions o;
  o.self_service = "fleet-bench";
  o.sync.servers = {{metad.address(), ""}};
  o.sync.all_services = true;
  o.sync.cache_dir = cache;
  const long rss0 = rss_kb(0);
  absl::Time t0 = absl::Now();
  auto client = ufc::Client::create(o).value();
  wait_for([&] { return sync_stat(*client, "global_version") >= global; }, absl::Seconds(300));
  const double first_s = absl::ToDoubleSeconds(absl::Now() - t0);
  const uint64_t first_bytes = sync_stat(*client, "bytes_received");
  const long rss1 = rss_kb(0);
  absl::SleepFor(absl::Milliseconds(500));  // the cache write
  client.reset();

  // Restart with nothing changed: the cache, then the stream.
  t0 = absl::Now();
  client = ufc::Client::create(o).value();
  const double cold_s = absl::ToDoubleSeconds(absl::Now() - t0);
  wait_for([&] { return sync_stat(*client, "responses") >= 1; }, absl::Seconds(60));
  const uint64_t same_bytes = sync_stat(*client, "bytes_received");
  const uint64_t same_services = sync_stat(*client, "services_received");
  absl::SleepFor(absl::Milliseconds(300));
  client.reset();

  // One service changed while the client was away.
  global = admin.put(make_service("svc-0", endpoints, 7777));
  client = ufc::Client::create(o).value();
  wait_for([&] { return sync_stat(*client, "global_version") >= global; }, absl::Seconds(60));
  const uint64_t one_bytes = sync_stat(*client, "bytes_received");
  const uint64_t one_services = sync_stat(*client, "services_received");
  client.reset();

  std::printf("\n## The fleet in one client: %d services x %d endpoints\n\n", services, endpoints);
  std::printf("| step | bytes on the wire | services sent | time | client RSS |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf("| puts into metad (local store) | | %d | %.1f s | |\n", services, put_s);
  std::printf("| first full sync | %.0f KB | %d | %.2f s to applied | +%ld MB |\n",
              first_bytes / 1e3, services, first_s, (rss1 - rss0) / 1024);
  std::printf("| restart, nothing changed | %llu B | %llu | cache applied in %.2f s | |\n",
              static_cast<unsigned long long>(same_bytes),
              static_cast<unsigned long long>(same_services), cold_s);
  std::printf("| restart, one service changed | %llu B | %llu | | |\n",
              static_cast<unsigned long long>(one_bytes),
              static_cast<unsigned long long>(one_services));
}

// ---- 3. Puts/s ----

double puts_per_second(Admin& admin, int n) {
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < n; ++i) admin.put(make_service(absl::StrCat("put-", i % 10), 3, i));
  return n / absl::ToDoubleSeconds(absl::Now() - t0);
}

// ---- 4. pick+report with and without sync ----

double pick_report_ns(ufc::Client& client, int iterations) {
  const int64_t t0 = absl::GetCurrentTimeNanos();
  for (int i = 0; i < iterations; ++i) {
    absl::StatusOr<ufc::Pick> p = client.pick({.service = "hot"});
    if (p.ok()) client.report(*p, ufc::Outcome::http(200, absl::Microseconds(100)));
  }
  return static_cast<double>(absl::GetCurrentTimeNanos() - t0) / iterations;
}

void pick_report(MetadProcess& metad, Admin& admin, int iterations) {
  ufc::v1::ServiceConfig hot = make_service("hot", 100, 1);
  admin.put(hot);
  ufc::ClientOptions plain;
  plain.initial_config.emplace();
  *plain.initial_config->add_services() = hot;
  auto without = ufc::Client::create(plain).value();
  ufc::ClientOptions synced;
  synced.sync.servers = {{metad.address(), ""}};
  synced.sync.services = {"hot", "busy"};
  auto with = ufc::Client::create(synced).value();
  (void)with->wait_for_config("hot", absl::Seconds(10));
  std::atomic<bool> done{false};
  std::thread churn([&] {  // sync traffic meanwhile: a Put of another service every 100 ms
    for (int i = 0; !done; ++i) {
      admin.put(make_service("busy", 20, i));
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  std::vector<double> a, b;
  for (int r = 0; r < 3; ++r) {
    a.push_back(pick_report_ns(*without, iterations));
    b.push_back(pick_report_ns(*with, iterations));
  }
  done = true;
  churn.join();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::printf(
      "\n## pick+report (round robin, 100 endpoints, 1 thread), medians of 3 interleaved\n\n");
  std::printf(
      "| client | ns/op |\n|---|---|\n| config from a file | %.1f |\n"
      "| synced, a Put every 100 ms | %.1f |\n| ratio | %.2f |\n",
      a[1], b[1], b[1] / a[1]);
}

}  // namespace

// The Puts/s row over etcd (see --etcd). False when etcd or metad did not start.
bool etcd_puts_row(bool quick) {
  std::string etcd = absl::GetFlag(FLAGS_etcd);
  if (etcd.empty()) return true;
  {
    std::unique_ptr<BenchEtcd> own;
    if (etcd == "auto") {
      if (!BenchEtcd::installed()) return true;
      own = std::make_unique<BenchEtcd>();
      if (!own->start()) {
        std::fprintf(stderr, "etcd did not start\n");
        return false;
      }
      etcd = own->endpoint();
    }
    // metad gives up at once when etcd does not answer its first read: retry while etcd
    // starts.
    std::unique_ptr<MetadProcess> metad;
    for (int tries = 0; tries < 20; ++tries) {
      metad = std::make_unique<MetadProcess>(UFC_METAD_BIN);
      if (metad->start({"--etcd=" + etcd, "--server_id=bench"})) break;
      metad.reset();
      absl::SleepFor(absl::Milliseconds(250));
    }
    if (metad == nullptr) {
      std::fprintf(stderr, "ufc-metad over etcd %s did not start\n", etcd.c_str());
      return false;
    }
    Admin admin(metad->address());
    std::printf("| etcd %s(one member, %s) | %.0f |\n", own != nullptr ? "started here " : "",
                etcd.c_str(), puts_per_second(admin, quick ? 20 : 300));
  }
  return true;
}

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const bool quick = absl::GetFlag(FLAGS_quick);
  // 10,000 streams need more descriptors than the usual soft limit of 1024.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  std::vector<int> counts;
  for (absl::string_view c : absl::StrSplit(quick ? "20" : absl::GetFlag(FLAGS_watchers), ',')) {
    int n = 0;
    if (absl::SimpleAtoi(c, &n) && n > 0) counts.push_back(n);
  }
  const int rounds = quick ? 2 : absl::GetFlag(FLAGS_puts);
  int services = 20, endpoints = 20;
  if (!quick) {
    std::vector<std::string> f = absl::StrSplit(absl::GetFlag(FLAGS_fleet), 'x');
    if (f.size() != 2 || !absl::SimpleAtoi(f[0], &services) ||
        !absl::SimpleAtoi(f[1], &endpoints)) {
      std::fprintf(stderr, "--fleet: expected SERVICESxENDPOINTS\n");
      return 2;
    }
  }

  std::printf("# metad_fanout (%s)\n\n## One Put -> every watcher has it\n\n",
              quick ? "quick" : "full");
  std::printf(
      "| watchers | p50 | p99 | max | metad RSS | metad CPU per Put | watchers' CPU per Put |\n"
      "|---|---|---|---|---|---|---|\n");
  for (int n : counts) {
    TempDir dir;
    MetadProcess metad(absl::GetFlag(FLAGS_metad));
    if (!metad.start({"--data_dir=" + dir.path()})) {
      std::fprintf(stderr, "ufc-metad did not start\n");
      return 1;
    }
    Admin admin(metad.address());
    FanoutResult r = fanout(metad, admin, n, rounds);
    if (r.connected != n) {
      std::printf("| %d | only %d connected | | | %ld MB | | |\n", n, r.connected, r.metad_rss_mb);
      continue;
    }
    std::printf("| %d | %.1f ms | %.1f ms | %.1f ms | %ld MB | %.0f ms | %.0f ms |\n", n, r.p50_ms,
                r.p99_ms, r.max_ms, r.metad_rss_mb, r.metad_cpu_ms, r.bench_cpu_ms);
    std::fflush(stdout);
  }
  if (absl::GetFlag(FLAGS_fanout_only)) return 0;
  {
    TempDir dir;
    MetadProcess metad(UFC_METAD_BIN);
    if (!metad.start({"--data_dir=" + dir.path() + "/store"})) return 1;
    Admin admin(metad.address());
    fleet(metad, admin, services, endpoints, dir.path());
    std::printf(
        "\n## Puts/s through metad (sequential, one client)\n\n| store | puts/s |\n|---|---|\n");
    std::printf("| local directory (fsync per put) | %.0f |\n",
                puts_per_second(admin, quick ? 20 : 300));
    if (!etcd_puts_row(quick)) return 1;
    pick_report(metad, admin, quick ? 20000 : 2000000);
  }
  return 0;
}
