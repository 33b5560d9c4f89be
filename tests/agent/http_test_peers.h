// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/agent/http_test_peers.h: real HTTP peers for the proxy's tests and benchmark,
// written apart from the proxy's parser (so that a bug there cannot hide itself): a raw
// client over a socket, a scriptable backend on an ephemeral loopback port (a thread per
// connection), and Debian's nginx started on a free port and killed by PID.

#ifndef UFC_TESTS_AGENT_HTTP_TEST_PEERS_H_
#define UFC_TESTS_AGENT_HTTP_TEST_PEERS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/metad/metad_process.h"

namespace ufc::testing {

inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

inline bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads into `buf` until `until(buf)` or EOF / error / `timeout_ms`. False on timeout.
inline bool read_until(int fd, std::string* buf,
                       const std::function<bool(const std::string&)>& until, int timeout_ms,
                       bool* eof = nullptr) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char chunk[65536];
  while (!until(*buf)) {
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          end - std::chrono::steady_clock::now())
                                          .count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) continue;
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      if (eof != nullptr) *eof = true;
      return until(*buf);
    }
    buf->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A response (or request) as read off the wire by a simple, separate decoder.
struct HttpMessage {
  bool complete = false;
  std::string start_line;
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;
  size_t wire_bytes = 0;  // head + framed body
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Decodes one message at the start of `data`; complete == false while more is needed.
// `until_close`: a body without framing runs to the end of `data` (the peer closed).
// `head_request`: the response to a HEAD, which has no body whatever its headers say.
inline HttpMessage decode_message(const std::string& data, bool response, bool until_close,
                                  bool head_request = false) {
  HttpMessage m;
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return m;
  size_t line_end = data.find("\r\n");
  m.start_line = data.substr(0, line_end);
  if (response && m.start_line.size() >= 12) m.status = std::atoi(m.start_line.c_str() + 9);
  size_t at = line_end + 2;
  while (at < head_end + 2) {
    const size_t e = data.find("\r\n", at);
    const std::string line = data.substr(at, e - at);
    at = e + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    m.headers[lower(line.substr(0, colon))] = v;
  }
  size_t body_at = head_end + 4;
  if (lower(m.header("transfer-encoding")) == "chunked") {
    size_t p = body_at;
    while (true) {
      const size_t e = data.find("\r\n", p);
      if (e == std::string::npos) return m;
      const size_t size = std::strtoull(data.substr(p, e - p).c_str(), nullptr, 16);
      if (size == 0) {
        const size_t end = data.find("\r\n\r\n", e);
        const size_t fin = data.compare(e, 4, "\r\n\r\n") == 0 ? e + 4
                           : end == std::string::npos          ? std::string::npos
                                                               : end + 4;
        if (fin == std::string::npos || fin > data.size()) return m;
        m.wire_bytes = fin;
        m.complete = true;
        return m;
      }
      if (e + 2 + size + 2 > data.size()) return m;
      m.body.append(data, e + 2, size);
      p = e + 2 + size + 2;
    }
  }
  const std::string cl = m.header("content-length");
  const bool no_body =
      response && (head_request || m.status == 204 || m.status == 304 || m.status < 200);
  if (!cl.empty() || no_body || !response) {
    const size_t n = no_body || cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
    if (data.size() < body_at + n) return m;
    m.body = data.substr(body_at, n);
    m.wire_bytes = body_at + n;
    m.complete = true;
    return m;
  }
  if (!until_close) return m;
  m.body = data.substr(body_at);
  m.wire_bytes = data.size();
  m.complete = true;
  return m;
}

// One request on a fresh connection; the response as read (status 0 if none).
inline HttpMessage http_request(int port, const std::string& raw, int timeout_ms = 10000,
                                bool* closed_after = nullptr) {
  HttpMessage m;
  const int fd = connect_loopback(port);
  if (fd < 0) return m;
  send_all(fd, raw);
  std::string buf;
  bool eof = false;
  const bool head = raw.rfind("HEAD ", 0) == 0;
  read_until(
      fd, &buf, [&](const std::string& b) { return decode_message(b, true, false, head).complete; },
      timeout_ms, &eof);
  m = decode_message(buf, true, eof, head);
  if (closed_after != nullptr) {
    // Did the proxy close after answering? (A read returning 0 within 500 ms.)
    std::string rest;
    bool e2 = eof;
    if (!e2)
      read_until(
          fd, &rest, [](const std::string&) { return false; }, 500, &e2);
    *closed_after = e2;
  }
  ::close(fd);
  return m;
}

inline std::string get_request(const std::string& path, const std::string& extra_headers) {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

// TestBackend: an HTTP/1.1 server on 127.0.0.1:<ephemeral>, a thread per connection,
// whose every request goes to `handler` (which writes the response itself).
class TestBackend {
 public:
  struct Request {
    HttpMessage message;  // head and (decoded) body
    int fd;
    std::chrono::steady_clock::time_point accepted;
  };
  // Returns false to close the connection after this request.
  using Handler = std::function<bool(Request&)>;

  // `serial`: one connection at a time, accepted only once the previous one closed (a
  // backend whose extra callers wait in its kernel accept queue).
  explicit TestBackend(Handler handler, bool serial = false)
      : handler_(std::move(handler)), serial_(serial) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(listen_fd_, 128);
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TestBackend() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : workers_) t.detach();
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++connections_;
      const auto accepted = std::chrono::steady_clock::now();
      {
        std::lock_guard<std::mutex> lock(mu_);
        open_.push_back(fd);
      }
      if (serial_) {
        serve(fd, accepted);
      } else {
        std::lock_guard<std::mutex> lock(mu_);
        workers_.emplace_back([this, fd, accepted] { serve(fd, accepted); });
      }
    }
  }
  void serve(int fd, std::chrono::steady_clock::time_point accepted) {
    std::string buf;
    while (!stopping_) {
      bool eof = false;
      read_until(
          fd, &buf, [](const std::string& b) { return decode_message(b, false, false).complete; },
          30000, &eof);
      HttpMessage m = decode_message(buf, false, false);
      if (!m.complete) break;
      buf.erase(0, m.wire_bytes);
      ++requests_;
      Request r{std::move(m), fd, accepted};
      if (!handler_(r)) break;
      accepted = std::chrono::steady_clock::now();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_.erase(std::remove(open_.begin(), open_.end(), fd), open_.end());
    }
    ::close(fd);
  }

  Handler handler_;
  bool serial_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> workers_;
};

