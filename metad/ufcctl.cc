// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufcctl: the command line of ufc-metad.
//
//   ufcctl [--server=127.0.0.1:7070] put FILE.json     one ServiceConfig, or a ClientConfig
//   ufcctl get NAME | delete NAME | list | clients | watch
//   ufcctl idc-map | put-idc-map FILE.json              the store's IDC map
//
// A ClientConfig's idcMap is put with its services (when it has one); `put-idc-map` puts
// a file's idcMap alone, exactly (an empty or absent one clears the store's).
// `put` validates locally first (the library's own validator) and prints each field error;
// the server's errors are printed as they come. Exit codes: 0 done; 1 the server refused
// (invalid, version mismatch, not found); 2 usage or a local validation error; 3 the
// server could not be reached or its store is unavailable; 4 `clients` found stale clients.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "ufc/config.h"
#include "ufc/v1/meta.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:7070", "ufc-metad address");
ABSL_FLAG(std::string, token_file, "", "file holding the admin bearer token");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle: connect with TLS");
ABSL_FLAG(int64_t, expected_version, -1,
          "put/delete: only if the service is at this version "
          "(0: put only if new)");
ABSL_FLAG(int64_t, timeout_ms, 5000, "per-call deadline");
ABSL_FLAG(bool, json, false, "list/clients: print JSON instead of a table");

namespace {

enum Exit { kOk = 0, kRefused = 1, kUsage = 2, kUnreachable = 3, kStale = 4 };

int exit_for(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      return kOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return kUnreachable;
    default:
      return kRefused;
  }
}

int report(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return kOk;
  std::fprintf(stderr, "ufcctl: %s: %s: %s\n", what.c_str(),
               absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())).c_str(),
               s.error_message().c_str());
  return exit_for(s);
}

std::string read_all(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

class Ctl {
 public:
  Ctl() {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
      bool ok = false;
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = read_all(ca, ok);
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(256 << 20);
    args.SetMaxSendMessageSize(256 << 20);
    stub_ =
        ufc::v1::Meta::NewStub(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server), creds, args));
    if (const std::string f = absl::GetFlag(FLAGS_token_file); !f.empty()) {
      bool ok = false;
      token_ = std::string(absl::StripAsciiWhitespace(read_all(f, ok)));
      if (!ok) std::fprintf(stderr, "ufcctl: --token_file: cannot read %s\n", f.c_str());
    }
  }
  void prepare(grpc::ClientContext& context, bool stream = false) const {
    if (!stream) {
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms)));
    }
    if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
  }
  ufc::v1::Meta::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<ufc::v1::Meta::Stub> stub_;
  std::string token_;
};

// `path` read, parsed (a ClientConfig, or one ServiceConfig: {"name": ...}) and validated
// locally with the library's own validator; errors start with the path.
absl::StatusOr<ufc::v1::ClientConfig> read_config(const std::string& path) {
  bool ok = false;
  const std::string text = read_all(path, ok);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  absl::StatusOr<ufc::v1::ClientConfig> config = ufc::parse_config_json(text);
  if (!config.ok()) {
    absl::StatusOr<ufc::v1::ClientConfig> one =
        ufc::parse_config_json(absl::StrCat("{\"services\":[", text, "]}"));
    if (one.ok()) config = std::move(one);
  }
  absl::Status valid = config.ok() ? ufc::validate_config(*config) : config.status();
  if (!valid.ok()) return absl::Status(valid.code(), absl::StrCat(path, ": ", valid.message()));
  return config;
}

// --expected_version applies to the IDC map only with `expected`: put-idc-map.
int put_idc_map(Ctl& ctl, const ufc::v1::ClientConfig& config, bool expected) {
  ufc::v1::PutIdcMapRequest request;
  *request.mutable_idc_map() = config.idc_map();
  if (int64_t v = absl::GetFlag(FLAGS_expected_version); expected && v >= 0) {
    request.set_expected_version(static_cast<uint64_t>(v));
  }
  ufc::v1::PutIdcMapResponse response;
  grpc::ClientContext context;
  ctl.prepare(context);
  grpc::Status s = ctl.stub().PutIdcMap(&context, request, &response);
  if (!s.ok()) return report(s, "put idc map");
  std::printf("idc map (%d entries): version %llu%s\n", config.idc_map_size(),
              static_cast<unsigned long long>(response.version()),
              response.unchanged() ? " (unchanged)" : "");
  return kOk;
}

