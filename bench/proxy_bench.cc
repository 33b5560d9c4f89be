// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// bench/proxy_bench: ufc-agentd's HTTP proxy against nginx's proxy_pass, with wrk.
//
// One nginx backend (Debian nginx, `return 200`, one worker). In front of it, side by side
// on loopback: nginx as a reverse proxy (one worker, keep-alive upstream of 64), ufc-agentd's
// proxy (one thread) with banning and fusing off, and ufc-agentd with routing (a header
// rule), banning and fusing on. wrk (one thread, --connections) runs against each in turn,
// interleaved, for --rounds rounds; every request carries x-ufc-service-name (nginx ignores
// it). The table gives each arm's median requests/s and p99 over the rounds and the
// ratios to nginx. Then: memory per idle keep-alive connection (RSS growth over
// --idle connections that made one request each, for both proxies).
//
//   build/bench/proxy_bench [--seconds=5] [--rounds=3] [--connections=32] [--idle=2000]
//   build/bench/proxy_bench --quick        # CI's smoke run: 1 round of 1 s, 200 idle
//
// The machine is shared and has two cores for wrk, the proxy and the backend: compare the
// ratios of one run, not absolute figures across runs.

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/agent/http_test_peers.h"
#include "tests/metad/metad_process.h"

namespace {

using ufc::testing::Nginx;
using ufc::testing::ServerProcess;
using ufc::testing::TempDir;

struct WrkResult {
  double rps = 0;
  double p99_ms = 0;
};

double to_ms(const std::string& v) {
  const double x = std::atof(v.c_str());
  if (v.find("us") != std::string::npos) return x / 1000;
  if (v.find("ms") != std::string::npos) return x;
  if (v.find('s') != std::string::npos) return x * 1000;
  return x;
}

WrkResult run_wrk(int port, int seconds, int connections) {
  const std::string cmd = "wrk -t1 -c" + std::to_string(connections) + " -d" +
                          std::to_string(seconds) +
                          "s --latency -H 'x-ufc-service-name: be' -H 'x-tier: gold' "
                          "http://127.0.0.1:" +
                          std::to_string(port) + "/ 2>&1";
  WrkResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char line[512];
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    std::string s(line);
    if (s.find("Requests/sec:") != std::string::npos) {
      r.rps = std::atof(s.c_str() + s.find(':') + 1);
    } else if (s.find(" 99%") != std::string::npos) {
      std::string v = s.substr(s.find("99%") + 3);
      v.erase(0, v.find_first_not_of(" \t"));
      r.p99_ms = to_ms(v);
    } else if (s.find("Non-2xx") != std::string::npos ||
               s.find("Socket errors") != std::string::npos) {
      std::fprintf(stderr, "proxy_bench: wrk on %d: %s", port, line);
    }
  }
  ::pclose(p);
  return r;
}