inline bool respond(int fd, int status, const std::string& body,
                    const std::string& extra_headers = "") {
  return send_all(fd, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body);
}

// The process's resident set size in kB (/proc/<pid>/status VmRSS), -1 if unknown.
inline long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// A ServiceConfig in JSON with these endpoint addresses (and `extra` fields, ",\"fuse\":...").
inline std::string service_json(const std::string& name, const std::vector<std::string>& addresses,
                                const std::string& extra = "") {
  std::string endpoints;
  for (const std::string& a : addresses) {
    absl::StrAppend(&endpoints, endpoints.empty() ? "" : ",", "{\"address\":\"", a, "\"}");
  }
  return absl::StrCat("{\"name\":\"", name, "\",\"endpoints\":[", endpoints, "]", extra, "}");
}

// A dead port for a backend: bound, never listening, so connecting is refused.
class DeadPort {
 public:
  DeadPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  ~DeadPort() { ::close(fd_); }
  const std::string& address() const { return address_; }

 private:
  int fd_;
  std::string address_;
};

// A free loopback port, for a server that cannot bind port 0 and say which it got
// (nginx). Racy by nature: the caller retries when the server fails to bind it.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Debian's nginx with a config written from `server_block` ("%PORT%" replaced by its port),
// in the foreground, killed by PID.
class Nginx {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nginx";
  static bool available() { return ::access(kBinary, X_OK) == 0; }

  Nginx(const std::string& dir, const std::string& http_block, int workers = 1)
      : dir_(dir), http_block_(http_block), workers_(workers) {}
  ~Nginx() { stop(); }

  bool start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::string block = http_block_;
      for (size_t at; (at = block.find("%PORT%")) != std::string::npos;) {
        block.replace(at, 6, std::to_string(port_));
      }
      const std::string conf = dir_ + "/nginx.conf";
      std::ofstream(conf) << "worker_processes " << workers_ << ";\ndaemon off;\nmaster_process "
                          << (workers_ == 1 ? "off" : "on") << ";\npid " << dir_
                          << "/nginx.pid;\nerror_log " << dir_
                          << "/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n"
                          << "access_log off;\nclient_body_temp_path " << dir_ << ";\n"
                          << "proxy_temp_path " << dir_ << ";\n"
                          << block << "\n}\n";
      std::fflush(nullptr);
      pid_ = ::fork();
      if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (std::freopen("/dev/null", "w", stdout) == nullptr ||
            std::freopen((dir_ + "/stderr.log").c_str(), "a", stderr) == nullptr) {
          ::_exit(126);
        }
        ::execl(kBinary, kBinary, "-p", dir_.c_str(), "-c", conf.c_str(), nullptr);
        ::_exit(127);
      }
      for (int i = 0; i < 300; ++i) {
        const int fd = connect_loopback(port_);
        if (fd >= 0) {
          ::close(fd);
          return true;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) break;  // the port was taken: retry
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      stop();
    }
    return false;
  }
  void stop() {
    stop_child(pid_, SIGTERM, 2000);
    pid_ = -1;
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  std::string dir_;
  std::string http_block_;
  int workers_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_AGENT_HTTP_TEST_PEERS_H_