// A file holding a ClientConfig's idcMap and no services.
int put_idc_map_file(Ctl& ctl, const std::string& path) {
  absl::StatusOr<ufc::v1::ClientConfig> config = read_config(path);
  if (config.ok() && config->services_size() > 0) {
    config = absl::InvalidArgumentError("services: put-idc-map takes an idcMap alone (use put)");
  }
  if (!config.ok()) {
    std::fprintf(stderr, "ufcctl: %s\n", std::string(config.status().message()).c_str());
    return kUsage;
  }
  return put_idc_map(ctl, *config, /*expected=*/true);
}

int get_idc_map(Ctl& ctl) {
  ufc::v1::IdcMap response;
  grpc::ClientContext context;
  ctl.prepare(context);
  grpc::Status s = ctl.stub().GetIdcMap(&context, {}, &response);
  if (!s.ok()) return report(s, "idc-map");
  std::printf("%s\n", to_json(response).c_str());
  return kOk;
}

int put(Ctl& ctl, const std::string& path) {
  absl::StatusOr<ufc::v1::ClientConfig> config = read_config(path);
  if (!config.ok()) {
    std::fprintf(stderr, "ufcctl: %s\n", std::string(config.status().message()).c_str());
    return kUsage;
  }
  int worst = kOk;
  if (!config->idc_map().empty()) worst = put_idc_map(ctl, *config, /*expected=*/false);
  for (const ufc::v1::ServiceConfig& service : config->services()) {
    ufc::v1::PutServiceRequest request;
    *request.mutable_service() = service;
    if (int64_t v = absl::GetFlag(FLAGS_expected_version); v >= 0) {
      request.set_expected_version(static_cast<uint64_t>(v));
    }
    ufc::v1::PutServiceResponse response;
    grpc::ClientContext context;
    ctl.prepare(context);
    grpc::Status s = ctl.stub().PutService(&context, request, &response);
    if (!s.ok()) {
      worst = std::max(worst, report(s, absl::StrCat("put ", service.name())));
      continue;
    }
    std::printf("%s: version %llu%s\n", service.name().c_str(),
                static_cast<unsigned long long>(response.version()),
                response.unchanged() ? " (unchanged)" : "");
  }
  return worst;
}

int get(Ctl& ctl, const std::string& name) {
  ufc::v1::GetServiceRequest request;
  request.set_name(name);
  ufc::v1::GetServiceResponse response;
  grpc::ClientContext context;
  ctl.prepare(context);
  grpc::Status s = ctl.stub().GetService(&context, request, &response);
  if (!s.ok()) return report(s, absl::StrCat("get ", name));
  std::printf("%s\n", to_json(response.service()).c_str());
  return kOk;
}

int remove(Ctl& ctl, const std::string& name) {
  ufc::v1::DeleteServiceRequest request;
  request.set_name(name);
  if (int64_t v = absl::GetFlag(FLAGS_expected_version); v >= 0) {
    request.set_expected_version(static_cast<uint64_t>(v));
  }
  ufc::v1::DeleteServiceResponse response;
  grpc::ClientContext context;
  ctl.prepare(context);
  grpc::Status s = ctl.stub().DeleteService(&context, request, &response);
  if (!s.ok()) return report(s, absl::StrCat("delete ", name));
  std::printf("%s: deleted at version %llu\n", name.c_str(),
              static_cast<unsigned long long>(response.version()));
  return kOk;
}

int list(Ctl& ctl) {
  ufc::v1::ListServicesResponse response;
  grpc::ClientContext context;
  ctl.prepare(context);
  grpc::Status s = ctl.stub().ListServices(&context, {}, &response);
  if (!s.ok()) return report(s, "list");
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", to_json(response).c_str());
    return kOk;
  }
  std::printf("global version %llu, %d services\n",
              static_cast<unsigned long long>(response.global_version()), response.services_size());
  std::printf("%-40s %10s %10s\n", "SERVICE", "VERSION", "ENDPOINTS");
  for (const auto& svc : response.services()) {
    std::printf("%-40s %10llu %10u\n", svc.name().c_str(),
                static_cast<unsigned long long>(svc.version()), svc.endpoints());
  }
  return kOk;
}

