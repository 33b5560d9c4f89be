// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc-metad: the UFC control server.
//
//   ufc-metad --data_dir=/var/lib/ufc-metad                 # local store, 127.0.0.1:7070
//   ufc-metad --etcd=127.0.0.1:2379,10.0.0.2:2379 --listen=0.0.0.0:7070 --admin_token_file=F
//
// Listens on loopback unless --listen says otherwise; a non-loopback address needs an
// admin token (and should have TLS: --tls_cert/--tls_key).

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "agentd/proxy/proxy.h"
#include "grpcpp/grpcpp.h"
#include "metad/agent_watch.h"
#include "metad/hub.h"
#include "metad/meta_service.h"
#include "metad/store/local_store.h"
#include "metad/store_factory.h"
#include "src/common/listen_security.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070", "address to serve on (host:port; port 0: any)");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once serving (for tests)");
ABSL_FLAG(std::string, data_dir, "", "local store directory (the default store)");
ABSL_FLAG(std::string, etcd, "", "etcd v3 endpoints host:port,... (instead of --data_dir)");
ABSL_FLAG(std::string, etcd_prefix, "/ufc/", "key prefix in etcd");
ABSL_FLAG(std::string, server_id, "", "this server's name in ListClients (default host:pid)");
ABSL_FLAG(std::string, etcd_ca, "",
          "with --etcd: PEM roots to check etcd's certificates (TLS to every member)");
ABSL_FLAG(std::string, etcd_cert, "",
          "with --etcd: PEM client certificate (etcd's --client-cert-auth; TLS)");
ABSL_FLAG(std::string, etcd_key, "", "with --etcd: PEM private key of --etcd_cert");
ABSL_FLAG(std::string, etcd_user, "", "with --etcd: the etcd user (etcd's auth enabled)");
ABSL_FLAG(std::string, etcd_password_file, "", "with --etcd_user: file holding its password");
ABSL_FLAG(int64_t, etcd_lease_ttl_ms, 10000,
          "with --etcd: a dead server's clients leave ListClients after about this");
ABSL_FLAG(std::string, admin_token_file, "", "file holding the bearer token admin RPCs need");
ABSL_FLAG(std::string, watch_token_file, "", "file holding the bearer token Watch needs");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int64_t, stale_after_ms, 10000, "a client behind for longer is marked stale");
ABSL_FLAG(int64_t, max_message_mb, 64, "largest request accepted (a big Put)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:7071",
          "GET /metrics in Prometheus text (host:port; \"\": off)");
ABSL_FLAG(std::string, metrics_port_file, "", "write the metrics listener's port here (for tests)");
ABSL_FLAG(std::string, metrics_token_file, "",
          "bearer token /metrics requires (required when --metrics_listen is not loopback)");
ABSL_FLAG(int64_t, agent_watch_period_ms, 1000,
          "how often services with agent_watch are checked against the live agents "
          "(0: never; see ServiceConfig.agent_watch)");
ABSL_FLAG(std::string, fault_invalid_service, "",
          "testing only: send this service to watchers with an invalid weight");

