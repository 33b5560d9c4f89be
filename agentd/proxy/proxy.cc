// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The proxy's connection state machine. One ClientConn per accepted connection; during an
// exchange it owns one Upstream. Every event (either socket, a timer) sets readiness
// flags and calls ClientConn::drive(), which makes whatever progress it can: read, parse,
// pick, connect, relay both directions, answer, finish. Nothing blocks.

#include "agentd/proxy/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agentd/proxy/event_loop.h"
#include "src/common/listen_security.h"
#include "ufc/deadline.h"
#include "ufc/refusal.h"

namespace ufc_agent::proxy {
namespace {

// A request waiting in the inbound queue is refused this long before its deadline: the
// caller upstream waits on the same deadline, so a refusal sent at the deadline itself
// would race the caller giving up, and the caller would see a bare timeout instead of
// "deadline_spent" at this hop.
constexpr absl::Duration kQueueAnswerLead = absl::Milliseconds(10);

using http::BodyKind;
using http::ParseStatus;

constexpr std::string_view kServiceHeader = "x-ufc-service-name";
constexpr std::string_view kCallerHeader = "x-ufc-self-service-name";
constexpr std::string_view kHashHeader = "x-ufc-hash-key";
constexpr std::string_view kPriorityHeader = "x-ufc-priority";
constexpr std::string_view kTokenHeader = "x-ufc-agent-token";

bool is_ufc_header(std::string_view name) {
  return name.size() > 6 && http::istarts_with(name, "x-ufc-");
}

// Compares in time independent of where the strings differ.
bool token_matches(std::string_view got, std::string_view want) {
  if (got.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < got.size(); ++i) diff |= static_cast<unsigned char>(got[i] ^ want[i]);
  return diff == 0;
}

absl::Duration min_duration(absl::Duration a, absl::Duration b) { return a < b ? a : b; }

// %XX sequences decoded ('+' stays '+', as decodeURIComponent leaves it); a malformed
// escape is kept as it is.
std::string percent_decoded(std::string_view s) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
};

// An IP literal and port (the proxy does not resolve names: DNS destinations arrive as
// addresses from the library).
bool make_addr(std::string_view host, uint16_t port, SockAddr* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (host.size() >= sizeof(buf)) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (::inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out->len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (::inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

bool split_host_port(std::string_view hp, std::string_view* host, uint16_t* port) {
  const size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  *host = hp.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  const std::string_view digits = hp.substr(colon + 1);
  uint32_t p = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), p);
  if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() ||
      p > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(p);
  return true;
}

// Appends to `o` without temporaries (std::string_view pieces and integers).
inline void put(std::string* o, std::string_view a) { o->append(a.data(), a.size()); }
inline void put(std::string* o, const char* a) { o->append(a); }
inline void put(std::string* o, const std::string& a) { o->append(a); }
inline void put(std::string* o, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  o->append(buf, r.ptr - buf);
}
inline void put(std::string* o, int v) { put(o, static_cast<uint64_t>(v < 0 ? 0 : v)); }
template <typename... T>
void cat(std::string* o, const T&... parts) {
  (put(o, parts), ...);
}

void append_json_string(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// A fixed-size buffer from the worker's pool, as [start, ready) bytes approved to relay
// and [ready, end) bytes read but not yet scanned. `base` is where it restarts when
// drained (after a pinned request head).
struct Buf {
  char* data = nullptr;
  size_t base = 0;
  size_t start = 0;
  size_t ready = 0;
  size_t end = 0;
  void reset_to(size_t b) { base = start = ready = end = b; }
};

// Per-thread counters: one writer (the loop), relaxed.
struct Counters {
  std::atomic<uint64_t> connections_accepted{0}, connections_open{0}, requests{0}, forwarded{0},
      retries{0}, local_answers{0}, bad_requests{0}, queue_expired{0}, caller_gone{0},
      faults_aborted{0}, faults_delayed{0}, upstream_connects{0}, upstream_reused{0};
};
inline void bump(std::atomic<uint64_t>& c, int64_t d = 1) {
  c.store(c.load(std::memory_order_relaxed) + static_cast<uint64_t>(d), std::memory_order_relaxed);
}

class ClientConn;
class Upstream;

}  // namespace

// One loop thread: its listener, connections, buffers and upstream pool.
class ProxyServer::Worker final : public IoHandler {
 public:
  Worker(const ProxyOptions& options, std::unique_ptr<EventLoop> loop, int listen_fd)
      : options_(options), loop_(std::move(loop)), listen_fd_(listen_fd) {}
  ~Worker() override;

  void run() { loop_->run(); }
  void stop() { loop_->stop(); }
  void on_io(uint32_t events) override;  // the listener

  const ProxyOptions& options() const { return options_; }
  EventLoop& loop() { return *loop_; }
  Counters& counters() { return counters_; }
  const Counters& counters() const { return counters_; }

  char* take_buffer() {
    if (free_buffers_.empty()) return new char[options_.buffer_bytes];
    char* b = free_buffers_.back();
    free_buffers_.pop_back();
    return b;
  }
  void give_buffer(char*& b) {
    if (b == nullptr) return;
    if (free_buffers_.size() < 1024) {
      free_buffers_.push_back(b);
    } else {
      delete[] b;
    }
    b = nullptr;
  }

  // The pool: an idle connection to `address`, or nullptr.
  Upstream* take_idle(std::string_view address);
  void put_idle(Upstream* up);
  void forget_idle(Upstream* up);
  Upstream* connect(std::string_view address, const SockAddr& addr, int* err);
  void close_upstream(Upstream* up);

  // Inbound admission: FIFO of requests waiting for a slot at the local upstream.
  bool admit() {
    if (active_ < options_.inbound_max_active) {
      ++active_;
      return true;
    }
    return false;
  }
  void enqueue(ClientConn* c) { queue_.push_back(c); }
  void dequeue(ClientConn* c) {
    auto it = std::find(queue_.begin(), queue_.end(), c);
    if (it != queue_.end()) queue_.erase(it);
  }
  void release_slot();
  void conn_closed(ClientConn* c);

  const SockAddr& inbound_addr() const { return inbound_addr_; }
  void set_inbound_addr(const SockAddr& a) { inbound_addr_ = a; }

 private:
  const ProxyOptions& options_;
  std::unique_ptr<EventLoop> loop_;
  int listen_fd_;
  Counters counters_;
  std::vector<char*> free_buffers_;
  absl::flat_hash_map<std::string, std::vector<Upstream*>> idle_;
  absl::flat_hash_map<ClientConn*, std::unique_ptr<ClientConn>> conns_;
  size_t active_ = 0;
  std::deque<ClientConn*> queue_;
  SockAddr inbound_addr_;
};

namespace {

using Worker = ProxyServer::Worker;

// A connection to a backend; pooled between exchanges.
class Upstream final : public IoHandler {
 public:
  Upstream(Worker* w, int fd, std::string address)
      : w_(w),
        fd_(fd),
        address_(std::move(address)),
        idle_timer_([this] { w_->close_upstream(this); }) {}
  ~Upstream() override { w_->give_buffer(in_.data); }
  void on_io(uint32_t events) override;

  Worker* w_;
  int fd_;
  std::string address_;
  Buf in_;
  bool connected_ = false;
  bool readable_ = true;
  bool writable_ = false;
  bool hup_ = false;
  bool reused_ = false;  // this exchange runs on a pooled connection
  bool closed_ = false;
  ClientConn* owner_ = nullptr;
  Timer idle_timer_;
};

// One accepted connection and its current exchange.
class ClientConn final : public IoHandler {
 public:
  ClientConn(Worker* w, int fd) : w_(w), fd_(fd), timer_([this] { on_timer(); }) {}
  ~ClientConn() override {
    if (phase_ != Phase::kClosed) {  // the server is shutting down
      pick_.reset();
      if (up_ != nullptr) {
        ::close(up_->fd_);
        delete up_;
      }
      ::close(fd_);
    }
    w_->give_buffer(in_.data);
  }

  void start() {
    w_->loop().arm(&timer_, w_->loop().now() + w_->options().idle_timeout);
    drive();
  }
  void on_io(uint32_t events) override {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
    drive();
  }
  void on_upstream(uint32_t events) {
    if (up_ == nullptr) return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) up_->readable_ = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) up_->writable_ = true;
    if (events & (EPOLLHUP | EPOLLERR)) up_->hup_ = true;
    drive();
  }
  // Inbound: a slot at the local upstream is free for this queued request.
  void admitted() {
    if (phase_ != Phase::kQueued) return;
    begin_forward();
    drive();
  }
  bool caller_gone() const { return client_eof_; }
  // Within kQueueAnswerLead of the deadline counts as passed: see there.
  bool queued_deadline_passed() const {
    return deadline_.expired_at(w_->loop().now() + kQueueAnswerLead);
  }
  void expire_in_queue() {
    bump(w_->counters().queue_expired);
    answer(504, "deadline_spent", "the deadline passed while the request waited for the upstream");
    drive();
  }
  void drop() { close(); }

 private:
  enum class Phase : uint8_t {
    kHead,      // reading a request head (or idle between requests)
    kQueued,    // inbound: waiting for a slot
    kDelay,     // an injected delay
    kExchange,  // connecting / relaying with an upstream
    kAnswer,    // writing an answer of our own
    kClosed,
  };

  void drive();
  bool read_client();
  void on_head();
  void answer(int status, std::string_view reason, std::string_view message,
              bool force_close = false);
  // Writes a whole response of our own (the answer, or a site page).
  void respond(int status, std::string_view content_type, std::string_view reason,
               std::string_view body, bool force_close);
  void serve_site();
  // Hands the request that ends to on_request (once per request; nothing without a hook).
  void request_ended(int status, std::string_view reason);
  void route_outbound();
  void begin_forward();
  void forward_picked();
  void connect_attempt();
  void build_upstream_head();
  void pump_request();
  void pump_response();
  bool scan_request_body();
  void on_response_head();
  void upstream_failed(ufc::Transport kind, std::string_view reason, bool in_connect);
  void finish_exchange();
  void next_request();
  void on_timer();
  void arm(absl::Duration d) { w_->loop().arm(&timer_, w_->loop().now() + d); }
  void release_upstream(bool reusable);
  void report(const ufc::Outcome& outcome);
  void close();
  bool send_iov(int fd, iovec* iov, int n, size_t* sent, bool* blocked);

  Worker* w_;
  int fd_;
  Buf in_;
  bool readable_ = true;
  bool writable_ = true;
  bool client_eof_ = false;
  Phase phase_ = Phase::kHead;
  Timer timer_;
  bool head_timer_armed_ = false;

  // The current request.
  http::RequestHead req_;
  ufc::MonotonicTime arrival_;
  ufc::Deadline deadline_;
  char method_[16] = {};
  size_t method_len_ = 0;
  std::string service_;
  std::string names_;  // lowercased header names, for routing attributes
  std::vector<ufc::Attribute> attributes_;
  std::string_view caller_, hash_key_;
  ufc::Priority priority_ = ufc::Priority::kNormal;
  bool keep_alive_ = true;
  bool slot_held_ = false;  // inbound admission

  // The exchange.
  std::optional<ufc::Pick> pick_;
  std::vector<std::string> tried_;
  std::vector<std::string_view> avoid_;
  uint32_t attempts_ = 0;
  bool silent_retry_used_ = false;
  int fail_status_ = 0;  // while retrying: the answer if the retry is refused
  std::string_view fail_reason_;
  std::string retry_note_;
  SockAddr target_;
  std::string target_address_;
  Upstream* up_ = nullptr;
  std::string head_out_;  // the request head for the upstream
  size_t head_out_sent_ = 0;
  uint64_t req_remaining_ = 0;
  http::ChunkedFramer req_framer_;
  bool req_done_ = false;
  uint64_t body_sent_ = 0;
  bool request_sent_ = false;  // head and body all written
  ufc::MonotonicTime attempt_start_;
  absl::Duration ttfb_;
  http::ResponseHead resp_;
  bool resp_head_done_ = false;
  bool resp_strip_ = false;
  uint64_t resp_remaining_ = 0;
  http::ChunkedFramer resp_framer_;
  bool resp_done_ = false;
  std::string resp_out_;  // the response head (or our answer) for the client
  size_t resp_out_sent_ = 0;
  bool response_started_ = false;  // a byte went to the client
  bool close_after_ = false;

  // For on_request: the attempts' results, and whether the current request is owed a record.
  struct AttemptResult {
    std::string backend;
    ufc::OutcomeClass outcome = ufc::OutcomeClass::kSuccess;
    int status = 0;
    absl::Duration latency;
  };
  static constexpr size_t kMaxRecordedAttempts = 12;
  std::array<AttemptResult, kMaxRecordedAttempts> attempt_results_;
  size_t attempt_count_ = 0;
  bool record_owed_ = false;
};

void Upstream::on_io(uint32_t events) {
  if (closed_) return;
  if (owner_ != nullptr) {
    owner_->on_upstream(events);
    return;
  }
  // Idle in the pool: the backend closed it, or sent bytes nobody asked for. (Output
  // readiness alone is not news.)
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) w_->close_upstream(this);
}

