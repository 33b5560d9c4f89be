// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/proxy/proxy.h: the agent's HTTP/1.1 pass-through proxy ("pass-through mode").
//
// Outbound (the caller's local agent, default 127.0.0.1:8888): a caller sends plain HTTP
// with `x-ufc-service-name: <to>` (and optionally `x-ufc-self-service-name`,
// `x-ufc-hash-key`, `x-ufc-priority`, `x-ufc-timeout-ms`); the proxy asks its ufc::Client
// for a backend (routing on the request headers, names lowercased, plus ":method" and
// ":path"), forwards the request over a pooled keep-alive connection with the x-ufc-*
// headers stripped and the remaining budget in `x-ufc-timeout-ms`, relays the response,
// and reports the outcome (transport failure, HTTP status, time to the response head).
//
// Inbound (the agent-to-agent hop's receiving side): requests from remote agents go to
// one local upstream, at most `inbound_max_active` at a time; the rest wait in FIFO order.
// The relative `x-ufc-timeout-ms` becomes an absolute deadline when the request's first
// byte is read, so the wait counts: a request whose deadline passed while it waited is
// answered 504 and never forwarded, and one whose caller closed its connection is dropped.
//
// Answers of the proxy's own carry `x-ufc-reason` and a JSON body
// {"error":<reason>,"message":...}:
//   400 malformed or oversized request, smuggling attempt (then the connection closes);
//       missing x-ufc-service-name, bad x-ufc-timeout-ms or x-ufc-priority
//   404 not_configured          503 shed, retry_while_fusing, retry_budget_spent,
//   504 deadline_spent              every_backend_tried
//   502 connect_refused, reset, write_failed, read_failed, bad_response (the last attempt)
//   504 connect_timeout, read_timeout
//   an injected fault's status: fault_abort
//
// Retries: after a transport failure, to a backend not yet tried, while the pick allows
// one (never while fusing) and within max_attempts and the retry budget; only when no byte
// of the request body has left (so a POST whose body started is never sent twice) and,
// once the request head was sent, only for idempotent methods. A pooled connection the
// backend had closed is replaced once, silently, under the same rules.
//
// Bodies stream both ways through fixed buffers (chunked relayed with its framing,
// validated; Content-Length counted); a slow reader stops the reading of its source, so
// memory per connection is bounded whatever the body size. An idle keep-alive connection
// holds no buffer.
//
// Site mode (`site` set) is the same server answering requests itself: the one HTTP stack
// of everything the daemons serve over HTTP.
//
// Threads: `threads` loops, each with its own SO_REUSEPORT listener, connections and
// upstream pool; the ufc::Client is shared (pick/report are lock-free).

#ifndef UFC_AGENTD_PROXY_PROXY_H_
#define UFC_AGENTD_PROXY_PROXY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agentd/access_record.h"
#include "agentd/http/http_parser.h"
#include "ufc/client.h"

namespace ufc_agent::proxy {

// Site mode: a request the server answers itself (SiteHandler).
struct SiteRequest {
  std::string_view method;                  // GET or HEAD
  std::string_view path;                    // the target up to '?'
  std::string_view query;                   // after '?', or ""
  const http::RequestHead* head = nullptr;  // every header, for the handler that wants one
};
struct SiteResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
// Runs on the serving thread: a slow handler delays that thread's other connections.
using SiteHandler = std::function<SiteResponse(const SiteRequest&)>;

struct ProxyOptions {
  // "host:port" to listen on (port 0: any free port; see ProxyServer::port()).
  std::string listen = "127.0.0.1:8888";
  int threads = 1;
  http::Limits limits;
  size_t buffer_bytes = 32768;  // per direction; at least twice the head limit
  absl::Duration header_timeout = absl::Seconds(10);  // a request head must arrive within
  absl::Duration idle_timeout = absl::Seconds(60);    // keep-alive, client and upstream side
  absl::Duration send_timeout = absl::Seconds(60);    // a stalled reader of our bytes
  size_t max_connections = 10000;                     // per thread; more are closed at accept
  size_t max_idle_per_upstream = 64;                  // pooled connections per backend, per thread

  // Outbound: the Client that picks and learns (required unless inbound).
  ufc::Client* client = nullptr;
  // Sent as x-ufc-agent-token to picked endpoints tagged "ufc-agent": "inbound" (remote
  // agents' inbound listeners), and to no other backend.
  std::string peer_token;

  // Inbound: forward everything to this local "ip:port" instead of picking.
  std::string inbound_target;
  size_t inbound_max_active = 64;  // requests at the upstream at once (per thread)
  absl::Duration inbound_max_wait = absl::Seconds(10);  // without a deadline
  // Required of every request when set (header x-ufc-agent-token), e.g. on a
  // non-loopback inbound listener. In site mode: "Authorization: Bearer <token>", or
  // "token=<token>" in the query (a browser's first visit).
  std::string token;

  // Called when each request ends (answered, relayed, or abandoned by its caller), with its
  // attempts: the access log and per-caller metrics (agentd/admin/traffic_recorder.h). On
  // the serving thread; it must be quick (the recorder's sampled access-log line is one
  // append to a local file). Optional.
  std::function<void(const AccessRecord&)> on_request;

  // Site: answer GET and HEAD with `site` (other methods 405) and forward nothing: the
  // HTTP server of the agent's status page and /metrics, and of ufc-metad's /metrics.
  SiteHandler site;
};

// Counters, summed over threads (relaxed reads; for tests, the agent view and metrics).
struct ProxyStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t requests = 0;
  uint64_t forwarded = 0;          // attempts sent to an upstream
  uint64_t retries = 0;            // attempts after the first (not the silent reconnects)
  uint64_t local_answers = 0;      // answered by the proxy itself (refusals, errors)
  uint64_t bad_requests = 0;       // 400s for malformed requests
  uint64_t queue_expired = 0;      // inbound: deadline passed while waiting
  uint64_t caller_gone = 0;        // the caller closed before the answer
  uint64_t faults_aborted = 0;     // injected aborts
  uint64_t faults_delayed = 0;     // injected delays
  uint64_t upstream_connects = 0;  // new upstream connections
  uint64_t upstream_reused = 0;    // requests sent on a pooled connection
};

class ProxyServer {
 public:
  // start() binds and runs the loops. INVALID_ARGUMENT for bad options (naming the
  // field), UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ProxyServer>> start(const ProxyOptions& options);
  ~ProxyServer();  // stops the loops, closes every connection

  uint16_t port() const { return port_; }
  ProxyStats stats() const;
  // {"listen":..., "requests":..., ...} for the agent's query view.
  std::string stats_json() const;

  class Worker;  // one loop thread (proxy.cc)

 private:
  ProxyServer() = default;
  ProxyOptions options_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace ufc_agent::proxy

#endif  // UFC_AGENTD_PROXY_PROXY_H_
