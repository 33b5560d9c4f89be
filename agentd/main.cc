// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc-agentd: libufc for callers in any language, over gRPC (ufc.v1.Agent).
//
//   ufc-agentd --metad=10.0.0.1:7070@bj,10.1.0.1:7070@sh --cache_dir=/var/cache/ufc-agentd
//   ufc-agentd --config=ufc.json                               # no control plane
//   ufc-agentd --mode=backup --listen=0.0.0.0:8877 --token_file=F --metad=...  # backup cluster
//   ufc-agentd --inbound_listen=10.0.0.7:8899 --inbound_target=127.0.0.1:8080
//              --inbound_token_file=F                      # the agent-to-agent receiving side
//
// Pass-through mode: the HTTP proxy on --proxy_listen (default 127.0.0.1:8888; "" turns it
// off) forwards `curl -H 'x-ufc-service-name: to' http://127.0.0.1:8888/path` to a picked
// backend (agentd/proxy/proxy.h).
//
// Local mode (the default) serves on loopback only (and on --unix_socket). Backup mode
// serves remote callers: on a non-loopback address it refuses to start without a token,
// and every call then needs it; TLS with --tls_cert/--tls_key.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "agentd/admin/agent_view.h"
#include "agentd/admin/json_lines.h"
#include "agentd/admin/traffic_recorder.h"
#include "agentd/agent_service.h"
#include "agentd/proxy/proxy.h"
#include "grpcpp/grpcpp.h"
#include "src/common/listen_security.h"
#include "src/stats/json_writer.h"
#include "src/stats/prometheus_text.h"
#include "ufc/client.h"

ABSL_FLAG(std::string, mode, "local", "local (loopback callers) | backup (remote callers)");
ABSL_FLAG(std::string, listen, "127.0.0.1:8877", "address to serve on (host:port; port 0: any)");
ABSL_FLAG(std::string, unix_socket, "", "also serve on this unix socket path");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once serving (for tests)");
ABSL_FLAG(std::string, config, "", "a JSON ClientConfig file (instead of, or beside, --metad)");
ABSL_FLAG(std::string, metad, "", "control servers: host:port[@idc],...");
ABSL_FLAG(std::string, metad_token_file, "", "bearer token for the control servers' Watch");
ABSL_FLAG(std::string, metad_tls_ca_file, "", "PEM CA: reach the control servers over TLS");
ABSL_FLAG(std::string, cache_dir, "", "keep the last good config here (cold starts)");
ABSL_FLAG(std::string, self_service, "ufc-agentd", "this agent's name in the control plane");
ABSL_FLAG(std::string, self_idc, "", "this agent's IDC (routing, control-server choice)");
ABSL_FLAG(std::string, host, "",
          "the host this agent reports to the control servers, as its host's endpoints are "
          "configured (e.g. its IP); default: the host name. Their agent watch drains a "
          "host's endpoints when its agent is gone (ServiceConfig.agent_watch)");
ABSL_FLAG(std::string, agent_id, "", "this agent's id in ListClients (default agentd/host/pid)");
ABSL_FLAG(std::string, token_file, "", "bearer token: Query needs it; in backup mode, every RPC");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int64_t, ticket_ttl_ms, 30000, "a pick never reported is dropped after this");
ABSL_FLAG(int64_t, max_tickets, 262144, "picks held at most (the oldest give way)");
ABSL_FLAG(std::string, proxy_listen, "127.0.0.1:8888",
          "HTTP pass-through proxy address (loopback only; \"\": no proxy)");
ABSL_FLAG(std::string, proxy_port_file, "", "write the proxy's bound port here (for tests)");
ABSL_FLAG(int, proxy_threads, 1, "proxy event-loop threads");
ABSL_FLAG(std::string, peer_token_file, "",
          "token the proxy sends (x-ufc-agent-token) to endpoints tagged ufc-agent=inbound");
ABSL_FLAG(std::string, inbound_listen, "", "agent-to-agent receiving side (host:port; \"\": off)");
ABSL_FLAG(std::string, inbound_target, "", "the local service inbound requests go to (ip:port)");
ABSL_FLAG(int, inbound_max_active, 64, "inbound requests at the local service at once");
ABSL_FLAG(std::string, inbound_token_file, "",
          "token inbound requests must carry (required off loopback)");
ABSL_FLAG(std::string, inbound_port_file, "", "write the inbound listener's port here");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:8889",
          "the status page, /metrics and /api/status (host:port; \"\": off)");