bool ClientConn::send_iov(int fd, iovec* iov, int n, size_t* sent, bool* blocked) {
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<size_t>(n);
  *sent = 0;
  *blocked = false;
  while (true) {
    const ssize_t r = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (r >= 0) {
      *sent = static_cast<size_t>(r);
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      *blocked = true;
      return true;
    }
    return false;
  }
}

// Reads what the client sent into in_, while there is room. False once nothing more will
// come (EOF or error); client_eof_ set.
bool ClientConn::read_client() {
  if (!readable_ || client_eof_) return !client_eof_;
  if (in_.data == nullptr) in_.data = w_->take_buffer();
  const size_t cap = w_->options().buffer_bytes;
  while (in_.end < cap) {
    const ssize_t r = ::recv(fd_, in_.data + in_.end, cap - in_.end, 0);
    if (r > 0) {
      in_.end += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      client_eof_ = true;
      readable_ = false;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      return true;
    }
    client_eof_ = true;
    readable_ = false;
    return false;
  }
  return true;
}

void ClientConn::drive() {
  // Each pass makes progress or stops; bounded so that a misbehaving state cannot spin.
  for (int pass = 0; pass < 64 && phase_ != Phase::kClosed; ++pass) {
    switch (phase_) {
      case Phase::kHead: {
        const size_t had = in_.end;
        read_client();
        if (in_.data != nullptr && in_.end > in_.start) {
          if (!head_timer_armed_) {
            // The request's first byte: its arrival, from which its budget counts.
            arrival_ = w_->loop().now();
            arm(w_->options().header_timeout);
            head_timer_armed_ = true;
          }
          // Parse only once the blank line may be here (a head dripping in byte by byte
          // is then scanned once, not once per byte).
          const size_t from = std::max(in_.start, had >= 3 ? had - 3 : 0);
          const bool may_end =
              had <= in_.start || std::string_view(in_.data + from, in_.end - from).find("\n") !=
                                      std::string_view::npos;
          if (!may_end && in_.end - in_.start < w_->options().limits.max_head_bytes) {
            if (client_eof_) {
              close();
              return;
            }
            return;
          }
          std::string_view error;
          const ParseStatus st = http::parse_request(in_.data + in_.start, in_.end - in_.start,
                                                     w_->options().limits, &req_, &error);
          if (st == ParseStatus::kDone) {
            on_head();
            break;
          }
          if (st == ParseStatus::kError) {
            bump(w_->counters().bad_requests);
            answer(400, error, "malformed request", /*force_close=*/true);
            break;
          }
          if (in_.end == had && client_eof_) {
            close();  // a partial head, then the caller left
            return;
          }
        } else if (client_eof_) {
          close();  // idle connection closed by the caller
          return;
        } else if (in_.data != nullptr && in_.start == in_.end) {
          w_->give_buffer(in_.data);  // idle: hold no buffer
          in_.reset_to(0);
        }
        return;
      }
      case Phase::kQueued:
      case Phase::kDelay:
        // Nothing to do but notice a caller that left.
        if (readable_ && !client_eof_) {
          // A read that returns 0 is the caller's FIN (pipelined bytes stay queued).
          char c;
          if (::recv(fd_, &c, 1, MSG_PEEK) == 0) client_eof_ = true;
          readable_ = false;
        }
        if (client_eof_) {
          bump(w_->counters().caller_gone);
          if (phase_ == Phase::kQueued) w_->dequeue(this);
          close();
        }
        return;
      case Phase::kExchange:
        if (up_ != nullptr && !up_->connected_) {
          if (!up_->writable_) return;
          int err = 0;
          socklen_t len = sizeof(err);
          ::getsockopt(up_->fd_, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            upstream_failed(err == ETIMEDOUT ? ufc::Transport::kConnectTimeout
                                             : ufc::Transport::kConnectRefused,
                            err == ETIMEDOUT ? "connect_timeout" : "connect_refused", true);
            break;
          }
          up_->connected_ = true;
          arm(min_duration(w_->options().send_timeout, deadline_.remaining_at(w_->loop().now())));
        }
        {
          const uint32_t attempt = attempts_;
          const Upstream* upstream = up_;
          pump_request();
          if (phase_ != Phase::kExchange) break;
          pump_response();
          if (phase_ != Phase::kExchange) break;
          if (resp_head_done_ && resp_done_ && resp_out_.empty() && up_ != nullptr &&
              up_->in_.start == up_->in_.ready) {
            finish_exchange();
            break;
          }
          // A retry (or a silent reconnect) started on another connection, which may be
          // ready already (a pooled one raises no new edge): go round again.
          if (attempts_ != attempt || up_ != upstream) break;
        }
        return;
      case Phase::kAnswer: {
        if (!writable_) return;
        iovec iov{resp_out_.data() + resp_out_sent_, resp_out_.size() - resp_out_sent_};
        size_t sent = 0;
        bool blocked = false;
        if (!send_iov(fd_, &iov, 1, &sent, &blocked)) {
          close();
          return;
        }
        resp_out_sent_ += sent;
        if (blocked) {
          writable_ = false;
          return;
        }
        if (resp_out_sent_ < resp_out_.size()) continue;
        if (close_after_ || client_eof_) {
          close();
          return;
        }
        next_request();
        break;
      }
      case Phase::kClosed:
        return;
    }
  }
}

