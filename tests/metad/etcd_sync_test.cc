// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Several ufc-metad processes over one real etcd, and real clients syncing from them:
// writes through one server reach the other's clients, a killed server's clients fail over
// and receive only what changed, and an etcd outage costs writes, never config.

#include <signal.h>

#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/metad/etcd_process.h"
#include "tests/metad/metad_process.h"
#include "tests/testing/tls_cert.h"
#include "ufc/client.h"
#include "ufc/v1/meta.grpc.pb.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::MetadProcess;

v1::ServiceConfig service(const std::string& name, int port) {
  v1::ServiceConfig s;
  s.set_name(name);
  s.add_endpoints()->set_address(absl::StrCat("127.0.0.1:", port));
  return s;
}

std::unique_ptr<v1::Meta::Stub> stub(const MetadProcess& m) {
  return v1::Meta::NewStub(grpc::CreateChannel(m.address(), grpc::InsecureChannelCredentials()));
}

grpc::Status put(const MetadProcess& m, const v1::ServiceConfig& s) {
  v1::PutServiceRequest req;
  *req.mutable_service() = s;
  v1::PutServiceResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub(m)->PutService(&ctx, req, &resp);
}

v1::ListClientsResponse clients(const MetadProcess& m) {
  v1::ListClientsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  (void)stub(m)->ListClients(&ctx, {}, &resp);
  return resp;
}

struct Events {
  absl::Mutex mu;
  std::vector<Event> seen;
  EventCallback callback() {
    return [this](const Event& e) {
      absl::MutexLock lock(&mu);
      seen.push_back(e);
    };
  }
  int count(EventType type) {
    absl::MutexLock lock(&mu);
    int n = 0;
    for (const Event& e : seen) n += e.type == type;
    return n;
  }
};

uint64_t sync_stat(Client& client, const std::string& key) {
  const std::string json = client.query("sync");
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":([0-9]+)"))) {
    return std::stoull(m[1]);
  }
  return 0;
}

std::string picked(Client& client, const std::string& name) {
  absl::StatusOr<Pick> p = client.pick({.service = name});
  return p.ok() ? std::string(p->address()) : std::string();
}

template <typename Pred>
bool eventually(Pred pred, absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return pred();
}

std::set<std::string> client_ids(const v1::ListClientsResponse& r, const std::string& server) {
  std::set<std::string> out;
  for (const auto& c : r.clients()) {
    if (server.empty() || c.server_id() == server) out.insert(c.client().client_id());
  }
  return out;
}