namespace {

int fail(const absl::Status& s) {
  std::fprintf(stderr, "ufc-metad: %s\n", std::string(s.message()).c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("ufc-metad: the UFC control server (see metad/README.md)");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a graph lookup
  // per lock): a third of the fan-out's CPU with thousands of watchers. Off for the server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the stop signals before any thread starts; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<std::string> admin_token =
      ufc::internal::read_secret_file(absl::GetFlag(FLAGS_admin_token_file), "admin_token_file");
  if (!admin_token.ok()) return fail(admin_token.status());
  absl::StatusOr<std::string> watch_token =
      ufc::internal::read_secret_file(absl::GetFlag(FLAGS_watch_token_file), "watch_token_file");
  if (!watch_token.ok()) return fail(watch_token.status());
  if (!ufc::internal::is_loopback_listen(listen) && admin_token->empty()) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--listen=", listen, " is not loopback: set --admin_token_file (and TLS) first")));
  }

  ufc::metad::StoreFlags store_flags;
  store_flags.data_dir = absl::GetFlag(FLAGS_data_dir);
  store_flags.etcd = absl::GetFlag(FLAGS_etcd);
  store_flags.etcd_prefix = absl::GetFlag(FLAGS_etcd_prefix);
  store_flags.server_id = absl::GetFlag(FLAGS_server_id);
  if (store_flags.server_id.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    store_flags.server_id = absl::StrCat(host, "-", ::getpid());
  }
  store_flags.etcd_lease_ttl = absl::Milliseconds(absl::GetFlag(FLAGS_etcd_lease_ttl_ms));
  store_flags.etcd_ca = absl::GetFlag(FLAGS_etcd_ca);
  store_flags.etcd_cert = absl::GetFlag(FLAGS_etcd_cert);
  store_flags.etcd_key = absl::GetFlag(FLAGS_etcd_key);
  store_flags.etcd_user = absl::GetFlag(FLAGS_etcd_user);
  store_flags.etcd_password_file = absl::GetFlag(FLAGS_etcd_password_file);
  absl::StatusOr<std::unique_ptr<ufc::metad::Store>> store = ufc::metad::make_store(store_flags);
  if (!store.ok()) return fail(store.status());

  ufc::metad::Hub hub(**store, {});
  if (absl::Status s = hub.start(); !s.ok()) return fail(s);

  ufc::metad::MetaService::Options options;
  options.server_id = store_flags.server_id;
  options.admin_token = *admin_token;
  options.watch_token = *watch_token;
  options.stale_after = absl::Milliseconds(absl::GetFlag(FLAGS_stale_after_ms));
  options.fault_invalid_service = absl::GetFlag(FLAGS_fault_invalid_service);
  ufc::metad::MetaService service(hub, **store, options);
  service.start();

  // The closed loop around dead agents: the hosts of the agents with a stream open, on
  // any server over the store.
  std::unique_ptr<ufc::metad::AgentWatch> agent_watch;
  if (const int64_t period = absl::GetFlag(FLAGS_agent_watch_period_ms); period > 0) {
    ufc::metad::AgentWatch::Options watch;
    watch.period = absl::Milliseconds(period);
    watch.log = [](const std::string& line) {
      std::fprintf(stderr, "ufc-metad: %s\n", line.c_str());
    };
    agent_watch = std::make_unique<ufc::metad::AgentWatch>(
        hub,
        [&service]() -> std::optional<absl::flat_hash_set<std::string>> {
          absl::StatusOr<ufc::v1::ListClientsResponse> clients = service.fleet_clients();
          if (!clients.ok()) return std::nullopt;
          absl::flat_hash_set<std::string> hosts;
          for (const ufc::v1::ClientStatus& c : clients->clients()) {
            if (!ufc::metad::is_agent(c)) continue;
            for (std::string& h : ufc::metad::agent_hosts(c)) hosts.insert(std::move(h));
          }
          return hosts;
        },
        std::move(watch));
    agent_watch->start();
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
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(absl::GetFlag(FLAGS_max_message_mb) * 1024 * 1024));
  // Watchers are idle streams: keep them alive, notice dead peers.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return fail(absl::UnavailableError(absl::StrCat("cannot listen on ", listen)));
  }
  std::fprintf(stderr, "ufc-metad: serving on %s (port %d), store %s, revision %llu\n",
               listen.c_str(), port, ufc::metad::describe(store_flags).c_str(),
               static_cast<unsigned long long>(hub.revision()));

  // GET /metrics, on the agent's HTTP stack in site mode.
  std::unique_ptr<ufc_agent::proxy::ProxyServer> metrics;
  if (const std::string ml = absl::GetFlag(FLAGS_metrics_listen); !ml.empty()) {
    absl::StatusOr<std::string> token = ufc::internal::read_secret_file(
        absl::GetFlag(FLAGS_metrics_token_file), "metrics_token_file");
    if (!token.ok()) return fail(token.status());
    if (!ufc::internal::is_loopback_listen(ml) && token->empty()) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--metrics_listen=", ml, " is not loopback: set --metrics_token_file first")));
    }
    ufc_agent::proxy::ProxyOptions mo;
    mo.listen = ml;
    mo.token = *token;
    mo.max_connections = 64;
    mo.site = [&service](const ufc_agent::proxy::SiteRequest& r) {
      ufc_agent::proxy::SiteResponse out;
      if (r.path == "/metrics") {
        out.content_type = "text/plain; version=0.0.4; charset=utf-8";
        out.body = service.metrics_text();
      } else if (r.path == "/healthz") {
        out.body = "ok\n";
      } else {
        out.status = 404;
        out.body = "not found: try /metrics or /healthz\n";
      }
      return out;
    };
    absl::StatusOr<std::unique_ptr<ufc_agent::proxy::ProxyServer>> m =
        ufc_agent::proxy::ProxyServer::start(mo);
    if (!m.ok()) {
      return fail(
          absl::Status(m.status().code(), absl::StrCat("--metrics_", m.status().message())));
    }
    metrics = *std::move(m);
    std::fprintf(stderr, "ufc-metad: /metrics on http://%s (port %d)\n", ml.c_str(),
                 metrics->port());
    if (absl::Status s =
            ufc::internal::write_port_file(absl::GetFlag(FLAGS_metrics_port_file), metrics->port());
        !s.ok()) {
      return fail(s);
    }
  }

  // Ready: the port file is the last thing written (every listener is up).
  if (absl::Status s = ufc::internal::write_port_file(absl::GetFlag(FLAGS_port_file), port);
      !s.ok()) {
    return fail(s);
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "ufc-metad: signal %d, stopping\n", sig);
  metrics.reset();
  agent_watch.reset();  // before the service it reads
  service.stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  (*store)->stop();
  return 0;
}