void ClientConn::on_head() {
  bump(w_->counters().requests);
  w_->loop().cancel(&timer_);
  head_timer_armed_ = false;
  const ProxyOptions& opt = w_->options();
  method_len_ = std::min(req_.method.size(), sizeof(method_));
  std::memcpy(method_, req_.method.data(), method_len_);
  keep_alive_ = req_.keep_alive;
  close_after_ = false;
  // The body starts after the head, which stays pinned (retries rebuild from it).
  in_.base = in_.start + req_.head_bytes;
  in_.start = in_.ready = in_.base;
  req_remaining_ = req_.content_length;
  req_framer_.reset();
  req_done_ =
      req_.body == BodyKind::kNone || (req_.body == BodyKind::kLength && req_remaining_ == 0);
  body_sent_ = 0;
  request_sent_ = false;
  attempts_ = 0;
  silent_retry_used_ = false;
  tried_.clear();
  resp_head_done_ = false;
  resp_done_ = false;
  response_started_ = false;

  if (opt.site) {
    serve_site();
    return;
  }
  record_owed_ = static_cast<bool>(opt.on_request);
  attempt_count_ = 0;
  caller_ = {};
  service_.clear();
  // The budget, counted from the request's first byte.
  deadline_ = ufc::Deadline::none();
  if (!opt.token.empty() && !token_matches(req_.find(kTokenHeader), opt.token)) {
    answer(403, "bad_token", "x-ufc-agent-token is missing or wrong", true);
    return;
  }
  const std::string_view timeout = req_.find(ufc::kTimeoutHeader);
  if (!timeout.empty()) {
    absl::StatusOr<ufc::Deadline> d = ufc::decode_timeout(timeout, arrival_);
    if (!d.ok()) {
      answer(400, "bad_timeout", "x-ufc-timeout-ms must be 1-9 digits of milliseconds");
      return;
    }
    deadline_ = *d;
  }

  if (!opt.inbound_target.empty()) {
    target_ = w_->inbound_addr();
    target_address_ = opt.inbound_target;
    if (deadline_.expired_at(w_->loop().now())) {
      answer(504, "deadline_spent", "the request arrived with its budget spent");
      return;
    }
    if (!w_->admit()) {
      phase_ = Phase::kQueued;
      w_->enqueue(this);
      absl::Duration wait = min_duration(
          opt.inbound_max_wait, deadline_.remaining_at(w_->loop().now()) - kQueueAnswerLead);
      arm(std::max(wait, absl::ZeroDuration()));
      return;
    }
    slot_held_ = true;
    begin_forward();
    return;
  }
  route_outbound();
}

