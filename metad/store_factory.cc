// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store_factory.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "metad/store/etcd_store.h"
#include "metad/store/local_store.h"
#include "src/common/listen_security.h"

namespace ufc::metad {
namespace {

// A PEM file's content ("" for no path): read_secret_file (the daemons' one reader of
// secret files), and a PEM block in it; INVALID_ARGUMENT naming the flag.
absl::StatusOr<std::string> read_pem(const std::string& path, const char* flag) {
  absl::StatusOr<std::string> content = internal::read_secret_file(path, flag);
  if (!content.ok() || content->empty()) return content;
  if (content->find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", path, " holds no PEM block"));
  }
  return content;
}

absl::StatusOr<EtcdSecurity> etcd_security(const StoreFlags& flags,
                                           const std::vector<std::string>& endpoints) {
  EtcdSecurity security;
  for (auto [path, flag, out] : {std::make_tuple(&flags.etcd_ca, "etcd_ca", &security.ca_pem),
                                 std::make_tuple(&flags.etcd_cert, "etcd_cert", &security.cert_pem),
                                 std::make_tuple(&flags.etcd_key, "etcd_key", &security.key_pem)}) {
    absl::StatusOr<std::string> pem = read_pem(*path, flag);
    if (!pem.ok()) return pem.status();
    *out = *std::move(pem);
  }
  security.tls = !security.ca_pem.empty() || !security.cert_pem.empty();
  if (flags.etcd_user.empty() != flags.etcd_password_file.empty()) {
    return absl::InvalidArgumentError("--etcd_user and --etcd_password_file go together");
  }
  if (flags.etcd_user.empty()) return security;
  absl::StatusOr<std::string> password =
      internal::read_secret_file(flags.etcd_password_file, "etcd_password_file");
  if (!password.ok()) return password.status();
  security.user = flags.etcd_user;
  security.password = *std::move(password);
  for (const std::string& endpoint : endpoints) {
    absl::string_view host_port = endpoint;
    const bool tls = absl::ConsumePrefix(&host_port, "https://") || security.tls;
    absl::ConsumePrefix(&host_port, "http://");
    if (!tls &&
        !internal::is_loopback_listen(std::string_view(host_port.data(), host_port.size()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--etcd_user: the password would go to ", endpoint,
                       " in plaintext; give --etcd_ca (TLS) or an https:// endpoint"));
    }
  }
  return security;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> make_store(const StoreFlags& flags) {
  if (flags.data_dir.empty() == flags.etcd.empty()) {
    return absl::InvalidArgumentError("set exactly one of --data_dir and --etcd");
  }
  if (!flags.etcd.empty()) {
    EtcdStore::Options options;
    options.endpoints = absl::StrSplit(flags.etcd, ',', absl::SkipEmpty());
    absl::StatusOr<EtcdSecurity> security = etcd_security(flags, options.endpoints);
    if (!security.ok()) return security.status();
    options.security = *std::move(security);
    options.key_prefix = flags.etcd_prefix;
    options.server_id = flags.server_id;
    options.lease_ttl = flags.etcd_lease_ttl;
    absl::StatusOr<std::unique_ptr<EtcdStore>> etcd = EtcdStore::create(std::move(options));
    if (!etcd.ok()) return etcd.status();
    return std::unique_ptr<Store>(*std::move(etcd));
  }
  absl::StatusOr<std::unique_ptr<LocalStore>> local = LocalStore::open(flags.data_dir);
  if (!local.ok()) return local.status();
  return std::unique_ptr<Store>(*std::move(local));
}

std::string describe(const StoreFlags& flags) {
  return flags.etcd.empty() ? absl::StrCat("dir ", flags.data_dir)
                            : absl::StrCat("etcd ", flags.etcd, " ", flags.etcd_prefix);
}

}  // namespace ufc::metad
