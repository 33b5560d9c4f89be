// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The control path end to end: a real ufc-metad process (local store) on loopback, real
// ufc::Clients syncing from it, and a scripted server for the lies a real one never tells.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "src/sync/sync_cache.h"
#include "tests/agent/http_test_peers.h"
#include "tests/metad/metad_process.h"
#include "tests/testing/tls_cert.h"
#include "ufc/client.h"
#include "ufc/v1/meta.grpc.pb.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using testing::MetadProcess;
using ::testing::Not;
using testing::TempDir;

v1::ServiceConfig service(const std::string& name, int port) {
  v1::ServiceConfig s;
  s.set_name(name);
  s.add_endpoints()->set_address(absl::StrCat("127.0.0.1:", port));
  return s;
}

class Admin {
 public:
  explicit Admin(const std::string& address)
      : stub_(v1::Meta::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
  }
  grpc::Status put(const v1::ServiceConfig& s, uint64_t* version = nullptr) {
    v1::PutServiceRequest req;
    *req.mutable_service() = s;
    v1::PutServiceResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status st = stub_->PutService(&ctx, req, &resp);
    if (version != nullptr) *version = resp.version();
    return st;
  }
  grpc::Status remove(const std::string& name) {
    v1::DeleteServiceRequest req;
    req.set_name(name);
    v1::DeleteServiceResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub_->DeleteService(&ctx, req, &resp);
  }
  v1::ListServicesResponse list() {
    v1::ListServicesResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    EXPECT_TRUE(stub_->ListServices(&ctx, {}, &resp).ok());
    return resp;
  }
  v1::ListClientsResponse clients() {
    v1::ListClientsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    EXPECT_TRUE(stub_->ListClients(&ctx, {}, &resp).ok());
    return resp;
  }

 private:
  std::unique_ptr<v1::Meta::Stub> stub_;
};

// Events, for asserting on.
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
  std::string details(EventType type) {
    absl::MutexLock lock(&mu);
    std::string out;
    for (const Event& e : seen) {
      if (e.type == type) absl::StrAppend(&out, e.detail, "\n");
    }
    return out;
  }
};

uint64_t sync_stat(Client& client, const std::string& key) {
  const std::string json = client.query("sync");
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":([0-9]+)"))) {
    return std::stoull(m[1]);
  }
  ADD_FAILURE() << "no " << key << " in " << json;
  return 0;
}

bool sync_connected(Client& client) {
  return client.query("sync").find("\"connected\":true") != std::string::npos;
}

// The address pick() gives for `name` ("" when it fails).
std::string picked(Client& client, const std::string& name) {
  absl::StatusOr<Pick> p = client.pick({.service = name});
  return p.ok() ? std::string(p->address()) : std::string();
}

template <typename Pred>
bool eventually(Pred pred, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return pred();
}

ClientOptions sync_options(const std::string& server, Events& events) {
  ClientOptions o;
  o.sync.servers = {{server, ""}};
  o.sync.backoff_min = absl::Milliseconds(20);
  o.sync.backoff_max = absl::Milliseconds(200);
  o.sync.cache_interval = absl::Milliseconds(20);
  o.on_event = events.callback();
  return o;
}

// A port nothing listens on: bound but not listening (connects are refused), and held for
// the life of the object, so no other test of a parallel run can be given it.
class DeadPort {
 public:
  DeadPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~DeadPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

TEST(SyncTest, TwoClientsFollowPutsUpdatesDeletesRestartsAndColdStartFromTheCache) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}));
  Admin admin(metad.address());
  ASSERT_TRUE(admin.put(service("a", 1001)).ok());
  ASSERT_TRUE(admin.put(service("b", 1002)).ok());

  Events e1, e2;
  ClientOptions o1 = sync_options(metad.address(), e1);
  o1.self_service = "caller1";
  o1.sync.all_services = true;
  o1.sync.cache_dir = dir.path();
  ClientOptions o2 = sync_options(metad.address(), e2);
  o2.sync.services = {"a", "b"};
  auto c1 = Client::create(o1).value();
  auto c2 = Client::create(o2).value();
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(c->wait_for_config("a", absl::Seconds(10)).ok()) << c->query("sync");
    ASSERT_TRUE(c->wait_for_config("b", absl::Seconds(10)).ok());
    EXPECT_EQ(picked(*c, "b"), "127.0.0.1:1002");
  }
  ASSERT_TRUE(eventually([&] { return sync_stat(*c1, "services_received") == 2; }));
  EXPECT_EQ(sync_stat(*c2, "services_received"), 2u);

  // One service changes: each client receives that service and nothing else.
  uint64_t v = 0;
  ASSERT_TRUE(admin.put(service("b", 1003), &v).ok());
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(eventually([&] { return picked(*c, "b") == "127.0.0.1:1003"; }));
    EXPECT_EQ(sync_stat(*c, "services_received"), 3u);
    EXPECT_EQ(picked(*c, "a"), "127.0.0.1:1001");
  }
  // The version is recorded once the apply returns, just after the new config is visible.
  EXPECT_TRUE(eventually([&] { return sync_stat(*c1, "global_version") == v; }))
      << c1->query("sync");

  // A delete reaches both.
  ASSERT_TRUE(admin.remove("a").ok());
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(eventually([&] { return picked(*c, "a").empty(); }));
    EXPECT_EQ(sync_stat(*c, "removals_received"), 1u);
  }

  // A restart of the server: the clients come back and are sent nothing.
  const int port = metad.port();
  metad.kill(SIGTERM);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}, port));
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(eventually([&] { return sync_stat(*c, "connects") >= 2 && sync_connected(*c); }))
        << c->query("sync");
    EXPECT_EQ(sync_stat(*c, "services_received"), 3u);
    EXPECT_EQ(sync_stat(*c, "removals_received"), 1u);
    EXPECT_EQ(picked(*c, "b"), "127.0.0.1:1003");
  }
  EXPECT_GE(e1.count(EventType::kSyncDisconnected), 1);

  // kill -9 the server, restart a client: it starts from its cache and picks at once.
  metad.kill(SIGKILL);
  c1.reset();
  Events e3;
  ClientOptions o3 = o1;
  o3.on_event = e3.callback();
  auto c3 = Client::create(o3).value();
  EXPECT_EQ(picked(*c3, "b"), "127.0.0.1:1003");
  EXPECT_EQ(picked(*c3, "a"), "");
  EXPECT_EQ(e3.count(EventType::kCacheLoaded), 1) << e3.details(EventType::kCacheIgnored);
  EXPECT_THAT(e3.details(EventType::kCacheLoaded), HasSubstr("1 services"));
}