void ClientConn::route_outbound() {
  const std::string_view service = req_.find(kServiceHeader);
  if (service.empty()) {
    answer(400, "missing_service", "x-ufc-service-name is required");
    return;
  }
  service_.assign(service.data(), service.size());
  caller_ = req_.find(kCallerHeader);
  hash_key_ = req_.find(kHashHeader);
  priority_ = ufc::Priority::kNormal;
  const std::string_view prio = req_.find(kPriorityHeader);
  if (!prio.empty()) {
    if (http::iequals(prio, "critical")) {
      priority_ = ufc::Priority::kCritical;
    } else if (http::iequals(prio, "normal")) {
      priority_ = ufc::Priority::kNormal;
    } else if (http::iequals(prio, "low")) {
      priority_ = ufc::Priority::kLow;
    } else if (http::iequals(prio, "offline")) {
      priority_ = ufc::Priority::kOffline;
    } else {
      answer(400, "bad_priority", "x-ufc-priority must be critical, normal, low or offline");
      return;
    }
  }
  // Routing attributes: the headers with lowercased names (x-ufc-* excluded), and the
  // request line as ":method" and ":path". Names are copied once into names_ (capacity
  // kept across requests), so the request path allocates nothing in the steady state.
  names_.clear();
  size_t need = 0;
  for (const http::Header& h : req_.headers) need += h.name.size();
  names_.reserve(need);
  attributes_.clear();
  attributes_.emplace_back(":method", req_.method);
  attributes_.emplace_back(":path", req_.target);
  for (const http::Header& h : req_.headers) {
    if (is_ufc_header(h.name)) continue;
    const size_t at = names_.size();
    for (char c : h.name) names_.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    attributes_.emplace_back(std::string_view(names_.data() + at, h.name.size()), h.value);
  }
  begin_forward();
}

// Picks (outbound) and connects; or answers when UFC says no.
void ClientConn::begin_forward() {
  phase_ = Phase::kExchange;
  const ProxyOptions& opt = w_->options();
  if (opt.client != nullptr && opt.inbound_target.empty()) {
    avoid_.assign(tried_.begin(), tried_.end());
    ufc::PickRequest pr;
    pr.service = service_;
    pr.hash_key = hash_key_;
    pr.attributes = attributes_;
    pr.caller_service = caller_;
    pr.priority = priority_;
    pr.is_retry = attempts_ > 0;
    pr.deadline = deadline_;
    pr.avoid = avoid_;
    absl::StatusOr<ufc::Pick> pick = opt.client->pick(pr);
    if (!pick.ok() && attempts_ > 0) {
      // The retry was refused (fusing, budget, nowhere else): the failure stands.
      retry_note_.assign("the backend failed; the retry was refused: ");
      put(&retry_note_, ufc::refusal_name(ufc::refusal_of(pick.status())));
      answer(fail_status_, fail_reason_, retry_note_);
      return;
    }
    if (!pick.ok()) {
      const ufc::Refusal refusal = ufc::refusal_of(pick.status());
      int status = 503;
      std::string_view reason = ufc::refusal_name(refusal);
      switch (refusal) {
        case ufc::Refusal::kNotConfigured:
          status = 404;
          break;
        case ufc::Refusal::kDeadlineSpent:
          status = 504;
          break;
        case ufc::Refusal::kNone:
          status = 400;
          reason = "bad_request";
          break;
        default:
          break;
      }
      const absl::string_view message = pick.status().message();
      answer(status, reason, std::string_view(message.data(), message.size()));
      return;
    }
    pick_.emplace(*std::move(pick));
    // Fault injection (the service's chaos-drill rules): decided by the pick, applied here.
    // Neither an abort nor the delay is ever reported as the backend's doing.
    const ufc::InjectedFault fault = pick_->fault();
    if (fault.abort_status != 0) {
      bump(w_->counters().faults_aborted);
      pick_.reset();
      answer(fault.abort_status, "fault_abort", "injected by the service's fault rules");
      return;
    }
    if (fault.delay > absl::ZeroDuration()) {
      bump(w_->counters().faults_delayed);
      phase_ = Phase::kDelay;
      arm(fault.delay);
      return;
    }
  }
  forward_picked();
}

// After the pick (and any injected delay): the picked backend's address, then connect.
void ClientConn::forward_picked() {
  phase_ = Phase::kExchange;
  if (pick_) {
    if (deadline_.expired_at(w_->loop().now())) {
      pick_.reset();  // spent during an injected delay: not the backend's failure
      answer(504, "deadline_spent", "the deadline passed during an injected delay");
      return;
    }
    target_address_.assign(pick_->address().data(), pick_->address().size());
    if (!make_addr(pick_->host(), pick_->port(), &target_)) {
      report(ufc::Outcome::transport_error(ufc::Transport::kConnectRefused, absl::ZeroDuration()));
      answer(502, "unresolved_host", "the picked endpoint's host is not an IP address");
      return;
    }
  }
  connect_attempt();
}

void ClientConn::connect_attempt() {
  ++attempts_;
  if (attempts_ > 1) bump(w_->counters().retries);
  tried_.push_back(target_address_);
  attempt_start_ = w_->loop().now();
  request_sent_ = false;  // (a retry happens only while no body byte has left)
  resp_head_done_ = false;
  resp_done_ = false;
  Upstream* idle = w_->take_idle(target_address_);
  if (idle != nullptr) {
    up_ = idle;
    up_->reused_ = true;
    bump(w_->counters().upstream_reused);
  } else {
    int err = 0;
    up_ = w_->connect(target_address_, target_, &err);
    if (up_ == nullptr) {
      upstream_failed(
          err == ETIMEDOUT ? ufc::Transport::kConnectTimeout : ufc::Transport::kConnectRefused,
          err == ETIMEDOUT ? "connect_timeout" : "connect_refused", true);
      return;
    }
    bump(w_->counters().upstream_connects);
  }
  up_->owner_ = this;
  bump(w_->counters().forwarded);
  build_upstream_head();
  const absl::Duration left = deadline_.remaining_at(w_->loop().now());
  if (!up_->connected_) {
    absl::Duration c =
        min_duration(pick_ ? pick_->timeouts().connect : absl::InfiniteDuration(), left);
    if (c == absl::InfiniteDuration()) c = w_->options().idle_timeout;
    arm(c);
  } else {
    arm(min_duration(w_->options().send_timeout, left));
  }
}

void ClientConn::build_upstream_head() {
  std::string& h = head_out_;
  h.clear();
  cat(&h, req_.method, " ", req_.target, " HTTP/1.1\r\n");
  // Names the Connection header lists are hop-by-hop too (RFC 9110 7.6.1).
  const std::string_view conn = req_.find("connection");
  for (const http::Header& hd : req_.headers) {
    if (is_ufc_header(hd.name) || http::is_hop_by_hop(hd.name)) continue;
    if (!conn.empty() && http::lists_token(conn, hd.name)) continue;
    cat(&h, hd.name, ": ", hd.value, "\r\n");
  }
  if (pick_ && !w_->options().peer_token.empty() && pick_->tag("ufc-agent") == "inbound") {
    cat(&h, kTokenHeader, ": ", w_->options().peer_token, "\r\n");
  }
  if (req_.minor_version == 0 && req_.body == BodyKind::kNone &&
      (std::string_view(method_, method_len_) == "POST" ||
       std::string_view(method_, method_len_) == "PUT")) {
    h.append("Content-Length: 0\r\n");
  }
  if (!deadline_.is_none()) {
    cat(&h, ufc::kTimeoutHeader, ": ", ufc::encode_timeout(deadline_), "\r\n");
  }
  h.append("\r\n");
  head_out_sent_ = 0;
}

// Marks the request body's bytes in [ready, end) as relayable; false on bad framing.
bool ClientConn::scan_request_body() {
  if (req_done_ || in_.ready == in_.end) return true;
  if (req_.body == BodyKind::kLength) {
    const size_t take =
        static_cast<size_t>(std::min<uint64_t>(req_remaining_, in_.end - in_.ready));
    in_.ready += take;
    req_remaining_ -= take;
    req_done_ = req_remaining_ == 0;
    return true;
  }
  size_t produced = 0;
  const size_t used = req_framer_.feed(in_.data + in_.ready, in_.end - in_.ready, false, &produced);
  if (!req_framer_.error().empty()) return false;
  in_.ready += used;
  req_done_ = req_framer_.done();
  return true;
}