ABSL_FLAG(std::string, admin_port_file, "", "write the admin listener's port here (for tests)");
ABSL_FLAG(std::string, admin_token_file, "",
          "bearer token the admin views require (required when --admin_listen is not loopback)");
ABSL_FLAG(bool, metrics_endpoint_histograms, true,
          "/metrics: a latency histogram per endpoint (false: one per service)");
ABSL_FLAG(bool, metrics_unused_endpoints, false,
          "/metrics: series of endpoints never picked too, as zeros (false: from their "
          "first pick)");
ABSL_FLAG(std::string, access_log, "",
          "append a sample of the requests served here as JSON lines (\"\": none)");
ABSL_FLAG(double, access_log_sample, 0.01, "the share of requests --access_log writes, [0, 1]");
ABSL_FLAG(int64_t, max_caller_series, 10000,
          "(caller, service, endpoint) keys the agent counts at most (the rest: _other)");
ABSL_FLAG(std::string, dns_servers, "",
          "name servers for DNS destinations, ip[:port],... (\"\": the system's resolv.conf)");
ABSL_FLAG(int64_t, dns_timeout_ms, 2000, "how long one DNS try waits for an answer");
ABSL_FLAG(std::string, event_log, "", "append every event here as a JSON line (\"\": stderr only)");

namespace {

int fail(const absl::Status& s) {
  std::fprintf(stderr, "ufc-agentd: %s\n", std::string(s.message()).c_str());
  return 2;
}

absl::StatusOr<std::vector<ufc::ControlServer>> parse_metad(const std::string& flag) {
  std::vector<ufc::ControlServer> servers;
  for (absl::string_view item : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
    std::vector<std::string> parts = absl::StrSplit(item, absl::MaxSplits('@', 1));
    if (parts[0].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--metad: empty address in \"", flag, "\""));
    }
    servers.push_back({parts[0], parts.size() > 1 ? parts[1] : ""});
  }
  return servers;
}

}  // namespace