// Runs ufcctl against `server` with `args`; its exit code, and what it printed in `out`.
int ufcctl(const std::string& server, const std::string& args, std::string* out = nullptr) {
  const std::string cmd =
      absl::StrCat(UFC_UFCCTL_BIN, " --server=", server, " --timeout_ms=5000 ", args, " 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  const int status = ::pclose(p);
  if (out != nullptr) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The addresses 40 picks of `name` return.
std::set<std::string> picks_of(Client& client, const std::string& name) {
  std::set<std::string> out;
  for (int i = 0; i < 40; ++i) {
    absl::StatusOr<Pick> p = client.pick({.service = name});
    if (p.ok()) out.insert(std::string(p->address()));
  }
  return out;
}

TEST(SyncTest, TheStoresIdcMapSteersEveryClientsIdcAffinityAndIsCached) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}));
  Admin admin(metad.address());
  // Endpoints tagged with physical IDCs; the client runs in "bj-1". Without a map no
  // endpoint is in its IDC, so affinity falls back to all of them.
  v1::ServiceConfig svc = service("svc", 2001);
  (*svc.mutable_endpoints(0)->mutable_tags())["idc"] = "bj-2";
  v1::Endpoint* sh = svc.add_endpoints();
  sh->set_address("127.0.0.1:2002");
  (*sh->mutable_tags())["idc"] = "sh-1";
  svc.mutable_idc_affinity()->set_enabled(true);
  ASSERT_TRUE(admin.put(svc).ok());

  Events e1, e2;
  ClientOptions o1 = sync_options(metad.address(), e1);
  o1.self_idc = "bj-1";
  o1.sync.services = {"svc"};  // a subscriber of one service gets the map all the same
  o1.sync.cache_dir = dir.path();
  ClientOptions o2 = sync_options(metad.address(), e2);
  o2.self_idc = "bj-1";
  o2.sync.all_services = true;
  auto c1 = Client::create(o1).value();
  auto c2 = Client::create(o2).value();
  const std::set<std::string> both{"127.0.0.1:2001", "127.0.0.1:2002"};
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(c->wait_for_config("svc", absl::Seconds(10)).ok()) << c->query("sync");
    EXPECT_EQ(picks_of(*c, "svc"), both);
  }

  // ufcctl validates locally first: an empty IDC name never reaches the server.
  const std::string bad = dir.path() + "/bad.json";
  std::ofstream(bad) << R"({"idcMap": {"bj-1": ""}})";
  std::string out;
  EXPECT_EQ(ufcctl(metad.address(), "put-idc-map " + bad, &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("idc_map"));

  // "bj-1" and "bj-2" are one logical IDC: both clients keep to the bj endpoint.
  const std::string map = dir.path() + "/map.json";
  std::ofstream(map) << R"({"idcMap": {"bj-1": "bj", "bj-2": "bj", "sh-1": "sh"}})";
  ASSERT_EQ(ufcctl(metad.address(), "put-idc-map " + map, &out), 0) << out;
  const std::set<std::string> bj{"127.0.0.1:2001"};
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(eventually([&] { return picks_of(*c, "svc") == bj; })) << c->query("sync");
  }
  ASSERT_EQ(ufcctl(metad.address(), "idc-map", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("\"bj-2\": \"bj\""));
  const uint64_t version = sync_stat(*c1, "idc_map_version");
  EXPECT_GT(version, 0u);
  EXPECT_TRUE(eventually([&] { return sync_stat(*c2, "idc_map_version") == version; }));
  EXPECT_EQ(sync_stat(*c1, "services_received"), 1u) << "the map came without the service";

  // The map changes: "bj-1" is now where sh is.
  std::ofstream(map) << R"({"idcMap": {"bj-1": "sh", "sh-1": "sh"}})";
  ASSERT_EQ(ufcctl(metad.address(), "put-idc-map " + map, &out), 0) << out;
  const std::set<std::string> moved{"127.0.0.1:2002"};
  for (Client* c : {c1.get(), c2.get()}) {
    ASSERT_TRUE(eventually([&] { return picks_of(*c, "svc") == moved; })) << c->query("sync");
  }

  // The server gone, a restarted client has the map from its cache.
  ASSERT_TRUE(eventually([&] { return sync_stat(*c1, "idc_map_version") > version; }));
  const uint64_t moved_at = sync_stat(*c1, "idc_map_version");
  absl::SleepFor(absl::Milliseconds(100));  // the cache write (cache_interval 20 ms)
  metad.kill(SIGKILL);
  c1.reset();
  Events e3;
  ClientOptions o3 = o1;
  o3.on_event = e3.callback();
  auto c3 = Client::create(o3).value();
  EXPECT_EQ(e3.count(EventType::kCacheLoaded), 1) << e3.details(EventType::kCacheIgnored);
  EXPECT_EQ(picks_of(*c3, "svc"), moved);

  // Back: the server sends the map again (the cache keeps no version), nothing else.
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}, metad.port()));
  ASSERT_TRUE(eventually([&] { return sync_stat(*c3, "idc_map_version") == moved_at; }))
      << c3->query("sync");
  EXPECT_EQ(sync_stat(*c3, "services_received"), 0u);
  EXPECT_EQ(picks_of(*c3, "svc"), moved);
}