void ClientConn::pump_request() {
  if (up_ == nullptr || !up_->connected_ || request_sent_) return;
  const size_t cap = w_->options().buffer_bytes;
  for (int rounds = 0; rounds < 64; ++rounds) {
    // More body from the caller, while there is room (and once the head's out, reuse it).
    if (!req_done_) {
      if (in_.start == in_.end && in_.start > in_.base) in_.start = in_.ready = in_.end = in_.base;
      if (in_.end < cap) read_client();
      if (!scan_request_body()) {
        bump(w_->counters().bad_requests);
        release_upstream(false);
        pick_.reset();  // not the backend's doing: unreported
        if (!response_started_) {
          answer(400, req_framer_.error(), "bad chunked framing", true);
        } else {
          close();
        }
        return;
      }
      if (!req_done_ && client_eof_ && in_.ready == in_.end) {
        bump(w_->counters().caller_gone);
        release_upstream(false);
        pick_.reset();
        close();
        return;
      }
    }
    if (!up_->writable_) return;
    iovec iov[2];
    int n = 0;
    const size_t head_left = head_out_.size() - head_out_sent_;
    if (head_left > 0) iov[n++] = {head_out_.data() + head_out_sent_, head_left};
    const size_t body_ready = in_.ready - in_.start;
    if (body_ready > 0) iov[n++] = {in_.data + in_.start, body_ready};
    if (n == 0) {
      if (req_done_) request_sent_ = true;
      return;
    }
    size_t sent = 0;
    bool blocked = false;
    if (!send_iov(up_->fd_, iov, n, &sent, &blocked)) {
      upstream_failed(errno == ECONNRESET ? ufc::Transport::kReset : ufc::Transport::kWriteFailed,
                      "write_failed", false);
      return;
    }
    const size_t from_head = std::min(sent, head_left);
    head_out_sent_ += from_head;
    const size_t from_body = sent - from_head;
    in_.start += from_body;
    body_sent_ += from_body;
    if (blocked) {
      up_->writable_ = false;
      return;
    }
    if (req_done_ && head_out_sent_ == head_out_.size() && in_.start == in_.ready) {
      request_sent_ = true;
      // The read timeout (and the deadline) run from the moment the request is out.
      const absl::Duration read = pick_ ? pick_->timeouts().read : absl::InfiniteDuration();
      absl::Duration wait = min_duration(read, deadline_.remaining_at(w_->loop().now()));
      if (wait == absl::InfiniteDuration()) wait = w_->options().idle_timeout;
      arm(wait);
      return;
    }
    if (from_body > 0) {
      // Streaming a body: each bit of progress renews the send limit.
      arm(min_duration(w_->options().send_timeout, deadline_.remaining_at(w_->loop().now())));
    }
    if (!req_done_ && in_.ready == in_.end && !readable_) return;  // wait for the caller
  }
}

void ClientConn::on_response_head() {
  Buf& b = up_->in_;
  ttfb_ = w_->loop().now() - attempt_start_;
  b.start += resp_.head_bytes;
  b.ready = b.start;
  // An interim response: relay it (HTTP/1.1 callers) and wait for the final one.
  if (resp_.status < 200) {
    if (resp_.status == 101) {
      upstream_failed(ufc::Transport::kReadFailed, "bad_response", false);
      return;
    }
    if (req_.minor_version == 1) {
      cat(&resp_out_, "HTTP/1.1 ", resp_.status, " ", resp_.reason, "\r\n\r\n");
    }
    return;  // resp_head_done_ stays false: parse the next head
  }
  resp_head_done_ = true;
  resp_strip_ = resp_.body == BodyKind::kChunked && req_.minor_version == 0;
  resp_remaining_ = resp_.content_length;
  resp_framer_.reset();
  resp_done_ =
      resp_.body == BodyKind::kNone || (resp_.body == BodyKind::kLength && resp_remaining_ == 0);
  // Our side of the caller's connection: closes when the caller asked, when the response
  // is delimited by close, or when an HTTP/1.0 caller gets a de-chunked body.
  if (!keep_alive_ || resp_.body == BodyKind::kUntilClose || resp_strip_ || !req_done_) {
    close_after_ = true;
  }
  std::string& o = resp_out_;
  cat(&o, "HTTP/1.1 ", resp_.status, " ", resp_.reason, "\r\n");
  for (const http::Header& hd : resp_.headers) {
    if (http::is_hop_by_hop(hd.name)) continue;
    if (resp_strip_ && http::iequals(hd.name, "transfer-encoding")) continue;
    cat(&o, hd.name, ": ", hd.value, "\r\n");
  }
  if (close_after_) {
    o.append("Connection: close\r\n");
  } else if (req_.minor_version == 0) {
    o.append("Connection: keep-alive\r\n");
  }
  o.append("\r\n");
  // The body now flows at the reader's pace: the inactivity limit replaces the deadline.
  const absl::Duration read = pick_ ? pick_->timeouts().read : absl::InfiniteDuration();
  arm(read == absl::InfiniteDuration() ? w_->options().idle_timeout : read);
}