// The proxies' counters (listener="outbound" | "inbound") and the event log's.
std::string proxy_metrics(const ufc_agent::proxy::ProxyServer* outbound,
                          const ufc_agent::proxy::ProxyServer* inbound,
                          const ufc_agent::admin::JsonLinesFile* event_log) {
  using ufc::internal::MetricFamily;
  MetricFamily requests("ufc_proxy_requests_total", "counter", "HTTP requests the proxy read.");
  MetricFamily forwarded("ufc_proxy_attempts_total", "counter",
                         "Attempts sent to a backend (retries included).");
  MetricFamily retries("ufc_proxy_retries_total", "counter", "Attempts after the first.");
  MetricFamily local("ufc_proxy_local_answers_total", "counter",
                     "Requests the proxy answered itself (refusals, errors, bad requests).");
  MetricFamily bad("ufc_proxy_bad_requests_total", "counter", "Malformed requests (400).");
  MetricFamily open("ufc_proxy_connections", "gauge", "Client connections open.");
  MetricFamily accepted("ufc_proxy_connections_accepted_total", "counter",
                        "Client connections accepted.");
  MetricFamily expired("ufc_proxy_queue_expired_total", "counter",
                       "Inbound requests whose deadline passed while they waited.");
  MetricFamily connects("ufc_proxy_upstream_connects_total", "counter",
                        "New connections to backends.");
  MetricFamily reused("ufc_proxy_upstream_reused_total", "counter",
                      "Requests sent on a pooled backend connection.");
  const std::pair<const char*, const ufc_agent::proxy::ProxyServer*> listeners[] = {
      {"outbound", outbound}, {"inbound", inbound}};
  for (const auto& [name, p] : listeners) {
    if (p == nullptr) continue;
    const ufc_agent::proxy::ProxyStats st = p->stats();
    std::string l;
    ufc::internal::append_label(l, "listener", name);
    requests.add(l, st.requests);
    forwarded.add(l, st.forwarded);
    retries.add(l, st.retries);
    local.add(l, st.local_answers);
    bad.add(l, st.bad_requests);
    open.add(l, st.connections_open);
    accepted.add(l, st.connections_accepted);
    expired.add(l, st.queue_expired);
    connects.add(l, st.upstream_connects);
    reused.add(l, st.upstream_reused);
  }
  std::string out;
  for (const MetricFamily* m : {&requests, &forwarded, &retries, &local, &bad, &open, &accepted,
                                &expired, &connects, &reused}) {
    if (!m->empty()) m->append_to(out);
  }
  if (event_log != nullptr) {
    MetricFamily dropped("ufc_agent_log_lines_dropped_total", "counter",
                         "Event-log lines a failed write dropped.");
    dropped.add("", "log", "event", event_log->dropped());
    dropped.append_to(out);
  }
  return out;
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("ufc-agentd: libufc over gRPC (see agentd/README.md)");
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  if (mode != "local" && mode != "backup") {
    return fail(
        absl::InvalidArgumentError(absl::StrCat("--mode=", mode, ": expected local or backup")));
  }
  absl::StatusOr<std::string> token =
      ufc::internal::read_secret_file(absl::GetFlag(FLAGS_token_file), "token_file");
  if (!token.ok()) return fail(token.status());
  if (!ufc::internal::is_loopback_listen(listen)) {
    if (mode == "local") {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--listen=", listen,
                       " is not loopback: local mode serves this host only "
                       "(--mode=backup with --token_file serves remote callers)")));
    }
    if (token->empty()) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--listen=", listen, " is not loopback: set --token_file (and TLS) first")));
    }
  }

  ufc::ClientOptions options;
  options.self_service = absl::GetFlag(FLAGS_self_service);
  options.self_idc = absl::GetFlag(FLAGS_self_idc);
  options.config_path = absl::GetFlag(FLAGS_config);
  absl::StatusOr<std::vector<ufc::ControlServer>> servers = parse_metad(absl::GetFlag(FLAGS_metad));
  if (!servers.ok()) return fail(servers.status());
  options.sync.servers = *servers;
  options.sync.all_services = true;  // an agent holds every service, as its callers may ask any
  options.sync.cache_dir = absl::GetFlag(FLAGS_cache_dir);
  // DNS destinations: one c-ares resolver for every service, made now so that a bad
  // --dns_servers fails the start, not every lookup later.
  for (absl::string_view server :
       absl::StrSplit(absl::GetFlag(FLAGS_dns_servers), ',', absl::SkipWhitespace())) {
    options.dns.servers.emplace_back(server);
  }
  options.dns.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_dns_timeout_ms));
  {
    absl::StatusOr<std::unique_ptr<ufc::Resolver>> resolver = ufc::make_cares_resolver(options.dns);
    if (!resolver.ok()) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--dns_servers / --dns_timeout_ms: ", resolver.status().message())));
    }
    options.resolver = *std::move(resolver);
  }
  if (!options.sync.cache_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.sync.cache_dir, error);
    if (error) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--cache_dir=", options.sync.cache_dir, ": cannot create it: ", error.message())));
    }
  }
  // The agent's log: config, sync, ban and fuse events, one line each, on stderr; as JSON
  // lines in --event_log; and the newest on the status page.
  std::unique_ptr<ufc_agent::admin::JsonLinesFile> event_log;
  if (const std::string path = absl::GetFlag(FLAGS_event_log); !path.empty()) {
    absl::StatusOr<std::unique_ptr<ufc_agent::admin::JsonLinesFile>> f =
        ufc_agent::admin::JsonLinesFile::open(path, "event_log");
    if (!f.ok()) return fail(f.status());
    event_log = *std::move(f);
  }
  std::unique_ptr<ufc_agent::admin::JsonLinesFile> access_log;
  if (const std::string path = absl::GetFlag(FLAGS_access_log); !path.empty()) {
    absl::StatusOr<std::unique_ptr<ufc_agent::admin::JsonLinesFile>> f =
        ufc_agent::admin::JsonLinesFile::open(path, "access_log");
    if (!f.ok()) return fail(f.status());
    access_log = *std::move(f);
  }
  const double sample = absl::GetFlag(FLAGS_access_log_sample);
  if (!(sample >= 0 && sample <= 1)) {
    return fail(absl::InvalidArgumentError("--access_log_sample: must be in [0, 1]"));
  }
  if (absl::GetFlag(FLAGS_max_caller_series) < 0) {
    return fail(absl::InvalidArgumentError("--max_caller_series: must be >= 0"));
  }
  ufc_agent::admin::TrafficRecorder traffic(
      {access_log.get(), sample, static_cast<size_t>(absl::GetFlag(FLAGS_max_caller_series))});
  auto on_request = [&traffic](const ufc_agent::AccessRecord& r) { traffic.record(r); };
  ufc_agent::admin::EventRing recent_events;
  options.on_event = [&event_log, &recent_events](const ufc::Event& e) {
    std::fprintf(stderr, "ufc-agentd: %s %s%s%s%s\n", ufc::event_type_name(e.type),
                 e.service.c_str(), e.endpoint.empty() ? "" : " ", e.endpoint.c_str(),
                 e.detail.empty() ? "" : (": " + e.detail).c_str());
    if (event_log != nullptr) event_log->write(ufc::event_json(e));
    recent_events.add(e);
  };
  options.sync.tls_ca_file = absl::GetFlag(FLAGS_metad_tls_ca_file);
  absl::StatusOr<std::string> metad_token =
      ufc::internal::read_secret_file(absl::GetFlag(FLAGS_metad_token_file), "metad_token_file");
  if (!metad_token.ok()) return fail(metad_token.status());
  options.sync.token = *metad_token;
  options.sync.client_id = absl::GetFlag(FLAGS_agent_id);
  options.sync.host = absl::GetFlag(FLAGS_host);
  if (options.sync.client_id.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    options.sync.client_id = absl::StrCat("agentd/", host, "/", ::getpid());
  }
  absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
  if (!client.ok()) return fail(client.status());

  // The HTTP proxies: outbound for this host's callers, inbound for remote agents.
  std::unique_ptr<ufc_agent::proxy::ProxyServer> proxy, inbound;
  if (const std::string proxy_listen = absl::GetFlag(FLAGS_proxy_listen); !proxy_listen.empty()) {
    if (!ufc::internal::is_loopback_listen(proxy_listen)) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--proxy_listen=", proxy_listen, " is not loopback: the proxy serves this host only")));
    }
    absl::StatusOr<std::string> peer_token =
        ufc::internal::read_secret_file(absl::GetFlag(FLAGS_peer_token_file), "peer_token_file");
    if (!peer_token.ok()) return fail(peer_token.status());
    ufc_agent::proxy::ProxyOptions po;
    po.listen = proxy_listen;
    po.threads = absl::GetFlag(FLAGS_proxy_threads);
    po.client = client->get();
    po.peer_token = *peer_token;
    po.on_request = on_request;
    absl::StatusOr<std::unique_ptr<ufc_agent::proxy::ProxyServer>> p =
        ufc_agent::proxy::ProxyServer::start(po);
    if (!p.ok())
      return fail(absl::Status(p.status().code(), absl::StrCat("--proxy_", p.status().message())));
    proxy = *std::move(p);
    std::fprintf(stderr, "ufc-agentd: HTTP proxy on %s (port %d)\n", proxy_listen.c_str(),
                 proxy->port());
    if (absl::Status s =
            ufc::internal::write_port_file(absl::GetFlag(FLAGS_proxy_port_file), proxy->port());
        !s.ok()) {
      return fail(s);
    }
  }
  if (const std::string in_listen = absl::GetFlag(FLAGS_inbound_listen); !in_listen.empty()) {
    absl::StatusOr<std::string> in_token = ufc::internal::read_secret_file(
        absl::GetFlag(FLAGS_inbound_token_file), "inbound_token_file");
    if (!in_token.ok()) return fail(in_token.status());
    if (!ufc::internal::is_loopback_listen(in_listen) && in_token->empty()) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--inbound_listen=", in_listen, " is not loopback: set --inbound_token_file first")));
    }
    ufc_agent::proxy::ProxyOptions io;
    io.listen = in_listen;
    io.inbound_target = absl::GetFlag(FLAGS_inbound_target);
    io.inbound_max_active =
        static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_inbound_max_active)));
    io.token = *in_token;
    io.on_request = on_request;
    if (io.inbound_target.empty()) {
      return fail(absl::InvalidArgumentError("--inbound_target: required with --inbound_listen"));
    }
    absl::StatusOr<std::unique_ptr<ufc_agent::proxy::ProxyServer>> p =
        ufc_agent::proxy::ProxyServer::start(io);
    if (!p.ok()) {
      return fail(
          absl::Status(p.status().code(), absl::StrCat("--inbound_", p.status().message())));
    }
    inbound = *std::move(p);
    std::fprintf(stderr, "ufc-agentd: inbound on %s (port %d) to %s\n", in_listen.c_str(),
                 inbound->port(), io.inbound_target.c_str());
    if (absl::Status s =
            ufc::internal::write_port_file(absl::GetFlag(FLAGS_inbound_port_file), inbound->port());
        !s.ok()) {
      return fail(s);
    }
  }

  ufc::agentd::AgentService::Options service_options;
  service_options.mode = mode;
  service_options.token = *token;
  service_options.token_for_picks = mode == "backup";
  service_options.tickets.ttl = absl::Milliseconds(absl::GetFlag(FLAGS_ticket_ttl_ms));
  service_options.tickets.capacity = static_cast<size_t>(absl::GetFlag(FLAGS_max_tickets));
  service_options.on_report = on_request;
  absl::StatusOr<std::unique_ptr<ufc::agentd::AgentService>> service =
      ufc::agentd::AgentService::create(**client, service_options);
  if (!service.ok()) return fail(service.status());
  (*service)->start();

  // The admin views: status page, /api/status, /metrics (the proxy's HTTP stack, site mode).
  std::unique_ptr<ufc_agent::admin::AgentView> view;
  std::unique_ptr<ufc_agent::proxy::ProxyServer> admin;
  if (const std::string admin_listen = absl::GetFlag(FLAGS_admin_listen); !admin_listen.empty()) {
    absl::StatusOr<std::string> admin_token =
        ufc::internal::read_secret_file(absl::GetFlag(FLAGS_admin_token_file), "admin_token_file");
    if (!admin_token.ok()) return fail(admin_token.status());
    if (!ufc::internal::is_loopback_listen(admin_listen) && admin_token->empty()) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--admin_listen=", admin_listen, " is not loopback: set --admin_token_file first")));
    }
    ufc_agent::admin::AgentView::Options vo;
    vo.metrics.endpoint_histograms = absl::GetFlag(FLAGS_metrics_endpoint_histograms);
    vo.metrics.unused_endpoints = absl::GetFlag(FLAGS_metrics_unused_endpoints);
    {
      ufc::internal::JsonWriter w;
      w.begin_object().key("mode").value(mode);
      w.key("self_service").value(absl::GetFlag(FLAGS_self_service)).end_object();
      vo.agent_json = w.str();
    }
    ufc::agentd::AgentService* agent = service->get();
    vo.extra_metrics = [agent, &proxy, &inbound, &event_log, &traffic] {
      std::string out = agent->metrics_text();
      out += traffic.metrics_text();
      out += proxy_metrics(proxy.get(), inbound.get(), event_log.get());
      return out;
    };
    view =
        std::make_unique<ufc_agent::admin::AgentView>(client->get(), &recent_events, std::move(vo));
    view->start();
    ufc_agent::proxy::ProxyOptions ao;
    ao.listen = admin_listen;
    ao.token = *admin_token;
    ao.max_connections = 256;
    ao.site = [v = view.get()](const ufc_agent::proxy::SiteRequest& r) { return v->handle(r); };
    absl::StatusOr<std::unique_ptr<ufc_agent::proxy::ProxyServer>> a =
        ufc_agent::proxy::ProxyServer::start(ao);
    if (!a.ok()) {
      return fail(absl::Status(a.status().code(), absl::StrCat("--admin_", a.status().message())));
    }
    admin = *std::move(a);
    std::fprintf(stderr, "ufc-agentd: status page and /metrics on http://%s (port %d)\n",
                 admin_listen.c_str(), admin->port());
    if (absl::Status s =
            ufc::internal::write_port_file(absl::GetFlag(FLAGS_admin_port_file), admin->port());
        !s.ok()) {
      return fail(s);
    }
  }

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
    absl::StatusOr<std::string> cert =
        ufc::internal::read_secret_file(absl::GetFlag(FLAGS_tls_cert), "tls_cert");
    absl::StatusOr<std::string> key =
        ufc::internal::read_secret_file(absl::GetFlag(FLAGS_tls_key), "tls_key");
    if (!cert.ok()) return fail(cert.status());
    if (!key.ok()) return fail(key.status());
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  const std::string unix_socket = absl::GetFlag(FLAGS_unix_socket);
  if (!unix_socket.empty()) {
    ::unlink(unix_socket.c_str());  // a stale socket file of an earlier run
    builder.AddListeningPort(absl::StrCat("unix:", unix_socket), grpc::InsecureServerCredentials());
  }
  builder.RegisterService(service->get());
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return fail(absl::UnavailableError(absl::StrCat("cannot listen on ", listen)));
  }
  std::fprintf(stderr, "ufc-agentd: %s mode, serving on %s (port %d)%s%s\n", mode.c_str(),
               listen.c_str(), port, unix_socket.empty() ? "" : " and unix:", unix_socket.c_str());
  if (absl::Status s = ufc::internal::write_port_file(absl::GetFlag(FLAGS_port_file), port);
      !s.ok()) {
    return fail(s);
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "ufc-agentd: signal %d, stopping\n", sig);
  admin.reset();
  if (view != nullptr) view->stop();
  proxy.reset();
  inbound.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  (*service)->stop();
  return 0;
}