TEST(SyncTest, ARemovedServiceIsUnsubscribedUncachedAndBackWhenWantedAgain) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}));
  Admin admin(metad.address());
  ASSERT_TRUE(admin.put(service("a", 1001)).ok());
  ASSERT_TRUE(admin.put(service("b", 1002)).ok());
  Events events;
  ClientOptions o = sync_options(metad.address(), events);
  o.sync.services = {"a", "b"};
  o.sync.cache_dir = dir.path();
  auto c = Client::create(o).value();
  ASSERT_TRUE(c->wait_for_config("a", absl::Seconds(10)).ok()) << c->query("sync");
  ASSERT_TRUE(c->wait_for_config("b", absl::Seconds(10)).ok());
  ASSERT_TRUE(c->remove("a").ok());
  ASSERT_TRUE(eventually([&] { return sync_stat(*c, "subscribed") == 1; })) << c->query("sync");

  // A change of "a" is not sent any more (the server forgot the subscription), and no
  // pick of it is made meanwhile (a pick would subscribe again).
  const uint64_t received = sync_stat(*c, "services_received");
  ASSERT_TRUE(admin.put(service("a", 1003)).ok());
  ASSERT_TRUE(admin.put(service("b", 1004)).ok());
  ASSERT_TRUE(eventually([&] { return picked(*c, "b") == "127.0.0.1:1004"; }));
  EXPECT_EQ(sync_stat(*c, "services_received"), received + 1) << "b only";
  EXPECT_THAT(c->query("services"), Not(HasSubstr("\"a\"")));
  EXPECT_EQ(sync_stat(*c, "services"), 1u);

  // Wanted again: subscribed, and the server sends it afresh.
  ASSERT_TRUE(c->wait_for_config("a", absl::Seconds(10)).ok()) << c->query("sync");
  EXPECT_EQ(picked(*c, "a"), "127.0.0.1:1003");

  // Removed again, then the client restarts with the server gone: the cache lacks it.
  ASSERT_TRUE(c->remove("a").ok());
  absl::SleepFor(absl::Milliseconds(300));  // the cache write (a 50 ms loop, cache_interval 20 ms)
  metad.kill(SIGKILL);
  c.reset();
  Events again;
  o.on_event = again.callback();
  auto restarted = Client::create(o).value();
  EXPECT_EQ(again.count(EventType::kCacheLoaded), 1) << again.details(EventType::kCacheIgnored);
  EXPECT_EQ(picked(*restarted, "b"), "127.0.0.1:1004");
  EXPECT_THAT(restarted->query("services"), Not(HasSubstr("\"a\"")));
}