void ClientConn::pump_response() {
  if (up_ == nullptr || !up_->connected_) return;
  Buf& b = up_->in_;
  if (b.data == nullptr) {
    b.reset_to(0);
    b.data = w_->take_buffer();
  }
  const size_t cap = w_->options().buffer_bytes;
  for (int rounds = 0; rounds < 64; ++rounds) {
    bool progressed = false;
    // Read from the backend while there is room.
    if (b.start == b.end && b.start > 0) b.reset_to(0);
    bool upstream_eof = false;
    bool upstream_reset = false;
    while (up_->readable_ && b.end < cap) {
      const ssize_t r = ::recv(up_->fd_, b.data + b.end, cap - b.end, 0);
      if (r > 0) {
        b.end += static_cast<size_t>(r);
        progressed = true;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        up_->readable_ = false;
        break;
      }
      // EOF or an error: judged below, once what was read before it is parsed.
      upstream_reset = r < 0 && errno == ECONNRESET;
      up_->readable_ = false;
      up_->hup_ = true;  // never pooled again
      upstream_eof = true;
      break;
    }
    // The backend is gone: fine after a complete response (or one delimited by close),
    // a failure otherwise.
    auto cut_short = [&]() -> bool {
      if (!upstream_eof) return false;
      if (resp_head_done_ && (resp_done_ || resp_.body == BodyKind::kUntilClose)) return false;
      upstream_failed(upstream_reset ? ufc::Transport::kReset : ufc::Transport::kReadFailed,
                      upstream_reset ? "reset" : "read_failed", false);
      return true;
    };
    if (!resp_head_done_) {
      if (b.end == b.start) {
        cut_short();
        return;
      }
      std::string_view error;
      const ParseStatus st =
          http::parse_response(b.data + b.start, b.end - b.start, w_->options().limits,
                               std::string_view(method_, method_len_), &resp_, &error);
      if (st == ParseStatus::kIncomplete) {
        if (b.end - b.start >= cap) {
          upstream_failed(ufc::Transport::kReadFailed, "bad_response", false);
        } else {
          cut_short();
        }
        return;
      }
      if (st == ParseStatus::kError) {
        upstream_failed(ufc::Transport::kReadFailed, "bad_response", false);
        return;
      }
      on_response_head();
      if (phase_ != Phase::kExchange) return;
      progressed = true;
      if (!resp_head_done_ && resp_out_.empty()) continue;
    }
    // Mark body bytes relayable.
    if (resp_head_done_ && !resp_done_ && b.ready < b.end) {
      switch (resp_.body) {
        case BodyKind::kLength: {
          const size_t take =
              static_cast<size_t>(std::min<uint64_t>(resp_remaining_, b.end - b.ready));
          b.ready += take;
          resp_remaining_ -= take;
          resp_done_ = resp_remaining_ == 0;
          break;
        }
        case BodyKind::kChunked: {
          size_t produced = 0;
          const size_t used =
              resp_framer_.feed(b.data + b.ready, b.end - b.ready, resp_strip_, &produced);
          if (!resp_framer_.error().empty()) {
            upstream_failed(ufc::Transport::kReadFailed, "bad_response", false);
            return;
          }
          if (resp_strip_ && produced < used) {
            std::memmove(b.data + b.ready + produced, b.data + b.ready + used,
                         b.end - b.ready - used);
            b.end -= used - produced;
          }
          b.ready += produced;
          resp_done_ = resp_framer_.done();
          break;
        }
        case BodyKind::kUntilClose:
          b.ready = b.end;
          break;
        case BodyKind::kNone:
          resp_done_ = true;
          break;
      }
    }
    if (resp_.body == BodyKind::kUntilClose && upstream_eof) resp_done_ = true;
    if (cut_short()) return;
    // Write head and relayable body to the caller.
    if (!writable_) return;
    iovec iov[2];
    int n = 0;
    const size_t head_left = resp_out_.size() - resp_out_sent_;
    if (head_left > 0) iov[n++] = {resp_out_.data() + resp_out_sent_, head_left};
    const size_t body_ready = b.ready - b.start;
    if (resp_head_done_ && body_ready > 0) iov[n++] = {b.data + b.start, body_ready};
    if (n > 0) {
      size_t sent = 0;
      bool blocked = false;
      if (!send_iov(fd_, iov, n, &sent, &blocked)) {
        // The caller is gone mid-response: the backend did answer.
        bump(w_->counters().caller_gone);
        report(ufc::Outcome::http(resp_.status, ttfb_));
        release_upstream(false);
        close();
        return;
      }
      if (sent > 0) response_started_ = true;
      const size_t from_head = std::min(sent, head_left);
      resp_out_sent_ += from_head;
      b.start += sent - from_head;
      if (resp_out_sent_ == resp_out_.size()) {
        resp_out_.clear();
        resp_out_sent_ = 0;
      }
      if (blocked) {
        writable_ = false;
        return;
      }
      progressed = progressed || sent > 0;
      if (resp_head_done_ && !resp_done_) {
        const absl::Duration read = pick_ ? pick_->timeouts().read : absl::InfiniteDuration();
        if (sent > 0) arm(read == absl::InfiniteDuration() ? w_->options().idle_timeout : read);
      }
    }
    if (resp_done_ && resp_out_.empty() && b.start == b.ready) return;
    if (!progressed) return;
  }
}

void ClientConn::report(const ufc::Outcome& outcome) {
  if (record_owed_ && attempt_count_ < kMaxRecordedAttempts) {
    AttemptResult& a = attempt_results_[attempt_count_++];
    const std::string_view backend = pick_ ? pick_->address() : std::string_view(target_address_);
    a.backend.assign(backend.data(), backend.size());
    a.outcome = outcome.classify();
    a.status = outcome.transport == ufc::Transport::kOk ? outcome.status_code : 0;
    a.latency = outcome.latency;
  }
  if (pick_ && w_->options().client != nullptr) w_->options().client->report(*pick_, outcome);
  pick_.reset();
}

void ClientConn::request_ended(int status, std::string_view reason) {
  if (!record_owed_) return;
  record_owed_ = false;
  const ProxyOptions& opt = w_->options();
  AccessAttempt attempts[kMaxRecordedAttempts];
  for (size_t i = 0; i < attempt_count_; ++i) {
    const AttemptResult& r = attempt_results_[i];
    attempts[i] = AccessAttempt{r.backend, r.outcome, r.status, r.latency};
  }
  AccessRecord rec;
  rec.via = opt.inbound_target.empty() ? "proxy" : "inbound";
  rec.caller = caller_;
  rec.service = service_;
  rec.method = std::string_view(method_, method_len_);
  rec.path = req_.target;
  rec.trace_id = req_.find("traceparent");
  if (rec.trace_id.empty()) rec.trace_id = req_.find("x-request-id");
  if (rec.trace_id.empty()) rec.trace_id = req_.find("x-b3-traceid");
  rec.status = status;
  rec.reason = reason;
  rec.duration = w_->loop().now() - arrival_;
  if (!deadline_.is_none()) rec.deadline_left = deadline_.remaining_at(arrival_);
  rec.attempts = absl::MakeConstSpan(attempts, attempt_count_);
  opt.on_request(rec);
}

void ClientConn::release_upstream(bool reusable) {
  if (up_ == nullptr) return;
  Upstream* up = up_;
  up_ = nullptr;
  up->owner_ = nullptr;
  if (reusable && !up->hup_ && up->in_.start == up->in_.end) {
    w_->put_idle(up);
  } else {
    w_->close_upstream(up);
  }
}

void ClientConn::upstream_failed(ufc::Transport kind, std::string_view reason, bool in_connect) {
  const bool reused = up_ != nullptr && up_->reused_;
  const bool nothing_back = !resp_head_done_ && !response_started_ && resp_out_.empty();
  release_upstream(false);
  // A pooled connection the backend had already closed: not the backend's failure. Once,
  // and only while resending cannot duplicate anything.
  if (reused && nothing_back && body_sent_ == 0 && !silent_retry_used_ &&
      (kind == ufc::Transport::kReset || kind == ufc::Transport::kReadFailed ||
       kind == ufc::Transport::kWriteFailed) &&
      (in_.start == in_.base)) {
    silent_retry_used_ = true;
    --attempts_;
    tried_.pop_back();
    connect_attempt();
    return;
  }
  const bool retry_allowed = pick_ && pick_->retry_allowed();
  const uint32_t max_attempts = pick_ ? pick_->max_attempts() : 1;
  report(ufc::Outcome::transport_error(kind, w_->loop().now() - attempt_start_));
  if (response_started_) {
    close();  // the caller has part of a response: closing is the only honest signal
    return;
  }
  const bool timeout =
      kind == ufc::Transport::kConnectTimeout || kind == ufc::Transport::kReadTimeout;
  const bool may_retry =
      w_->options().inbound_target.empty() && body_sent_ == 0 && in_.start == in_.base &&
      (in_connect || (req_.idempotent() && kind != ufc::Transport::kReadTimeout)) &&
      !deadline_.expired_at(w_->loop().now());
  if (may_retry && retry_allowed && attempts_ < max_attempts) {
    fail_status_ = timeout ? 504 : 502;
    fail_reason_ = reason;
    begin_forward();
    return;
  }
  answer(timeout ? 504 : 502, reason, "the backend failed");
}