// Opens `n` connections that each make one request and then stay open; returns the RSS
// growth per connection in bytes (the fds are closed after the reading).
double idle_bytes_per_connection(int port, pid_t pid, int n) {
  const long before = ufc::testing::rss_kb(pid);
  std::vector<int> fds;
  const std::string req =
      "GET / HTTP/1.1\r\nHost: b\r\nx-ufc-service-name: be\r\nx-tier: gold\r\n\r\n";
  for (int i = 0; i < n; ++i) {
    const int fd = ufc::testing::connect_loopback(port);
    if (fd < 0) break;
    ufc::testing::send_all(fd, req);
    std::string buf;
    ufc::testing::read_until(
        fd, &buf,
        [](const std::string& b) { return ufc::testing::decode_message(b, true, false).complete; },
        5000);
    fds.push_back(fd);
  }
  const long after = ufc::testing::rss_kb(pid);
  for (int fd : fds) ::close(fd);
  return fds.empty() ? 0 : (after - before) * 1024.0 / static_cast<double>(fds.size());
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 5, rounds = 3, connections = 32, idle = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&](const char* name) -> const char* {
      const size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = val("--seconds="))
      seconds = std::atoi(v);
    else if (const char* v = val("--rounds="))
      rounds = std::atoi(v);
    else if (const char* v = val("--connections="))
      connections = std::atoi(v);
    else if (const char* v = val("--idle="))
      idle = std::atoi(v);
    else if (a == "--quick")
      seconds = 1, rounds = 1, idle = 200;
    else {
      std::fprintf(stderr, "proxy_bench: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (!Nginx::available() || std::system("command -v wrk >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "proxy_bench: needs nginx and wrk (scripts/install-deps.sh)\n");
    return 1;
  }
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  TempDir dir;
  ::mkdir((dir.path() + "/be").c_str(), 0755);
  ::mkdir((dir.path() + "/px").c_str(), 0755);
  Nginx backend(dir.path() + "/be",
                "server { listen 127.0.0.1:%PORT% backlog=4096; keepalive_requests 1000000;\n"
                "  location / { return 200 \"hello from the nginx backend\\n\"; } }");
  if (!backend.start()) {
    std::fprintf(stderr, "proxy_bench: the nginx backend did not start\n");
    return 1;
  }
  const std::string be = "127.0.0.1:" + std::to_string(backend.port());
  Nginx nginx_proxy(
      dir.path() + "/px",
      "upstream be { server " + be +
          "; keepalive 64; }\n"
          "server { listen 127.0.0.1:%PORT% backlog=4096; keepalive_requests 1000000;\n"
          "  location / { proxy_pass http://be; proxy_http_version 1.1;\n"
          "    proxy_set_header Connection \"\"; } }");
  if (!nginx_proxy.start()) {
    std::fprintf(stderr, "proxy_bench: the nginx proxy did not start\n");
    return 1;
  }
  auto agent_config = [&](const std::string& name, const std::string& policy) {
    const std::string path = dir.path() + "/" + name;
    std::ofstream(path) << "{\"services\":[{\"name\":\"be\",\"endpoints\":[{\"address\":\"" << be
                        << "\",\"tags\":{\"tier\":\"gold\"}}]" << policy << "}]}";
    return path;
  };
  ServerProcess plain(UFC_AGENTD_BIN), full(UFC_AGENTD_BIN);
  const std::string plain_config =
      agent_config("plain.json", ",\"ban\":{\"enabled\":false},\"fuse\":{\"enabled\":false}");
  const std::string full_config = agent_config(
      "full.json",
      ",\"routes\":[{\"match\":{\"attributes\":[{\"key\":\"x-tier\",\"value\":\"gold\"}]},"
      "\"destinations\":[{\"tags\":{\"tier\":\"gold\"}}]}]");
  if (!plain.start({"--config=" + plain_config}) || !full.start({"--config=" + full_config})) {
    std::fprintf(stderr, "proxy_bench: ufc-agentd did not start:\n%s%s\n", plain.log().c_str(),
                 full.log().c_str());
    return 1;
  }
  struct Arm {
    const char* name;
    int port;
    std::vector<double> rps, p99;
  };
  std::vector<Arm> arms = {
      {"nginx proxy_pass", nginx_proxy.port(), {}, {}},
      {"ufc-agentd proxy", plain.port_from("proxy.port"), {}, {}},
      {"ufc-agentd + routing, ban, fuse", full.port_from("proxy.port"), {}, {}}};
  std::printf("proxy_bench: wrk -t1 -c%d, %d s x %d rounds, interleaved; backend nginx %s\n",
              connections, seconds, rounds, be.c_str());
  for (int r = 0; r < rounds; ++r) {
    for (Arm& arm : arms) {
      const WrkResult w = run_wrk(arm.port, seconds, connections);
      arm.rps.push_back(w.rps);
      arm.p99.push_back(w.p99_ms);
    }
  }
  const double base_rps = median(arms[0].rps), base_p99 = median(arms[0].p99);
  std::printf("%-34s %12s %10s %10s %10s\n", "arm", "requests/s", "p99 ms", "rps ratio",
              "p99 ratio");
  for (const Arm& arm : arms) {
    const double rps = median(arm.rps), p99 = median(arm.p99);
    std::printf("%-34s %12.0f %10.2f %10.2f %10.2f\n", arm.name, rps, p99,
                base_rps > 0 ? rps / base_rps : 0, base_p99 > 0 ? p99 / base_p99 : 0);
  }
  std::printf("goal: rps ratio >= 0.90, p99 ratio <= 1.20\n\n");
  std::printf("memory per idle keep-alive connection (%d connections, RSS growth):\n", idle);
  std::printf("  nginx proxy_pass   %8.0f bytes\n",
              idle_bytes_per_connection(nginx_proxy.port(), nginx_proxy.pid(), idle));
  std::printf("  ufc-agentd proxy   %8.0f bytes\n",
              idle_bytes_per_connection(plain.port_from("proxy.port"), plain.pid(), idle));
  return 0;
}