// TLS and both tokens, end to end: a client needs the CA and the Watch token, ufcctl the CA
// and the admin token; without either they are refused, and say why.
TEST(SyncTest, OverTlsWithTokensOnlyClientsWithTheCaAndTheTokenSync) {
  TempDir dir;
  testing::TlsCert pem;
  if (!testing::make_self_signed_cert(dir.path(), "metad", pem)) {
    GTEST_SKIP() << "openssl is not installed";
  }
  const std::string& cert = pem.cert;
  const std::string& key = pem.key;
  std::ofstream(dir.path() + "/admin") << "admin-secret\n";
  std::ofstream(dir.path() + "/watch") << "watch-secret\n";
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store", "--tls_cert=" + cert,
                           "--tls_key=" + key, "--admin_token_file=" + dir.path() + "/admin",
                           "--watch_token_file=" + dir.path() + "/watch"}));
  const std::string svc = dir.path() + "/svc.json";
  std::ofstream(svc) << R"({"name": "svc", "endpoints": [{"address": "127.0.0.1:2001"}]})";
  const std::string tls = " --tls_ca=" + cert;
  std::string out;
  EXPECT_EQ(ufcctl(metad.address(), "put " + svc + tls, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(ufcctl(metad.address(), "put " + svc + " --token_file=" + dir.path() + "/admin", &out),
            3)
      << "plaintext to a TLS server: unreachable. " << out;
  ASSERT_EQ(
      ufcctl(metad.address(), "put " + svc + tls + " --token_file=" + dir.path() + "/admin", &out),
      0)
      << out;

  Events good_events, plain_events, wrong_events;
  ClientOptions good = sync_options(metad.address(), good_events);
  good.sync.services = {"svc"};
  good.sync.tls_ca_file = cert;
  good.sync.token = "watch-secret";
  ClientOptions plain = good;  // no CA: plaintext
  plain.sync.tls_ca_file.clear();
  plain.on_event = plain_events.callback();
  ClientOptions wrong = good;
  wrong.sync.token = "admin-secret";  // the other token
  wrong.on_event = wrong_events.callback();
  auto g = Client::create(good).value();
  auto p = Client::create(plain).value();
  auto w = Client::create(wrong).value();
  ASSERT_TRUE(g->wait_for_config("svc", absl::Seconds(10)).ok()) << g->query("sync");
  EXPECT_EQ(picked(*g, "svc"), "127.0.0.1:2001");
  EXPECT_FALSE(p->wait_for_config("svc", absl::Milliseconds(1500)).ok());
  EXPECT_FALSE(w->wait_for_config("svc", absl::Milliseconds(10)).ok());
  EXPECT_FALSE(sync_connected(*p));
  EXPECT_FALSE(sync_connected(*w));
  EXPECT_THAT(w->query("sync"), HasSubstr("bad or missing token"));
  EXPECT_EQ(picked(*p, "svc"), "");
  EXPECT_EQ(picked(*w, "svc"), "");
}

TEST(SyncTest, AnInvalidPutIsRefusedWithFieldPathsAndNothingIsStored) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path()}));
  Admin admin(metad.address());
  ASSERT_TRUE(admin.put(service("a", 1001)).ok());
  const uint64_t before = admin.list().global_version();
  v1::ServiceConfig bad = service("a", 1002);
  bad.mutable_endpoints(0)->set_weight(-3);
  bad.add_endpoints()->set_address("no-port");
  grpc::Status s = admin.put(bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("service.endpoints[0].weight"));
  EXPECT_THAT(s.error_message(), HasSubstr("endpoints[1].address"));
  EXPECT_EQ(admin.list().global_version(), before);

  // Optimistic concurrency: a stale expected version is refused, the right one passes.
  v1::PutServiceRequest req;
  *req.mutable_service() = service("a", 1005);
  req.set_expected_version(before + 7);
  v1::PutServiceResponse resp;
  grpc::ClientContext ctx;
  auto stub =
      v1::Meta::NewStub(grpc::CreateChannel(metad.address(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(stub->PutService(&ctx, req, &resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  req.set_expected_version(before);
  grpc::ClientContext ctx2;
  EXPECT_TRUE(stub->PutService(&ctx2, req, &resp).ok());
  EXPECT_EQ(resp.version(), before + 1);
}

TEST(SyncTest, AServiceTheServerBreaksIsNackedKeptOutAndShownStale) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start(
      {"--data_dir=" + dir.path(), "--fault_invalid_service=bad", "--stale_after_ms=300"}));
  Admin admin(metad.address());
  ASSERT_TRUE(admin.put(service("ok", 1001)).ok());
  ASSERT_TRUE(admin.put(service("bad", 1002)).ok());
  Events events;
  ClientOptions o = sync_options(metad.address(), events);
  o.self_service = "nacker";
  o.sync.services = {"ok", "bad"};
  auto client = Client::create(o).value();
  ASSERT_TRUE(client->wait_for_config("ok", absl::Seconds(10)).ok());
  EXPECT_EQ(client->wait_for_config("bad", absl::Milliseconds(500)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(events.count(EventType::kConfigRejected), 1);
  // ListClients: the NACK with its error, and stale once it has lasted 300 ms.
  ASSERT_TRUE(eventually([&] {
    v1::ListClientsResponse r = admin.clients();
    return r.clients_size() == 1 && r.clients(0).stale();
  })) << admin.clients().DebugString();
  v1::ClientStatus c = admin.clients().clients(0);
  EXPECT_EQ(c.client().self_service(), "nacker");
  ASSERT_EQ(c.nacks_size(), 1);
  EXPECT_EQ(c.nacks(0).service(), "bad");
  EXPECT_THAT(c.nacks(0).error(), HasSubstr("weight"));
  EXPECT_GT(c.lag_ms(), 0);

  // A later good version of another service still applies; the client stays up to date
  // on it.
  ASSERT_TRUE(admin.put(service("ok", 1009)).ok());
  EXPECT_TRUE(eventually([&] { return picked(*client, "ok") == "127.0.0.1:1009"; }));
}

TEST(SyncTest, APickForAnUnknownServiceSubscribesInTheBackground) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path()}));
  Admin admin(metad.address());
  ASSERT_TRUE(admin.put(service("later", 1001)).ok());
  Events events;
  auto client = Client::create(sync_options(metad.address(), events)).value();
  ASSERT_TRUE(eventually([&] { return sync_connected(*client); }));
  absl::StatusOr<Pick> first = client->pick({.service = "later"});
  EXPECT_EQ(first.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(eventually([&] { return picked(*client, "later") == "127.0.0.1:1001"; }));
  // A name the store does not have is reported unknown, and arrives once it is put.
  EXPECT_FALSE(client->pick({.service = "nothere"}).ok());
  ASSERT_TRUE(eventually([&] {
    return client->query("sync").find("\"unknown\":[\"nothere\"]") != std::string::npos;
  })) << client->query("sync");
  ASSERT_TRUE(admin.put(service("nothere", 1002)).ok());
  EXPECT_TRUE(eventually([&] { return picked(*client, "nothere") == "127.0.0.1:1002"; }));
}

TEST(SyncTest, ACorruptedOrTruncatedCacheIsIgnoredWithAnEvent) {
  TempDir dir;
  const std::string path = dir.path() + "/ufc.sync-cache";
  internal::SyncCacheContent content;
  content.global_version = 7;
  *content.config.add_services() = service("cached", 1001);
  content.config.mutable_services(0)->set_version(7);
  ASSERT_TRUE(internal::write_sync_cache(path, content).ok());
  std::string whole;
  {
    std::ifstream in(path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  ClientOptions o;
  DeadPort dead;
  o.sync.servers = {{absl::StrCat("127.0.0.1:", dead.port()), ""}};
  o.sync.cache_dir = dir.path();
  {  // the whole file works
    Events events;
    o.on_event = events.callback();
    auto client = Client::create(o).value();
    EXPECT_EQ(picked(*client, "cached"), "127.0.0.1:1001");
    EXPECT_EQ(events.count(EventType::kCacheLoaded), 1);
  }
  const std::vector<std::string> broken = {
      whole.substr(0, whole.size() / 2),                        // truncated
      std::string(whole).replace(whole.size() / 2, 1, "\x7f"),  // one byte flipped
      "", "UFCCACHE1\n", "garbage"};
  for (const std::string& b : broken) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << b;
    }
    Events events;
    o.on_event = events.callback();
    auto client = Client::create(o).value();
    EXPECT_EQ(picked(*client, "cached"), "");
    EXPECT_EQ(events.count(EventType::kCacheLoaded), 0);
    EXPECT_EQ(events.count(EventType::kCacheIgnored), 1) << b.size();
  }
}

// ---- A scripted server: the lies a real one never tells ----

class ScriptedMeta final : public v1::Meta::Service {
 public:
  grpc::Status Watch(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::WatchResponse, v1::WatchRequest>* stream) override {
    v1::WatchRequest hello;
    if (!stream->Read(&hello)) return grpc::Status::OK;
    {
      absl::MutexLock lock(&mu_);
      hellos_.push_back(hello);
    }
    bool closed = false;  // the client half-closed (or the call ended): guarded by mu_
    std::thread reader([&] {
      v1::WatchRequest r;
      while (stream->Read(&r)) {
        absl::MutexLock lock(&mu_);
        if (r.has_ack()) acks_.push_back(r.ack());
      }
      absl::MutexLock lock(&mu_);
      closed = true;
    });
    for (;;) {
      v1::WatchResponse next;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this, context, &closed]() -> bool {
          return !script_.empty() || closed || context->IsCancelled();
        };
        // Short waits: a cancelled call is noticed only when the wait ends.
        for (int i = 0; i < 200 && !ready(); ++i) {
          mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100));
        }
        if (closed || script_.empty()) break;
        next = script_.front();
        script_.pop_front();
      }
      if (next.response_id() == 0) break;  // "hang up"
      if (!stream->Write(next)) break;
    }
    bool in_order;
    {
      absl::MutexLock lock(&mu_);
      in_order = closed;
    }
    if (!in_order) context->TryCancel();  // "hang up", or the script ran out
    reader.join();
    return grpc::Status::OK;
  }
  void push(v1::WatchResponse r) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(r));
  }
  std::vector<v1::Ack> acks() {
    absl::MutexLock lock(&mu_);
    return acks_;
  }
  std::vector<v1::WatchRequest> hellos() {
    absl::MutexLock lock(&mu_);
    return hellos_;
  }

 private:
  absl::Mutex mu_;
  std::deque<v1::WatchResponse> script_;
  std::vector<v1::Ack> acks_;
  std::vector<v1::WatchRequest> hellos_;
};

