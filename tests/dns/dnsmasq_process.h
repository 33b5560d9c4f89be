// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/dns/dnsmasq_process.h: Debian's dnsmasq (package dnsmasq-base) as a real DNS
// server for the resolver's tests, on 127.0.0.1 at an ephemeral port (UDP and TCP),
// serving only what the test configures, killed by PID.

#ifndef UFC_TESTS_DNS_DNSMASQ_PROCESS_H_
#define UFC_TESTS_DNS_DNSMASQ_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/metad/metad_process.h"

namespace ufc::testing {

// Dnsmasq: one dnsmasq process and its files (a temporary directory of its own: the
// config file with the SRV records, the hosts file with the address records, and `log`,
// its stderr with every query it answered).
//
// It answers for names under "ufc.test" from the configuration only: a name there that is
// not configured is NXDOMAIN, a configured name asked for a type it lacks is an empty
// answer (NOERROR, no records); names elsewhere are REFUSED (it has no upstream). Its
// readiness probe is an extra address record, "ufc-fixture-<n>.ufc.test" -> 127.0.0.1.
//
// Cost: start() and restart() take some 10-50 ms (they wait until it answers; at most
// ~5 s, then fail). Thread-safety: none; use it from the test's thread.
class Dnsmasq {
 public:
  static constexpr const char* kBinary = "/usr/sbin/dnsmasq";
  static bool available() { return ::access(kBinary, X_OK) == 0; }

  // One SRV record: `name` ("_http._tcp.ufc.test") -> target:port. An empty target makes
  // the RFC 2782 "." record (the service is decidedly not available).
  struct Srv {
    std::string name;
    std::string target;
    uint16_t port = 0;
    uint16_t priority = 0;
    uint16_t weight = 0;
  };
  struct Config {
    std::vector<std::pair<std::string, std::string>> hosts;  // (ip, name), as in /etc/hosts
    std::vector<Srv> srv;
    int local_ttl = 0;  // the TTL of every answer, in seconds (dnsmasq --local-ttl)
  };

  // start() writes the files, starts dnsmasq on a port free for both UDP and TCP (another
  // one if that was taken meanwhile, up to 5 tries), and waits until it answers.
  // INVALID_ARGUMENT for a config that would not survive the files' syntax (whitespace in
  // a name, a ',' in an SRV field); UNAVAILABLE, with the end of its log, if it does not
  // come up.
  static absl::StatusOr<std::unique_ptr<Dnsmasq>> start(Config config) {
    if (!available()) return absl::FailedPreconditionError(absl::StrCat(kBinary, " is missing"));
    std::unique_ptr<Dnsmasq> d(new Dnsmasq(std::move(config)));
    if (absl::Status s = d->write_config(); !s.ok()) return s;
    if (absl::Status s = d->write_hosts(); !s.ok()) return s;
    absl::Status last;
    for (int attempt = 0; attempt < 5; ++attempt) {
      d->port_ = free_udp_tcp_port();
      if (d->port_ <= 0) return absl::UnavailableError("no free port for UDP and TCP");
      last = d->spawn_and_wait();
      if (last.ok()) return d;
      if (!d->port_was_taken_) return last;  // a real failure: not worth another port
    }
    return last;
  }

