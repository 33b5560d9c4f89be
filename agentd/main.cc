// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc-agentd: libufc for callers in any language, over gRPC (ufc.v1.Agent).
//
//   ufc-agentd --metad=10.0.0.1:7070@bj,10.1.0.1:7070@sh --cache_dir=/var/cache/ufc-agentd
//   ufc-agentd --config=ufc.json                               # no control plane
//   ufc-agentd --mode=backup --listen=0.0.0.0:8877 --token_file=F --metad=...  # backup cluster
//
// Local mode (the default) serves on loopback only (and on --unix_socket). Backup mode
// serves remote callers: on a non-loopback address it refuses to start without a token,
// and every call then needs it; TLS with --tls_cert/--tls_key.

#include <signal.h>
#include <unistd.h>

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
#include "agentd/agent_service.h"
#include "grpcpp/grpcpp.h"
#include "src/common/listen_security.h"
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
ABSL_FLAG(std::string, agent_id, "", "this agent's id in ListClients (default agentd/host/pid)");
ABSL_FLAG(std::string, token_file, "", "bearer token: Query needs it; in backup mode, every RPC");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int64_t, ticket_ttl_ms, 30000, "a pick never reported is dropped after this");
ABSL_FLAG(int64_t, max_tickets, 262144, "picks held at most (the oldest give way)");

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
  if (!options.sync.cache_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.sync.cache_dir, error);
    if (error) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--cache_dir=", options.sync.cache_dir, ": cannot create it: ", error.message())));
    }
  }
  // The agent's log: config, sync, ban and fuse events, one line each, on stderr.
  options.on_event = [](const ufc::Event& e) {
    std::fprintf(stderr, "ufc-agentd: %s %s%s%s%s\n", ufc::event_type_name(e.type),
                 e.service.c_str(), e.endpoint.empty() ? "" : " ", e.endpoint.c_str(),
                 e.detail.empty() ? "" : (": " + e.detail).c_str());
  };
  options.sync.tls_ca_file = absl::GetFlag(FLAGS_metad_tls_ca_file);
  absl::StatusOr<std::string> metad_token =
      ufc::internal::read_secret_file(absl::GetFlag(FLAGS_metad_token_file), "metad_token_file");
  if (!metad_token.ok()) return fail(metad_token.status());
  options.sync.token = *metad_token;
  options.sync.client_id = absl::GetFlag(FLAGS_agent_id);
  if (options.sync.client_id.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    options.sync.client_id = absl::StrCat("agentd/", host, "/", ::getpid());
  }
  absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
  if (!client.ok()) return fail(client.status());

  ufc::agentd::AgentService::Options service_options;
  service_options.mode = mode;
  service_options.token = *token;
  service_options.token_for_picks = mode == "backup";
  service_options.tickets.ttl = absl::Milliseconds(absl::GetFlag(FLAGS_ticket_ttl_ms));
  service_options.tickets.capacity = static_cast<size_t>(absl::GetFlag(FLAGS_max_tickets));
  absl::StatusOr<std::unique_ptr<ufc::agentd::AgentService>> service =
      ufc::agentd::AgentService::create(**client, service_options);
  if (!service.ok()) return fail(service.status());
  (*service)->start();

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
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  (*service)->stop();
  return 0;
}