TEST(EtcdSyncTest, TwoServersOneEtcdFailoverAndAnEtcdOutage) {
  if (::access("/usr/bin/etcd", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/etcd";
  metad::testing::TestEtcd etcd(1);
  ASSERT_TRUE(etcd.start());
  const std::string endpoints = absl::StrJoin(etcd.endpoints(), ",");
  auto flags = [&](const std::string& id) {
    return std::vector<std::string>{"--etcd=" + endpoints, "--server_id=" + id,
                                    "--etcd_lease_ttl_ms=2000", "--etcd_prefix=/t1/"};
  };
  MetadProcess m1(UFC_METAD_BIN), m2(UFC_METAD_BIN);
  ASSERT_TRUE(m1.start(flags("m1")));
  ASSERT_TRUE(m2.start(flags("m2")));
  ASSERT_TRUE(put(m1, service("a", 1001)).ok());

  // c1 prefers m1 (its IDC), c2 talks to m2 only.
  Events e1, e2;
  ClientOptions o1;
  o1.self_idc = "bj";
  o1.sync.client_id = "c1";
  o1.sync.servers = {{m1.address(), "bj"}, {m2.address(), "sh"}};
  o1.sync.services = {"a"};
  o1.sync.backoff_min = absl::Milliseconds(20);
  o1.sync.backoff_max = absl::Milliseconds(200);
  o1.on_event = e1.callback();
  ClientOptions o2 = o1;
  o2.sync.client_id = "c2";
  o2.sync.servers = {{m2.address(), "sh"}};
  o2.on_event = e2.callback();
  auto c1 = Client::create(o1).value();
  auto c2 = Client::create(o2).value();
  ASSERT_TRUE(c1->wait_for_config("a", absl::Seconds(10)).ok()) << c1->query("sync");
  ASSERT_TRUE(c2->wait_for_config("a", absl::Seconds(10)).ok()) << c2->query("sync");

  // A Put through m1 reaches m2's client.
  ASSERT_TRUE(put(m1, service("a", 1002)).ok());
  ASSERT_TRUE(eventually([&] { return picked(*c2, "a") == "127.0.0.1:1002"; }));
  ASSERT_TRUE(eventually([&] { return picked(*c1, "a") == "127.0.0.1:1002"; }));
  // Either server lists the whole fleet (m1's clients through etcd).
  ASSERT_TRUE(eventually([&] {
    return client_ids(clients(m2), "") == std::set<std::string>{"c1", "c2"};
  })) << clients(m2).DebugString();
  EXPECT_EQ(client_ids(clients(m2), "m1"), std::set<std::string>{"c1"});

  // kill -9 m1: c1 fails over to m2 and is sent nothing it has.
  const uint64_t received = sync_stat(*c1, "services_received");
  m1.kill(SIGKILL);
  ASSERT_TRUE(eventually([&] { return e1.count(EventType::kSyncFailover) >= 1; }))
      << c1->query("sync");
  ASSERT_TRUE(
      eventually([&] { return c1->query("sync").find(m2.address()) != std::string::npos; }));
  EXPECT_EQ(sync_stat(*c1, "services_received"), received);
  ASSERT_TRUE(put(m2, service("a", 1003)).ok());
  ASSERT_TRUE(eventually([&] { return picked(*c1, "a") == "127.0.0.1:1003"; }));
  EXPECT_EQ(sync_stat(*c1, "services_received"), received + 1);
  // m1's registry entries vanish with its lease; c1 is now listed under m2.
  ASSERT_TRUE(eventually([&] {
    return client_ids(clients(m2), "m2") == std::set<std::string>{"c1", "c2"} &&
           client_ids(clients(m2), "m1").empty();
  })) << clients(m2).DebugString();

  // etcd goes away: clients keep their config, m2 keeps serving its snapshot, Puts fail.
  etcd.kill(0);
  const absl::Time t0 = absl::Now();
  grpc::Status during = put(m2, service("a", 1004));
  // A Put that raced the kill (sent on a connection that was just closing) has an unknown
  // outcome, which metad says as DEADLINE_EXCEEDED; the next one knows etcd is gone.
  if (during.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      absl::StrContains(during.error_message(), "may or may not have been applied")) {
    during = put(m2, service("a", 1004));
  }
  EXPECT_EQ(during.error_code(), grpc::StatusCode::UNAVAILABLE) << during.error_message();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(8));
  EXPECT_EQ(picked(*c1, "a"), "127.0.0.1:1003");
  EXPECT_EQ(picked(*c2, "a"), "127.0.0.1:1003");
  Events e3;
  ClientOptions o3 = o2;  // a client that connects during the outage still gets the snapshot
  o3.sync.client_id = "c3";
  o3.on_event = e3.callback();
  auto c3 = Client::create(o3).value();
  EXPECT_TRUE(c3->wait_for_config("a", absl::Seconds(10)).ok());

  // etcd back: writes resume and reach everyone.
  ASSERT_TRUE(etcd.restart(0));
  ASSERT_TRUE(eventually([&] { return put(m2, service("a", 1005)).ok(); }, absl::Seconds(20)));
  for (Client* c : {c1.get(), c2.get(), c3.get()}) {
    EXPECT_TRUE(eventually([&] { return picked(*c, "a") == "127.0.0.1:1005"; }))
        << c->query("sync");
  }
}

// etcd as production runs it: client URLs over TLS, auth enabled, metad a user whose role
// may read and write its prefix only.
TEST(EtcdSyncTest, OverTlsWithEtcdAuthARestrictedUserAndTokensEtcdStopsTaking) {
  if (::access("/usr/bin/etcd", X_OK) != 0 || ::access(metad::testing::kEtcdctlBinary, X_OK) != 0) {
    GTEST_SKIP() << "no /usr/bin/etcd or etcdctl";
  }
  testing::TempDir dir;
  ufc::testing::TlsCert pem;
  if (!ufc::testing::make_self_signed_cert(dir.path(), "etcd", pem)) {
    GTEST_SKIP() << "openssl is not installed";
  }
  // JWT tokens that live one second: etcd refuses each one a second after it was given.
  const std::string pub = dir.path() + "/etcd.pub";
  ASSERT_EQ(
      std::system(("openssl rsa -in " + pem.key + " -pubout -out " + pub + " 2>/dev/null").c_str()),
      0);
  metad::testing::TestEtcd etcd(1, {pem.cert, pem.key},
                                {"--auth-token", "jwt,pub-key=" + pub + ",priv-key=" + pem.key +
                                                     ",sign-method=RS256,ttl=1s"});
  ASSERT_TRUE(etcd.start());
  std::string out;
  for (const char* cmd :
       {"user add root --new-user-password=root-secret", "role add ufc",
        "role grant-permission ufc --prefix=true readwrite /t9/",
        "user add ufc --new-user-password=ufc-secret", "user grant-role ufc ufc"}) {
    ASSERT_EQ(etcd.etcdctl(cmd, &out), 0) << cmd << ": " << out;
  }
  std::ofstream(dir.path() + "/pw") << "ufc-secret\n";
  std::ofstream(dir.path() + "/wrong") << "not-it\n";
  auto flags = [&](const std::string& prefix, const std::string& password_file) {
    return std::vector<std::string>{
        "--etcd=" + etcd.url(0),   "--etcd_ca=" + pem.cert,
        "--etcd_user=ufc",         "--etcd_password_file=" + password_file,
        "--etcd_prefix=" + prefix, "--server_id=tls",
        "--etcd_lease_ttl_ms=2000"};
  };
  // metad configured with its user before etcd's auth is on: it runs without a token, and
  // asks for one once etcd wants it.
  MetadProcess good(UFC_METAD_BIN);
  ASSERT_TRUE(good.start(flags("/t9/", dir.path() + "/pw"))) << good.log();
  ASSERT_TRUE(put(good, service("a", 1000)).ok()) << good.log();
  ASSERT_EQ(etcd.etcdctl("auth enable", &out), 0) << out;
  ASSERT_TRUE(put(good, service("a", 1001)).ok()) << good.log();
  Events events;
  ClientOptions o;
  o.sync.client_id = "tls-client";
  o.sync.servers = {{good.address(), ""}};
  o.sync.services = {"a"};
  o.on_event = events.callback();
  auto client = Client::create(o).value();
  ASSERT_TRUE(client->wait_for_config("a", absl::Seconds(10)).ok()) << client->query("sync");
  // The client registry (under a lease) is written with the same token.
  EXPECT_TRUE(eventually([&] { return client_ids(clients(good), "tls").count("tls-client") == 1; }))
      << clients(good).DebugString();

  // Tokens etcd no longer takes: expired, and older than a change to its users or roles
  // ("revision of auth store is old"). metad asks for a new one and the Put goes through.
  // (JWT expiry has whole seconds: a 1 s token lives 1-2 s.)
  absl::SleepFor(absl::Milliseconds(2100));
  grpc::Status after = put(good, service("a", 1002));
  EXPECT_TRUE(after.ok()) << after.error_message();
  ASSERT_EQ(etcd.etcdctl("--user=root:root-secret role add another", &out), 0) << out;
  after = put(good, service("a", 1003));
  EXPECT_TRUE(after.ok()) << after.error_message();
  EXPECT_TRUE(eventually([&] { return picked(*client, "a") == "127.0.0.1:1003"; }))
      << client->query("sync");

  // What does not get in, each with etcd's reason.
  MetadProcess wrong(UFC_METAD_BIN), outside(UFC_METAD_BIN), plaintext(UFC_METAD_BIN);
  EXPECT_FALSE(wrong.start(flags("/t9/", dir.path() + "/wrong")));
  EXPECT_THAT(wrong.log(), HasSubstr("authentication failed")) << wrong.log();
  EXPECT_FALSE(outside.start(flags("/elsewhere/", dir.path() + "/pw")));
  EXPECT_THAT(outside.log(), HasSubstr("permission denied")) << outside.log();
  std::vector<std::string> no_ca = flags("/t9/", dir.path() + "/pw");
  no_ca[0] = "--etcd=" + etcd.endpoint(0);  // plaintext to a TLS port: no answer
  no_ca[1] = "--etcd_lease_ttl_ms=2000";
  EXPECT_FALSE(plaintext.start(no_ca));
  EXPECT_THAT(plaintext.log(), HasSubstr("UNAVAILABLE")) << plaintext.log();
}

}  // namespace
}  // namespace ufc
