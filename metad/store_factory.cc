// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store_factory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "metad/store/etcd_store.h"
#include "metad/store/local_store.h"

namespace ufc::metad {

absl::StatusOr<std::unique_ptr<Store>> make_store(const StoreFlags& flags) {
  if (flags.data_dir.empty() == flags.etcd.empty()) {
    return absl::InvalidArgumentError("set exactly one of --data_dir and --etcd");
  }
  if (!flags.etcd.empty()) {
    EtcdStore::Options options;
    options.endpoints = absl::StrSplit(flags.etcd, ',', absl::SkipEmpty());
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
