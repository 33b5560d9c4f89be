// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/tls_cert.h: a self-signed certificate for 127.0.0.1, made with the
// openssl command line, for tests that start real servers with TLS. The certificate is
// its own CA: clients trust it by naming it as their CA file.

#ifndef UFC_TESTS_TESTING_TLS_CERT_H_
#define UFC_TESTS_TESTING_TLS_CERT_H_

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace ufc::testing {

struct TlsCert {
  std::string cert;  // PEM certificate (also the CA to trust)
  std::string key;   // PEM private key
};

// Writes `<dir>/<name>.pem` and `<dir>/<name>.key` (valid one day, subjectAltName
// IP:127.0.0.1). False when openssl is missing or fails: the caller skips its test.
inline bool make_self_signed_cert(const std::string& dir, const std::string& name, TlsCert& out) {
  out.cert = absl::StrCat(dir, "/", name, ".pem");
  out.key = absl::StrCat(dir, "/", name, ".key");
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ufc-test -keyout ", out.key,
      " -out ", out.cert, " -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1");
  return std::system(cmd.c_str()) == 0;
}

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_TLS_CERT_H_