  ~Dnsmasq() { (void)stop(); }
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>", for ResolverOptions::servers.
  std::string server() const { return absl::StrCat("127.0.0.1:", port_); }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::string& dir() const { return dir_.path(); }
  const Config& config() const { return config_; }
  // Its stderr so far (startup messages, each query and its answer).
  std::string log() const {
    std::ifstream in(log_path());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // set_hosts() replaces the address records: rewrites the hosts file and, if running,
  // sends SIGHUP (dnsmasq re-reads it) and waits until the new file is served.
  absl::Status set_hosts(std::vector<std::pair<std::string, std::string>> hosts) {
    config_.hosts = std::move(hosts);
    if (absl::Status s = write_hosts(); !s.ok()) return s;
    if (!running()) return absl::OkStatus();
    if (::kill(pid_, SIGHUP) != 0) {
      return absl::InternalError(absl::StrCat("kill(SIGHUP): ", std::strerror(errno)));
    }
    return wait_ready();
  }

  // set_srv() replaces the SRV records. They live in the config file, which dnsmasq reads
  // only at startup: it is restarted, on the same port (an error if that was taken).
  absl::Status set_srv(std::vector<Srv> srv) {
    config_.srv = std::move(srv);
    if (absl::Status s = write_config(); !s.ok()) return s;
    return running() ? restart() : absl::OkStatus();
  }

  // stop() sends SIGTERM, waits up to 2 s (then SIGKILL) and reaps it. Idempotent.
  absl::Status stop() {
    if (pid_ <= 0) return absl::OkStatus();
    stop_child(pid_, SIGTERM, 2000);
    pid_ = -1;
    return absl::OkStatus();
  }

  // restart() stops it (if running) and starts it again, same port and files. If the
  // port was taken meanwhile, it fails (it never moves: the resolver under test is
  // pointed at this port).
  absl::Status restart() {
    if (absl::Status s = stop(); !s.ok()) return s;
    absl::Status s = spawn_and_wait();
    if (!s.ok() && port_was_taken_) {
      return absl::UnavailableError(
          absl::StrCat("restart: port ", port_, " was taken: ", s.message()));
    }
    return s;
  }

 private:
  explicit Dnsmasq(Config config) : config_(std::move(config)) {}

  std::string conf_path() const { return dir_.path() + "/dnsmasq.conf"; }
  std::string hosts_path() const { return dir_.path() + "/hosts"; }
  std::string log_path() const { return dir_.path() + "/log"; }
  std::string probe_name() const { return absl::StrCat("ufc-fixture-", generation_, ".ufc.test"); }

  static bool plain(const std::string& s, bool allow_empty = false) {
    if (s.empty()) return allow_empty;
    for (char c : s) {
      if (c <= ' ' || c == ',' || c == '#' || c == 0x7f) return false;
    }
    return true;
  }

  // Writes `text` to `path` whole: a temporary file renamed over it, so that dnsmasq
  // never reads half of one.
  static absl::Status write_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
      out.close();
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
    // World-readable, should dnsmasq ever run as another user than root.
    ::chmod(tmp.c_str(), 0644);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("rename ", tmp, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  absl::Status write_config() {
    std::string text = "# written by tests/dns/dnsmasq_process.h\n";
    for (size_t i = 0; i < config_.srv.size(); ++i) {
      const Srv& r = config_.srv[i];
      if (!plain(r.name) || !plain(r.target, /*allow_empty=*/true)) {
        return absl::InvalidArgumentError(absl::StrCat("srv[", i, "]: bad name or target"));
      }
      if (r.target.empty()) {  // no target: dnsmasq serves the "." record
        absl::StrAppend(&text, "srv-host=", r.name, "\n");
        continue;
      }
      absl::StrAppend(&text, "srv-host=", r.name, ",", r.target, ",", r.port, ",", r.priority, ",",
                      r.weight, "\n");
    }
    return write_file(conf_path(), text);
  }

  absl::Status write_hosts() {
    ++generation_;
    std::string text = absl::StrCat("127.0.0.1 ", probe_name(), "\n");
    for (size_t i = 0; i < config_.hosts.size(); ++i) {
      const auto& [ip, name] = config_.hosts[i];
      if (!plain(ip) || !plain(name)) {
        return absl::InvalidArgumentError(absl::StrCat("hosts[", i, "]: bad ip or name"));
      }
      absl::StrAppend(&text, ip, " ", name, "\n");
    }
    return write_file(hosts_path(), text);
  }

  // A loopback port that was free for both UDP and TCP a moment ago (dnsmasq binds both);
  // -1 if none was found.
  static int free_udp_tcp_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof(a);
      if (udp < 0 || ::bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
          ::getsockname(udp, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (udp >= 0) ::close(udp);
        continue;
      }
      const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const bool ok = tcp >= 0 && ::bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      if (tcp >= 0) ::close(tcp);
      ::close(udp);
      if (ok) return ntohs(a.sin_port);
    }
    return -1;
  }

  // A DNS query for `name`, type A, class IN, recursion desired (RFC 1035 section 4.1).
  static std::string query_packet(uint16_t id, const std::string& name) {
    std::string p;
    p += static_cast<char>(id >> 8);
    p += static_cast<char>(id & 0xff);
    p += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // RD; QDCOUNT 1
    for (absl::string_view label : absl::StrSplit(name, '.', absl::SkipEmpty())) {
      p += static_cast<char>(label.size());
      p.append(label.data(), label.size());
    }
    p += std::string("\x00\x00\x01\x00\x01", 5);  // root; QTYPE A; QCLASS IN
    return p;
  }

  // Whether the server answers `name` with NOERROR and at least one record, within 100 ms.
  bool answers(const std::string& name) const {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const uint16_t id = static_cast<uint16_t>(::getpid() ^ generation_ ^ 0x5a5a);
    const std::string q = query_packet(id, name);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::send(fd, q.data(), q.size(), 0) == static_cast<ssize_t>(q.size())) {
      pollfd p{fd, POLLIN, 0};
      unsigned char buf[512];
      if (::poll(&p, 1, 100) == 1) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        ok = n >= 12 && (buf[0] << 8 | buf[1]) == id && (buf[2] & 0x80) != 0 &&  // QR
             (buf[3] & 0x0f) == 0 &&                                             // NOERROR
             (buf[6] << 8 | buf[7]) >= 1;                                        // ANCOUNT
      }
    }
    ::close(fd);
    return ok;
  }

