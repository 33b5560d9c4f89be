// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// A tiny HTTP/1.1 backend whose failure mode is set by flags, for the demo and for
// trying UFC by hand.
//
//   backend --port=18081 --mode=healthy|slow|5xx|reset|refuse [--delay_ms=20] [--name=b1]
//   backend --port=0 --port_file=b1.port ...   an ephemeral port, written to the file once
//                                             the backend is ready (how the demo runs it)
//
//   healthy  200 with the backend's name
//   slow     200 after --delay_ms; but if the request's x-ufc-timeout-ms budget (counted
//            from when the connection was accepted) is shorter than that, 504 at once:
//            the caller will be gone before the work is done
//
// Every response echoes the budget it arrived with in x-ufc-budget-ms.
//   5xx      503
//   reset    accepts, then resets the connection (SO_LINGER 0) without answering
//   refuse   binds the port but does not listen, so connecting is refused (and nothing
//            else can take the port meanwhile)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "ufc/deadline.h"

ABSL_FLAG(int, port, 18081, "TCP port on 127.0.0.1");
ABSL_FLAG(std::string, mode, "healthy", "healthy | slow | 5xx | reset | refuse");
ABSL_FLAG(int, delay_ms, 20, "extra latency in slow mode");
ABSL_FLAG(std::string, name, "", "name in responses (default: backend-<port>)");
ABSL_FLAG(std::string, port_file, "",
          "once ready, write the port (useful with --port=0) to this file, atomically");

namespace {

std::atomic<bool> stopping{false};

void on_signal(int) { stopping = true; }

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void serve(int fd, ufc::MonotonicTime accepted, const std::string& mode, int delay_ms,
           const std::string& name) {
  if (mode == "reset") {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd);
    return;
  }
  std::string buffer;
  char chunk[4096];
  for (;;) {
    size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    const bool close_after = buffer.find("Connection: close") < end;
    // The deadline: relative on the wire, absolute from the moment we accepted.
    ufc::Deadline deadline;
    std::string budget = "-";
    const std::string header = std::string(ufc::kTimeoutHeader) + ": ";
    const size_t h = buffer.find(header);
    if (h < end) {
      const size_t from = h + header.size();
      budget = buffer.substr(from, buffer.find("\r\n", from) - from);
      absl::StatusOr<ufc::Deadline> d = ufc::decode_timeout(budget, accepted);
      if (d.ok()) deadline = *d;
    }
    buffer.erase(0, end + 4);
    std::string status = "200 OK";
    std::string body = absl::StrCat(name, " ok\n");
    if (mode == "5xx") {
      status = "503 Service Unavailable";
      body = absl::StrCat(name, " unavailable\n");
    } else if (mode == "slow") {
      if (deadline.remaining() < absl::Milliseconds(delay_ms)) {
        status = "504 Gateway Timeout";  // not enough budget left for the work: skip it
        body = absl::StrCat(name, " skipped: budget < work\n");
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      }
    }
    accepted = ufc::Clock::system()->monotonic_now();  // a kept-alive connection's next request
    const std::string response = absl::StrCat(
        "HTTP/1.1 ", status, "\r\nContent-Length: ", body.size(), "\r\nx-ufc-budget-ms: ", budget,
        "\r\nConnection: ", close_after ? "close" : "keep-alive", "\r\n\r\n", body);
    if (!write_all(fd, response) || close_after) {
      ::close(fd);
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  int port = absl::GetFlag(FLAGS_port);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const int delay_ms = absl::GetFlag(FLAGS_delay_ms);
  std::string name = absl::GetFlag(FLAGS_name);
  if (mode != "healthy" && mode != "slow" && mode != "5xx" && mode != "reset" && mode != "refuse") {
    std::fprintf(stderr, "--mode: unknown mode \"%s\"\n", mode.c_str());
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  // A refusing backend holds its port bound but never listens: connects get a reset.
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (mode != "refuse" && ::listen(listener, 1024) != 0) ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "%s: cannot listen on 127.0.0.1:%d: %s\n",
                 name.empty() ? "backend" : name.c_str(), port, std::strerror(errno));
    return 1;
  }
  port = ntohs(addr.sin_port);
  if (name.empty()) name = absl::StrCat("backend-", port);
  if (const std::string file = absl::GetFlag(FLAGS_port_file); !file.empty()) {
    const std::string tmp = file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    if (std::rename(tmp.c_str(), file.c_str()) != 0) {
      std::fprintf(stderr, "%s: cannot write %s\n", name.c_str(), file.c_str());
      return 1;
    }
  }
  if (mode == "refuse") {
    std::fprintf(stderr, "%s: refusing on 127.0.0.1:%d (bound, not listening)\n", name.c_str(),
                 port);
    while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return 0;
  }
  // Wake accept() periodically so a signal can stop us.
  timeval tv{0, 100 * 1000};
  setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::fprintf(stderr, "%s: %s on 127.0.0.1:%d\n", name.c_str(), mode.c_str(), port);
  while (!stopping) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::thread(serve, fd, ufc::Clock::system()->monotonic_now(), mode, delay_ms, name).detach();
  }
  ::close(listener);
  return 0;
}