void ClientConn::finish_exchange() {
  // The response is complete. Report, pool the upstream when it can be reused.
  report(ufc::Outcome::http(resp_.status, ttfb_));
  request_ended(resp_.status, "");
  const bool reusable = resp_.keep_alive && resp_.body != BodyKind::kUntilClose && request_sent_;
  release_upstream(reusable);
  if (slot_held_) {
    slot_held_ = false;
    w_->release_slot();
  }
  if (!req_done_ || close_after_ || client_eof_) {
    close();
    return;
  }
  next_request();
}

void ClientConn::next_request() {
  if (slot_held_) {
    slot_held_ = false;
    w_->release_slot();
  }
  pick_.reset();
  phase_ = Phase::kHead;
  resp_out_.clear();
  resp_out_sent_ = 0;
  close_after_ = false;
  // Pipelined bytes after this request move to the front; the head is no longer pinned.
  const size_t leftover_at = std::max(in_.start, in_.ready);
  if (in_.data != nullptr) {
    const size_t left = in_.end - leftover_at;
    if (left > 0) std::memmove(in_.data, in_.data + leftover_at, left);
    in_.reset_to(0);
    in_.end = left;
    if (left == 0) w_->give_buffer(in_.data);
  }
  arm(w_->options().idle_timeout);
  if (in_.end > 0) readable_ = true;  // parse what is already here
}

void ClientConn::answer(int status, std::string_view reason, std::string_view message,
                        bool force_close) {
  if (slot_held_) {
    slot_held_ = false;
    w_->release_slot();
  }
  release_upstream(false);
  pick_.reset();
  bump(w_->counters().local_answers);
  request_ended(status, reason);
  std::string body = "{\"error\":";
  append_json_string(&body, reason);
  body.append(",\"message\":");
  append_json_string(&body, message);
  body.append("}\n");
  respond(status, "application/json", reason, body, force_close);
}

void ClientConn::respond(int status, std::string_view content_type, std::string_view reason,
                         std::string_view body, bool force_close) {
  phase_ = Phase::kAnswer;
  // A request whose body was not read to its end leaves the connection unusable.
  if (force_close || !keep_alive_ || !req_done_ || client_eof_) close_after_ = true;
  const char* text = status == 200             ? "OK"
                     : status == 400           ? "Bad Request"
                     : status == 401           ? "Unauthorized"
                     : status == 403           ? "Forbidden"
                     : status == 404           ? "Not Found"
                     : status == 405           ? "Method Not Allowed"
                     : status == 502           ? "Bad Gateway"
                     : status == 503           ? "Service Unavailable"
                     : status == 504           ? "Gateway Timeout"
                     : reason == "fault_abort" ? "Injected Fault"
                                               : "Error";
  const bool head_only = std::string_view(method_, method_len_) == "HEAD";
  resp_out_.clear();
  cat(&resp_out_, "HTTP/1.1 ", status, " ", text, "\r\nContent-Type: ", content_type);
  if (!reason.empty()) cat(&resp_out_, "\r\nx-ufc-reason: ", reason);
  if (status == 401) cat(&resp_out_, "\r\nWWW-Authenticate: Bearer");
  cat(&resp_out_, "\r\nContent-Length: ", body.size(), "\r\n",
      close_after_ ? "Connection: close\r\n" : "", "\r\n");
  if (!head_only) resp_out_.append(body.data(), body.size());
  resp_out_sent_ = 0;
  arm(w_->options().send_timeout);
}

void ClientConn::serve_site() {
  const ProxyOptions& opt = w_->options();
  const std::string_view method(method_, method_len_);
  const std::string_view target = req_.target;
  const size_t q = target.find('?');
  SiteRequest r;
  r.method = method;
  r.path = target.substr(0, q);
  r.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  r.head = &req_;
  if (!opt.token.empty()) {
    bool ok = ufc::internal::bearer_matches(req_.find("authorization"), opt.token);
    for (size_t at = 0; !ok && at <= r.query.size();) {
      size_t amp = r.query.find('&', at);
      if (amp == std::string_view::npos) amp = r.query.size();
      const std::string_view pair = r.query.substr(at, amp - at);
      if (pair.substr(0, 6) == "token=")
        ok = token_matches(percent_decoded(pair.substr(6)), opt.token);
      at = amp + 1;
    }
    if (!ok) {
      answer(401, "bad_token", "send Authorization: Bearer <token> (or ?token=)", true);
      return;
    }
  }
  if (method != "GET" && method != "HEAD") {
    answer(405, "method_not_allowed", "GET and HEAD only");
    return;
  }
  SiteResponse page = opt.site(r);
  bump(w_->counters().local_answers);
  respond(page.status, page.content_type, "", page.body, false);
}

void ClientConn::on_timer() {
  switch (phase_) {
    case Phase::kHead:
      close();  // idle keep-alive expired, or a head too slow to arrive
      return;
    case Phase::kQueued:
      w_->dequeue(this);
      expire_in_queue();
      return;
    case Phase::kDelay:
      forward_picked();
      drive();
      return;
    case Phase::kExchange:
      if (up_ != nullptr && !up_->connected_) {
        upstream_failed(ufc::Transport::kConnectTimeout, "connect_timeout", true);
      } else if (!request_sent_ && up_ != nullptr && up_->writable_) {
        // The caller stopped sending its body: not the backend's failure.
        bump(w_->counters().caller_gone);
        release_upstream(false);
        pick_.reset();
        close();
        return;
      } else if (!request_sent_) {
        upstream_failed(ufc::Transport::kWriteFailed, "write_timeout", false);
      } else {
        upstream_failed(ufc::Transport::kReadTimeout, "read_timeout", false);
      }
      drive();
      return;
    case Phase::kAnswer:
    case Phase::kClosed:
      close();
      return;
  }
}

void ClientConn::close() {
  if (phase_ == Phase::kClosed) return;
  // A request cut short (its caller left, or the response broke off): status 0.
  request_ended(response_started_ ? resp_.status : 0, client_eof_ ? "caller_gone" : "closed");
  if (slot_held_) {
    slot_held_ = false;
    w_->release_slot();
  }
  release_upstream(false);
  pick_.reset();
  phase_ = Phase::kClosed;
  w_->loop().cancel(&timer_);
  w_->loop().remove(fd_);
  ::close(fd_);
  w_->conn_closed(this);
}

}  // namespace

// --- Worker ---

Worker::~Worker() {
  for (auto& [addr, list] : idle_) {
    for (Upstream* up : list) {
      loop_->remove(up->fd_);
      ::close(up->fd_);
      delete up;
    }
  }
  conns_.clear();
  for (char* b : free_buffers_) delete[] b;
  ::close(listen_fd_);
}

void Worker::on_io(uint32_t) {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of descriptors (retried on the next connection)
    }
    bump(counters_.connections_accepted);
    if (conns_.size() >= options_.max_connections) {
      ::close(fd);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto conn = std::make_unique<ClientConn>(this, fd);
    ClientConn* c = conn.get();
    if (!loop_->add(fd, c)) {
      ::close(fd);
      continue;
    }
    conns_.emplace(c, std::move(conn));
    bump(counters_.connections_open);
    c->start();
  }
}

void Worker::conn_closed(ClientConn* c) {
  bump(counters_.connections_open, -1);
  auto it = conns_.find(c);
  if (it == conns_.end()) return;
  // Freed after the batch: a later event of the same batch may still name it.
  ClientConn* raw = it->second.release();
  conns_.erase(it);
  loop_->defer([raw] { delete raw; });
}