int clients(Ctl& ctl) {
  ufc::v1::ListClientsResponse response;
  grpc::ClientContext context;
  ctl.prepare(context);
  grpc::Status s = ctl.stub().ListClients(&context, {}, &response);
  if (!s.ok()) return report(s, "clients");
  int stale = 0;
  for (const auto& c : response.clients()) stale += c.stale() ? 1 : 0;
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", to_json(response).c_str());
    return stale > 0 ? kStale : kOk;
  }
  std::printf("global version %llu, %d clients, %d stale\n",
              static_cast<unsigned long long>(response.global_version()), response.clients_size(),
              stale);
  std::printf("%-6s %-32s %-20s %-20s %10s %10s %s\n", "STATE", "CLIENT", "SERVICE", "SERVER",
              "APPLIED", "LAG_MS", "NACKS");
  const int64_t now = absl::ToUnixMillis(absl::Now());
  for (const auto& c : response.clients()) {
    std::string nacks;
    for (const auto& n : c.nacks()) {
      absl::StrAppend(&nacks, nacks.empty() ? "" : "; ", n.service().empty() ? "*" : n.service(),
                      "@", n.version(), ": ", n.error());
    }
    std::printf("%-6s %-32s %-20s %-20s %10llu %10lld %s\n", c.stale() ? "STALE" : "ok",
                c.client().client_id().c_str(), c.client().self_service().c_str(),
                c.server_id().c_str(), static_cast<unsigned long long>(c.applied_global()),
                static_cast<long long>(c.lag_ms()), nacks.c_str());
    (void)now;
  }
  return stale > 0 ? kStale : kOk;
}

int watch(Ctl& ctl) {
  grpc::ClientContext context;
  ctl.prepare(context, /*stream=*/true);
  std::unique_ptr<grpc::ClientReaderWriter<ufc::v1::WatchRequest, ufc::v1::WatchResponse>> stream =
      ctl.stub().Watch(&context);
  ufc::v1::WatchRequest hello;
  hello.mutable_client()->set_client_id(absl::StrCat("ufcctl-watch-", ::getpid()));
  hello.mutable_client()->set_process("ufcctl");
  hello.set_all_services(true);
  if (!stream->Write(hello)) return report(stream->Finish(), "watch");
  ufc::v1::WatchResponse response;
  while (stream->Read(&response)) {
    for (const auto& svc : response.services()) {
      std::printf("put    %s version %llu (%d endpoints)\n", svc.name().c_str(),
                  static_cast<unsigned long long>(svc.version()), svc.endpoints_size());
    }
    for (const auto& r : response.removals()) {
      std::printf("delete %s version %llu\n", r.name().c_str(),
                  static_cast<unsigned long long>(r.version()));
    }
    if (response.has_idc_map()) {
      std::printf("idc map version %llu (%d entries)\n",
                  static_cast<unsigned long long>(response.idc_map().version()),
                  response.idc_map().entries_size());
    }
    if (!response.more()) {
      std::printf("-- global version %llu\n",
                  static_cast<unsigned long long>(response.global_version()));
    }
    std::fflush(stdout);
    ufc::v1::WatchRequest ack;
    ack.mutable_ack()->set_response_id(response.response_id());
    ack.mutable_ack()->set_global_version(response.global_version());
    if (!stream->Write(ack)) break;
  }
  return report(stream->Finish(), "watch");
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ufcctl [flags] put FILE.json | get NAME | delete NAME | list | clients | watch | "
      "idc-map | put-idc-map FILE.json");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
    return kUsage;
  }
  const std::string cmd = args[1];
  const bool has_arg = args.size() >= 3;
  Ctl ctl;
  if (cmd == "put" && has_arg) return put(ctl, args[2]);
  if (cmd == "get" && has_arg) return get(ctl, args[2]);
  if (cmd == "delete" && has_arg) return remove(ctl, args[2]);
  if (cmd == "list") return list(ctl);
  if (cmd == "clients") return clients(ctl);
  if (cmd == "watch") return watch(ctl);
  if (cmd == "idc-map") return get_idc_map(ctl);
  if (cmd == "put-idc-map" && has_arg) return put_idc_map_file(ctl, args[2]);
  std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
  return kUsage;
}