v1::WatchResponse response(uint64_t id, uint64_t global, std::vector<v1::ServiceConfig> services) {
  v1::WatchResponse r;
  r.set_response_id(id);
  r.set_global_version(global);
  for (auto& s : services) *r.add_services() = std::move(s);
  return r;
}

v1::ServiceConfig versioned(const std::string& name, int port, uint64_t version) {
  v1::ServiceConfig s = service(name, port);
  s.set_version(version);
  return s;
}

TEST(SyncTest, VersionsGoingBackwardsFromALyingServerAreRejected) {
  ScriptedMeta meta;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&meta);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_GT(port, 0);

  meta.push(response(1, 10, {versioned("x", 1001, 10)}));
  Events events;
  ClientOptions o = sync_options(absl::StrCat("127.0.0.1:", port), events);
  o.sync.services = {"x"};
  auto client = Client::create(o).value();
  ASSERT_TRUE(client->wait_for_config("x", absl::Seconds(10)).ok());
  ASSERT_TRUE(eventually([&] { return meta.acks().size() == 1; }));
  EXPECT_EQ(meta.acks()[0].global_version(), 10u);
  EXPECT_TRUE(meta.acks()[0].error().empty());

  // The global version goes backwards: rejected whole, and the client leaves the server.
  meta.push(response(2, 5, {versioned("x", 1002, 5)}));
  ASSERT_TRUE(eventually([&] { return meta.acks().size() == 2; }));
  EXPECT_THAT(meta.acks()[1].error(), HasSubstr("global_version"));
  EXPECT_EQ(picked(*client, "x"), "127.0.0.1:1001");
  meta.push(v1::WatchResponse());  // the scripted stream hangs up after that
  ASSERT_TRUE(eventually([&] { return meta.hellos().size() == 2; }));
  // The reconnect says what the client has.
  EXPECT_EQ(meta.hellos()[1].have_global(), 10u);
  EXPECT_EQ(meta.hellos()[1].have().at("x"), 10u);

  // A service version going backwards: that service is NACKed and keeps its config.
  meta.push(response(1, 12, {versioned("x", 1003, 8)}));
  ASSERT_TRUE(eventually([&] { return meta.acks().size() == 3; }));
  ASSERT_EQ(meta.acks()[2].nacks_size(), 1);
  EXPECT_EQ(meta.acks()[2].nacks(0).service(), "x");
  EXPECT_EQ(meta.acks()[2].nacks(0).version(), 8u);
  EXPECT_THAT(meta.acks()[2].nacks(0).error(), HasSubstr("version"));
  EXPECT_EQ(picked(*client, "x"), "127.0.0.1:1001");
  // And an invalid config is NACKed the same way, the last good one staying.
  v1::ServiceConfig invalid = versioned("x", 1004, 13);
  invalid.mutable_endpoints(0)->set_weight(-1);
  meta.push(response(2, 13, {invalid}));
  ASSERT_TRUE(eventually([&] { return meta.acks().size() == 4; }));
  ASSERT_EQ(meta.acks()[3].nacks_size(), 1);
  EXPECT_THAT(meta.acks()[3].nacks(0).error(), HasSubstr("weight"));
  EXPECT_EQ(picked(*client, "x"), "127.0.0.1:1001");
  client.reset();
  meta.push(v1::WatchResponse());
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

