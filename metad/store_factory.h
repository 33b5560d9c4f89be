// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store_factory.h: the store the flags name.

#ifndef UFC_METAD_STORE_FACTORY_H_
#define UFC_METAD_STORE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metad/store/store.h"

namespace ufc::metad {

struct StoreFlags {
  std::string data_dir;  // LocalStore
  std::string etcd;      // EtcdStore: comma-separated host:port
  std::string etcd_prefix = "/ufc/";
  std::string server_id;  // required with etcd (main.cc defaults it to host:pid)
  absl::Duration etcd_lease_ttl = absl::Seconds(10);
  // TLS to etcd: PEM files (a CA and/or a client certificate with its key; any of them, or
  // an https:// endpoint, turns TLS on).
  std::string etcd_ca, etcd_cert, etcd_key;
  // etcd's authentication: a user, and a file holding its password.
  std::string etcd_user, etcd_password_file;
};

// INVALID_ARGUMENT unless exactly one of data_dir and etcd is set, naming the flag of a
// file that cannot be read, or for a password that would cross a non-loopback network in
// plaintext (to an etcd endpoint that is neither TLS nor loopback); then the store's own
// open errors.
absl::StatusOr<std::unique_ptr<Store>> make_store(const StoreFlags& flags);
std::string describe(const StoreFlags& flags);

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_FACTORY_H_
