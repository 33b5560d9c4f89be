// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/etcd_security.h: how EtcdStore reaches etcd beyond plaintext (no gRPC
// here, so EtcdStore's header can take it).

#ifndef UFC_METAD_STORE_ETCD_ETCD_SECURITY_H_
#define UFC_METAD_STORE_ETCD_ETCD_SECURITY_H_

#include <string>

namespace ufc::metad {

// How EtcdStore reaches etcd beyond plaintext: TLS, and etcd's own authentication.
struct EtcdSecurity {
  // TLS to every member (also implied by an "https://" endpoint). `ca_pem`: the roots that
  // check the members' certificates (empty: the system's); `cert_pem` and `key_pem`: a
  // client certificate, for etcd's --client-cert-auth (both or neither). PEM contents.
  bool tls = false;
  std::string ca_pem, cert_pem, key_pem;
  // etcd's authentication (etcdctl auth enable): a user and its password; empty user: off.
  std::string user, password;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_ETCD_SECURITY_H_