TEST(SyncTest, AnEmptyStoreDoesNotDrainTheClientOnConnect) {
  // A client with a cache of three services connects to a server whose store has none
  // (a new, empty metad at the same address, revision 0): its first answer would remove
  // them all, and is behind the client's global version.
  TempDir dir;
  internal::SyncCacheContent content;
  content.global_version = 3;
  for (int i = 0; i < 3; ++i) {
    *content.config.add_services() = versioned(absl::StrCat("s", i), 1001 + i, i + 1);
  }
  ASSERT_TRUE(internal::write_sync_cache(dir.path() + "/ufc.sync-cache", content).ok());
  ScriptedMeta meta;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&meta);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  v1::WatchResponse wipe = response(1, 0, {});
  for (int i = 0; i < 3; ++i) {
    v1::ServiceRemoval* r = wipe.add_removals();
    r->set_name(absl::StrCat("s", i));
    r->set_version(0);
  }
  meta.push(wipe);
  Events events;
  ClientOptions o = sync_options(absl::StrCat("127.0.0.1:", port), events);
  o.sync.all_services = true;
  o.sync.cache_dir = dir.path();
  auto client = Client::create(o).value();
  ASSERT_TRUE(eventually([&] { return meta.acks().size() == 1; }, absl::Seconds(15)))
      << client->query("sync") << events.details(EventType::kCacheIgnored);
  EXPECT_THAT(meta.acks()[0].error(), HasSubstr("older than the client's 3"));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(picked(*client, absl::StrCat("s", i)).empty());
  client.reset();
  meta.push(v1::WatchResponse());
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

// A store behind the client's cache (new, wiped, restored) is refused on every connect:
// the client backs off between those, as from a server that does not answer, instead of
// reconnecting at once in a loop.
TEST(SyncTest, AClientThatRefusesAStoreBacksOffInsteadOfReconnectingAtOnce) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}));
  internal::SyncCacheContent content;
  content.global_version = 3;
  *content.config.add_services() = versioned("s0", 1001, 3);
  ASSERT_TRUE(internal::write_sync_cache(dir.path() + "/ufc.sync-cache", content).ok());
  Events events;
  ClientOptions o = sync_options(metad.address(), events);  // backoff 20 ms .. 200 ms
  o.sync.all_services = true;
  o.sync.cache_dir = dir.path();
  auto client = Client::create(o).value();
  ASSERT_TRUE(eventually([&] { return sync_stat(*client, "connects") >= 2; }))
      << client->query("sync");
  const uint64_t c0 = sync_stat(*client, "connects");
  absl::SleepFor(absl::Seconds(2));
  const uint64_t connects = sync_stat(*client, "connects") - c0;
  // Waits of 10-20, 20-40, 40-80, 80-160 ms, then 100-200 ms each: at most ~20 in 2 s
  // (at once, a loopback reconnect takes a few ms: hundreds).
  EXPECT_GE(connects, 3u) << client->query("sync");
  EXPECT_LE(connects, 25u) << client->query("sync");
  EXPECT_FALSE(picked(*client, "s0").empty());  // its cached config stays
}