  std::string log_tail() const {
    const std::string all = log();
    return all.size() <= 2000 ? all : all.substr(all.size() - 2000);
  }

  // Waits (up to ~5 s) until the current hosts file is served; an error if dnsmasq exits.
  absl::Status wait_ready() {
    const std::string name = probe_name();
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        const std::string tail = log_tail();
        port_was_taken_ = absl::StrContains(tail, "in use");
        return absl::UnavailableError(absl::StrCat("dnsmasq on port ", port_, " exited (status ",
                                                   status, "); its log ends:\n", tail));
      }
      if (answers(name)) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    (void)stop();
    return absl::UnavailableError(absl::StrCat(
        "dnsmasq on port ", port_, " did not answer within 5 s; its log ends:\n", log_tail()));
  }

  absl::Status spawn_and_wait() {
    port_was_taken_ = false;
    std::vector<std::string> args = {
        kBinary,
        absl::StrCat("--port=", port_),
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        // Foreground, no pid file, no change of user (it stays root and reads the files
        // in our 0700 directory), no forking for TCP: one process, killed by PID.
        "--no-daemon",
        "--log-facility=-",  // stderr only (no syslog)
        "--log-queries",
        "--no-resolv",
        "--no-poll",
        "--no-hosts",
        "--pid-file=",
        absl::StrCat("--conf-file=", conf_path()),
        absl::StrCat("--addn-hosts=", hosts_path()),
        "--local=/ufc.test/",
        absl::StrCat("--local-ttl=", config_.local_ttl),
    };
    // Everything the child needs is made before fork(): after it, only async-signal-safe
    // calls (the test process has threads).
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
      if (log_fd >= 0) ::close(log_fd);
      if (null_fd >= 0) ::close(null_fd);
      return absl::InternalError(absl::StrCat("cannot open ", log_path()));
    }
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the test
      if (::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
      // No inherited sockets (a port a test holds, a resolver's): close all but 0-2.
      if (::close_range(3, ~0U, 0) != 0) {
        for (int fd = 3; fd < 4096; ++fd) ::close(fd);
      }
      ::execv(kBinary, argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    ::close(null_fd);
    if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    pid_ = pid;
    return wait_ready();
  }

  Config config_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  int generation_ = 0;  // of the hosts file: its probe name changes with each write
  bool port_was_taken_ = false;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_DNS_DNSMASQ_PROCESS_H_