Upstream* Worker::take_idle(std::string_view address) {
  auto it = idle_.find(absl::string_view(address.data(), address.size()));
  if (it == idle_.end() || it->second.empty()) return nullptr;
  Upstream* up = it->second.back();
  it->second.pop_back();
  loop_->cancel(&up->idle_timer_);
  return up;
}

void Worker::put_idle(Upstream* up) {
  std::vector<Upstream*>& list = idle_[up->address_];
  if (list.size() >= options_.max_idle_per_upstream) {
    close_upstream(up);
    return;
  }
  up->reused_ = false;
  give_buffer(up->in_.data);
  up->in_.reset_to(0);
  list.push_back(up);
  loop_->arm(&up->idle_timer_, loop_->now() + options_.idle_timeout);
}

void Worker::forget_idle(Upstream* up) {
  auto it = idle_.find(up->address_);
  if (it == idle_.end()) return;
  auto& list = it->second;
  auto pos = std::find(list.begin(), list.end(), up);
  if (pos != list.end()) list.erase(pos);
}

Upstream* Worker::connect(std::string_view address, const SockAddr& addr, int* err) {
  const int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno;
    return nullptr;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len);
  if (r != 0 && errno != EINPROGRESS) {
    *err = errno;
    ::close(fd);
    return nullptr;
  }
  auto* up = new Upstream(this, fd, std::string(address));
  up->connected_ = r == 0;
  up->writable_ = r == 0;
  if (!loop_->add(fd, up)) {
    *err = errno;
    ::close(fd);
    delete up;
    return nullptr;
  }
  return up;
}

void Worker::close_upstream(Upstream* up) {
  if (up->closed_) return;
  up->closed_ = true;
  if (up->owner_ == nullptr) forget_idle(up);
  loop_->cancel(&up->idle_timer_);
  loop_->remove(up->fd_);
  ::close(up->fd_);
  loop_->defer([up] { delete up; });
}

void Worker::release_slot() {
  if (active_ > 0) --active_;
  // The next waiting request that still has a caller and a budget gets the slot.
  while (!queue_.empty() && active_ < options_.inbound_max_active) {
    ClientConn* c = queue_.front();
    queue_.pop_front();
    if (c->caller_gone()) {
      bump(counters_.caller_gone);
      c->drop();
      continue;
    }
    if (c->queued_deadline_passed()) {
      c->expire_in_queue();
      continue;
    }
    ++active_;
    c->admitted();
  }
}

// --- ProxyServer ---

namespace {

// `share`: SO_REUSEPORT, so that the other loops' listeners can bind the same port. Only
// with several loops: a one-loop server must fail to start when another process holds the
// port, not silently split its traffic (or scrapes) with it.
absl::StatusOr<int> bind_listener(const std::string& host, uint16_t port, bool share) {
  SockAddr addr;
  if (!make_addr(host, port, &addr)) {
    return absl::InvalidArgumentError(absl::StrCat("listen: \"", host, "\" is not an IP address"));
  }
  const int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (share) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0 ||
      ::listen(fd, 4096) != 0) {
    const int e = errno;
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("listen: cannot bind ", host, ":", port, ": ", std::strerror(e)));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyServer>> ProxyServer::start(const ProxyOptions& options) {
  std::string_view host;
  uint16_t port = 0;
  if (!split_host_port(options.listen, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen: \"", options.listen, "\" is not host:port"));
  }
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError("threads: must be in [1, 64]");
  }
  if (options.limits.max_head_bytes * 2 > options.buffer_bytes ||
      options.limits.max_head_bytes < 1024) {
    return absl::InvalidArgumentError("limits.max_head_bytes: must be in [1024, buffer_bytes / 2]");
  }
  SockAddr inbound;
  if (!options.inbound_target.empty()) {
    std::string_view ih;
    uint16_t ip = 0;
    if (!split_host_port(options.inbound_target, &ih, &ip) || !make_addr(ih, ip, &inbound) ||
        ip == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("inbound_target: \"", options.inbound_target, "\" is not ip:port"));
    }
    if (options.inbound_max_active == 0) {
      return absl::InvalidArgumentError("inbound_max_active: must be > 0");
    }
  } else if (options.client == nullptr && !options.site) {
    return absl::InvalidArgumentError("client: required unless inbound_target or site is set");
  }
  std::unique_ptr<ProxyServer> server(new ProxyServer());
  server->options_ = options;
  const std::string host_str(host);
  for (int i = 0; i < options.threads; ++i) {
    // The first listener takes the port (maybe any free one); the others share it.
    absl::StatusOr<int> fd =
        bind_listener(host_str, i == 0 ? port : server->port_, options.threads > 1);
    if (!fd.ok()) return fd.status();
    if (i == 0) server->port_ = bound_port(*fd);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::create();
    if (!loop.ok()) {
      ::close(*fd);
      return loop.status();
    }
    auto worker = std::make_unique<Worker>(server->options_, *std::move(loop), *fd);
    worker->set_inbound_addr(inbound);
    if (!worker->loop().add(*fd, worker.get())) {
      return absl::InternalError(absl::StrCat("epoll add: ", std::strerror(errno)));
    }
    server->workers_.push_back(std::move(worker));
  }
  for (auto& w : server->workers_) {
    server->threads_.emplace_back([w = w.get()] { w->run(); });
  }
  return server;
}

ProxyServer::~ProxyServer() {
  for (auto& w : workers_) w->stop();
  for (auto& t : threads_) t.join();
  workers_.clear();
}

ProxyStats ProxyServer::stats() const {
  ProxyStats s;
  for (const auto& w : workers_) {
    const Counters& c = w->counters();
    auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    s.connections_accepted += get(c.connections_accepted);
    s.connections_open += get(c.connections_open);
    s.requests += get(c.requests);
    s.forwarded += get(c.forwarded);
    s.retries += get(c.retries);
    s.local_answers += get(c.local_answers);
    s.bad_requests += get(c.bad_requests);
    s.queue_expired += get(c.queue_expired);
    s.caller_gone += get(c.caller_gone);
    s.faults_aborted += get(c.faults_aborted);
    s.faults_delayed += get(c.faults_delayed);
    s.upstream_connects += get(c.upstream_connects);
    s.upstream_reused += get(c.upstream_reused);
  }
  return s;
}

std::string ProxyServer::stats_json() const {
  const ProxyStats s = stats();
  return absl::StrCat("{\"listen\":\"", options_.listen, "\",\"port\":", port_, ",\"mode\":\"",
                      options_.inbound_target.empty() ? "outbound" : "inbound",
                      "\",\"connections_accepted\":", s.connections_accepted,
                      ",\"connections_open\":", s.connections_open, ",\"requests\":", s.requests,
                      ",\"forwarded\":", s.forwarded, ",\"retries\":", s.retries,
                      ",\"local_answers\":", s.local_answers, ",\"bad_requests\":", s.bad_requests,
                      ",\"queue_expired\":", s.queue_expired, ",\"caller_gone\":", s.caller_gone,
                      ",\"faults_aborted\":", s.faults_aborted,
                      ",\"faults_delayed\":", s.faults_delayed,
                      ",\"upstream_connects\":", s.upstream_connects,
                      ",\"upstream_reused\":", s.upstream_reused, "}");
}

}  // namespace ufc_agent::proxy