// ---- Stream cuts ----

// A TCP proxy on loopback that can cut every connection through it.
class CuttingProxy {
 public:
  explicit CuttingProxy(int target) : target_(target) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    ::close(listen_);
    acceptor_.join();
    cut();
    for (std::thread& t : pumps_) t.join();
  }
  int port() const { return port_; }
  // Closes every connection through the proxy now.
  void cut() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void accept_loop() {
    while (!stop_) {
      int client = ::accept(listen_, nullptr, nullptr);
      if (client < 0) continue;
      int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(target_));
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(upstream);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      fds_.insert(client);
      fds_.insert(upstream);
      pumps_.emplace_back([this, client, upstream] { pump(client, upstream); });
      pumps_.emplace_back([this, client, upstream] { pump(upstream, client); });
    }
  }
  void pump(int from, int to) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0) break;
      if (::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  int target_;
  int listen_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::set<int> fds_;  // closed with the proxy (the process exit closes the rest)
  std::vector<std::thread> pumps_;
};

TEST(SyncTest, AHundredStreamCutsAtRandomPointsLoseOrReorderNothing) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path()}));
  Admin admin(metad.address());
  CuttingProxy proxy(metad.port());
  Events events;
  ClientOptions o = sync_options(absl::StrCat("127.0.0.1:", proxy.port()), events);
  o.sync.all_services = true;
  o.sync.backoff_min = absl::Milliseconds(5);
  o.sync.backoff_max = absl::Milliseconds(40);
  auto client = Client::create(o).value();

  // Writers change, add and delete five services while the proxy cuts the stream.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937 rng(7);
    int port = 2000;
    while (!done) {
      const std::string name = absl::StrCat("s", rng() % 5);
      if (rng() % 4 == 0) {
        admin.remove(name);
      } else {
        admin.put(service(name, ++port));
      }
      absl::SleepFor(absl::Milliseconds(rng() % 8));
    }
  });
  std::mt19937 rng(11);
  for (int i = 0; i < 100; ++i) {
    absl::SleepFor(absl::Milliseconds(5 + rng() % 60));
    proxy.cut();
  }
  done = true;
  writer.join();

  // The store's final state, and the client's once it has caught up.
  const v1::ListServicesResponse store = admin.list();
  std::set<std::string> stored;
  for (const auto& s : store.services()) stored.insert(s.name());
  auto matches = [&] {
    if (sync_stat(*client, "global_version") != store.global_version()) return false;
    for (int i = 0; i < 5; ++i) {
      const std::string name = absl::StrCat("s", i);
      if (stored.contains(name) == picked(*client, name).empty()) return false;
    }
    return true;
  };
  ASSERT_TRUE(eventually(matches, absl::Seconds(15))) << client->query("sync");
  // Every service at exactly the store's version and content.
  auto stub =
      v1::Meta::NewStub(grpc::CreateChannel(metad.address(), grpc::InsecureChannelCredentials()));
  for (const auto& s : store.services()) {
    v1::GetServiceRequest req;
    req.set_name(s.name());
    v1::GetServiceResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->GetService(&ctx, req, &resp).ok());
    EXPECT_EQ(picked(*client, s.name()), resp.service().endpoints(0).address()) << s.name();
    const std::string services = client->query("services");
    EXPECT_THAT(services,
                HasSubstr(absl::StrCat("\"name\":\"", s.name(), "\",\"version\":", s.version())))
        << services;
  }
  EXPECT_GE(sync_stat(*client, "connects"), 50u);  // the cuts did break the stream
  EXPECT_EQ(events.count(EventType::kConfigRejected), 0)
      << events.details(EventType::kConfigRejected);
}

