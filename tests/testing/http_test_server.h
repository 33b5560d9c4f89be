// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/http_test_server.h: a minimal HTTP/1.1 server and client on 127.0.0.1 for
// integration tests (one request per connection, headers only).

#ifndef UFC_TESTS_TESTING_HTTP_TEST_SERVER_H_
#define UFC_TESTS_TESTING_HTTP_TEST_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ufc/clock.h"

namespace ufc::testing {

struct HttpRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  MonotonicTime arrival;                       // Clock::system()->monotonic_now() at accept
  int fd = -1;                                 // the connection, for peer_closed()
};

// HttpServer: accepts on 127.0.0.1 (ephemeral port), one thread per connection, and
// answers each request with handler(request) as the body of a 200.
class HttpServer {
 public:
  using Handler = std::function<std::string(const HttpRequest&)>;

  explicit HttpServer(Handler handler) : handler_(std::move(handler)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listener_, 64);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~HttpServer() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    for (std::thread& t : workers_) t.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const MonotonicTime arrival = Clock::system()->monotonic_now();
      workers_.emplace_back([this, fd, arrival] { serve(fd, arrival); });
    }
  }

  void serve(int fd, MonotonicTime arrival) {
    std::string data;
    char buf[4096];
    while (data.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    HttpRequest request;
    request.arrival = arrival;
    request.fd = fd;
    std::vector<std::string> lines = absl::StrSplit(data.substr(0, data.find("\r\n\r\n")), "\r\n");
    if (!lines.empty()) {
      std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
      if (first.size() > 1) request.path = first[1];
      for (size_t i = 1; i < lines.size(); ++i) {
        const size_t colon = lines[i].find(':');
        if (colon == std::string::npos) continue;
        request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
            std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
      }
    }
    const std::string body = handler_(request);
    const std::string response = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                              "\r\nConnection: close\r\n\r\n", body);
    (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
  }

  Handler handler_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;  // only the accept thread touches it until the join
};

// http_get() sends GET `path` with `headers` to 127.0.0.1:`port` and returns the body, or
// "" on any failure or after `timeout`.
inline std::string http_get(uint16_t port, const std::string& path,
                            const std::map<std::string, std::string>& headers,
                            absl::Duration timeout = absl::Seconds(5)) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(absl::ToInt64Seconds(timeout)),
             static_cast<suseconds_t>(absl::ToInt64Microseconds(timeout) % 1000000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (const auto& [name, value] : headers) absl::StrAppend(&request, name, ": ", value, "\r\n");
    request += "Connection: close\r\n\r\n";
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
      response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_HTTP_TEST_SERVER_H_