// The value of the one line `series` + " " of a Prometheus text, or -1.
double metric(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(MetadMetricsTest, MetricsShowWatchersPushesStoreLatencyAndTiers) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}));
  Admin admin(metad.address());
  v1::ServiceConfig a = service("a", 1001);
  a.set_tier("online");
  v1::ServiceConfig batch = service("batch", 1002);
  batch.set_tier("offline");
  ASSERT_TRUE(admin.put(a).ok());
  ASSERT_TRUE(admin.put(batch).ok());
  v1::ServiceConfig bad = service("bad", 1);
  bad.mutable_endpoints(0)->set_weight(-1);
  EXPECT_FALSE(admin.put(bad).ok());

  Events events;
  ClientOptions o = sync_options(metad.address(), events);
  o.sync.all_services = true;
  o.self_service = "batch";
  auto client = Client::create(o).value();
  ASSERT_TRUE(client->wait_for_config("a", absl::Seconds(10)).ok());

  const int port = metad.port_from("metrics.port");
  ASSERT_GT(port, 0);
  std::string text;
  ASSERT_TRUE(eventually([&] {
    testing::HttpMessage m = testing::http_request(port, testing::get_request("/metrics", ""));
    text = m.body;
    return m.status == 200 && metric(text, "ufc_metad_watchers") == 1;
  })) << text;
  EXPECT_EQ(metric(text, "ufc_metad_services"), 2);
  // The client records the version just after its apply returns.
  EXPECT_TRUE(eventually([&] {
    return metric(text, "ufc_metad_global_version") ==
           static_cast<double>(sync_stat(*client, "global_version"));
  }));
  EXPECT_EQ(metric(text, "ufc_metad_service_info{service=\"a\",tier=\"online\"}"), 1);
  EXPECT_EQ(metric(text, "ufc_metad_service_info{service=\"batch\",tier=\"offline\"}"), 1);
  EXPECT_GE(metric(text, "ufc_metad_pushes_total"), 1);
  EXPECT_EQ(metric(text, "ufc_metad_stale_watchers"), 0);
  EXPECT_EQ(metric(text, "ufc_metad_store_operation_seconds_count{op=\"put\"}"), 3);
  EXPECT_EQ(metric(text, "ufc_metad_store_operation_errors_total{op=\"put\"}"), 1);
  EXPECT_EQ(metric(text, "ufc_metad_store_operation_seconds_count{op=\"delete\"}"), 0);
  EXPECT_EQ(metric(text, "ufc_metad_store_available"), 1);

  // The client's own view of the same: its sync series carry its caller name.
  std::string mine;
  EXPECT_TRUE(eventually([&] {
    mine = client->metrics_text();
    return metric(mine, "ufc_sync_global_version{caller=\"batch\"}") ==
           metric(text, "ufc_metad_global_version");
  })) << mine;
  EXPECT_EQ(metric(mine, "ufc_sync_connected{caller=\"batch\"}"), 1);
  EXPECT_EQ(metric(mine, "ufc_sync_global_version{caller=\"batch\"}"),
            metric(text, "ufc_metad_global_version"));

  // promtool's lint, when Debian's prometheus is installed.
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    for (const std::string& body : {text, mine}) {
      const std::string file = dir.path() + "/metrics.txt";
      std::ofstream(file) << body;
      const std::string out = dir.path() + "/lint.txt";
      const int rc = std::system(
          ("/usr/bin/promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
      std::ifstream in(out);
      std::string lint((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(rc, 0) << lint;
      EXPECT_EQ(lint, "") << lint;
    }
  }
}

// A client ends its streams in order: what it queued (a NACK among them) is written, then
// it half-closes and the server finishes the call with OK; metad counts no cancel.
TEST(MetadMetricsTest, ClientsEndTheirStreamsInOrderNotByCancelling) {
  TempDir dir;
  MetadProcess metad(UFC_METAD_BIN);
  ASSERT_TRUE(metad.start({"--data_dir=" + dir.path() + "/store"}));
  const int port = metad.port_from("metrics.port");
  ASSERT_GT(port, 0);
  auto scrape = [&] {
    return testing::http_request(port, testing::get_request("/metrics", "")).body;
  };
  const std::string closed = "ufc_metad_watch_ends_total{how=\"closed\"}";
  const std::string cancelled = "ufc_metad_watch_ends_total{how=\"cancelled\"}";

  // 1. A client whose cache is ahead of this (empty) store refuses its first answer: the
  // refusal reaches metad before the stream ends.
  internal::SyncCacheContent content;
  content.global_version = 3;
  *content.config.add_services() = versioned("s0", 1001, 3);
  ASSERT_TRUE(internal::write_sync_cache(dir.path() + "/ufc.sync-cache", content).ok());
  Events events;
  ClientOptions o = sync_options(metad.address(), events);
  o.sync.all_services = true;
  o.sync.cache_dir = dir.path();
  auto refusing = Client::create(o).value();
  std::string text;
  ASSERT_TRUE(eventually(
      [&] {
        text = scrape();
        return metric(text, closed) >= 1;
      },
      absl::Seconds(15)))
      << text;
  EXPECT_GE(metric(text, "ufc_metad_nacks_total"), 1) << text;
  EXPECT_EQ(metric(text, cancelled), 0) << text;
  EXPECT_FALSE(picked(*refusing, "s0").empty());  // kept its last good config
  refusing.reset();  // it may stop before a stream started (a cancel): its ends are not counted
  ASSERT_TRUE(eventually([&] { return metric(scrape(), "ufc_metad_watchers") == 0; }));
  const double cancelled_before = metric(scrape(), cancelled);

  // 2. A client that stops while connected.
  Admin admin(metad.address());
  ASSERT_TRUE(admin.put(service("a", 1001)).ok());
  const double closed_before = metric(scrape(), closed);
  Events events2;
  ClientOptions o2 = sync_options(metad.address(), events2);
  o2.sync.services = {"a"};
  auto client = Client::create(o2).value();
  ASSERT_TRUE(client->wait_for_config("a", absl::Seconds(10)).ok());
  ASSERT_TRUE(eventually([&] { return metric(scrape(), "ufc_metad_watchers") == 1; }));
  client.reset();
  ASSERT_TRUE(eventually([&] {
    text = scrape();
    return metric(text, "ufc_metad_watchers") == 0;
  })) << text;
  EXPECT_EQ(metric(text, closed), closed_before + 1) << text;
  EXPECT_EQ(metric(text, cancelled), cancelled_before) << text;
}

}  // namespace
}  // namespace ufc
