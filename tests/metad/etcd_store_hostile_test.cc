// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Integration, loopback: EtcdStore against a scripted server that speaks etcd's protocol and
// lies (keys outside the range asked for, revisions out of order or from the future, a
// repeated revision, a fragment nobody asked for, answers from another cluster). The store
// must refuse each answer with DATA_LOSS or drop the watch stream, never crash, and never
// hand its watcher a revision twice or out of order.

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "metad/store/etcd/rpc.grpc.pb.h"
#include "metad/store/etcd_store.h"

namespace ufc::metad {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

void header(etcdserverpb::ResponseHeader* h, int64_t revision, uint64_t cluster = 1) {
  h->set_cluster_id(cluster);
  h->set_revision(revision);
}

mvccpb::Event* event(etcdserverpb::WatchResponse& r, const std::string& key, int64_t revision) {
  mvccpb::Event* e = r.add_events();
  e->set_type(mvccpb::Event::PUT);
  e->mutable_kv()->set_key(key);
  e->mutable_kv()->set_value("v");
  e->mutable_kv()->set_mod_revision(revision);
  return e;
}

// What load() reads: a Txn of two ranges (the services, the revision key) at `revision`.
etcdserverpb::TxnResponse load_answer(int64_t revision, const std::vector<mvccpb::KeyValue>& kvs,
                                      int64_t marker, uint64_t cluster = 1) {
  etcdserverpb::TxnResponse txn;
  header(txn.mutable_header(), revision, cluster);
  txn.set_succeeded(true);
  etcdserverpb::RangeResponse* services = txn.add_responses()->mutable_response_range();
  for (const mvccpb::KeyValue& kv : kvs) *services->add_kvs() = kv;
  etcdserverpb::RangeResponse* key = txn.add_responses()->mutable_response_range();
  if (marker > 0) {
    key->add_kvs()->set_key("/ufc/meta/services_revision");
    key->mutable_kvs(0)->set_mod_revision(marker);
  }
  return txn;
}

mvccpb::KeyValue kv(const std::string& key, int64_t mod_revision) {
  mvccpb::KeyValue out;
  out.set_key(key);
  out.set_mod_revision(mod_revision);
  return out;
}

etcdserverpb::WatchResponse created(int64_t revision) {
  etcdserverpb::WatchResponse r;
  header(r.mutable_header(), revision);
  r.set_created(true);
  return r;
}

// KV and Watch with answers set by the test. Each Watch stream plays the next script; the
// start revision of each create request is recorded.
class LyingEtcd final : public etcdserverpb::KV::Service, public etcdserverpb::Watch::Service {
 public:
  using Script = std::vector<etcdserverpb::WatchResponse>;

  LyingEtcd() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<etcdserverpb::KV::Service*>(this));
    builder.RegisterService(static_cast<etcdserverpb::Watch::Service*>(this));
    server_ = builder.BuildAndStart();
  }
  ~LyingEtcd() override { server_->Shutdown(absl::ToChronoTime(absl::Now())); }

  std::string endpoint() const { return absl::StrCat("127.0.0.1:", port_); }

  void answer_range(etcdserverpb::RangeResponse r) {
    absl::MutexLock lock(&mu_);
    range_ = std::move(r);
  }
  void answer_txn(etcdserverpb::TxnResponse r) {
    absl::MutexLock lock(&mu_);
    txn_ = std::move(r);
  }
  void add_script(Script script) {
    absl::MutexLock lock(&mu_);
    scripts_.push_back(std::move(script));
  }
  std::vector<int64_t> starts() {
    absl::MutexLock lock(&mu_);
    return starts_;
  }

  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest*,
                     etcdserverpb::RangeResponse* response) override {
    absl::MutexLock lock(&mu_);
    *response = range_;
    return grpc::Status::OK;
  }
  grpc::Status Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest*,
                   etcdserverpb::TxnResponse* response) override {
    absl::MutexLock lock(&mu_);
    *response = txn_;
    return grpc::Status::OK;
  }
  grpc::Status Watch(grpc::ServerContext*,
                     grpc::ServerReaderWriter<etcdserverpb::WatchResponse,
                                              etcdserverpb::WatchRequest>* stream) override {
    etcdserverpb::WatchRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    Script script;
    {
      absl::MutexLock lock(&mu_);
      starts_.push_back(request.create_request().start_revision());
      if (!scripts_.empty()) {
        script = std::move(scripts_.front());
        scripts_.pop_front();
      }
    }
    for (const etcdserverpb::WatchResponse& r : script) stream->Write(r);
    while (stream->Read(&request)) {
    }  // until the client gives up on this stream
    return grpc::Status::OK;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  absl::Mutex mu_;
  etcdserverpb::RangeResponse range_ ABSL_GUARDED_BY(mu_);
  etcdserverpb::TxnResponse txn_ ABSL_GUARDED_BY(mu_);
  std::deque<Script> scripts_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> starts_ ABSL_GUARDED_BY(mu_);
};

class EtcdStoreHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EtcdStore::Options options;
    options.endpoints = {etcd_.endpoint()};
    options.server_id = "s1";
    options.call_timeout = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<EtcdStore>> made = EtcdStore::create(options);
    ASSERT_TRUE(made.ok()) << made.status();
    store_ = *std::move(made);
  }

  LyingEtcd etcd_;
  std::unique_ptr<EtcdStore> store_;
};

TEST_F(EtcdStoreHostileTest, RefusesReadsThatBreakEtcdsRules) {
  etcd_.answer_txn(load_answer(20, {kv("/elsewhere/x", 3)}, 3));
  absl::StatusOr<StoreSnapshot> loaded = store_->load();
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr("outside"));

  etcd_.answer_txn(load_answer(20, {kv("/ufc/services/a", 30)}, 3));
  EXPECT_THAT(store_->load().status().message(), HasSubstr("at mod revision 30, outside (0, 20]"));
  etcd_.answer_txn(load_answer(20, {}, 25));  // the revision key from the future
  EXPECT_EQ(store_->load().status().code(), absl::StatusCode::kDataLoss);

  etcdserverpb::TxnResponse one_range = load_answer(20, {}, 3);
  one_range.mutable_responses()->RemoveLast();
  etcd_.answer_txn(one_range);
  EXPECT_THAT(store_->load().status().message(), HasSubstr("without its two ranges"));

  etcd_.answer_txn(etcdserverpb::TxnResponse());  // no header at all
  EXPECT_THAT(store_->load().status().message(), HasSubstr("without a revision"));

  etcdserverpb::TxnResponse partial = load_answer(20, {}, 3);
  partial.mutable_responses(0)->mutable_response_range()->set_more(true);
  etcd_.answer_txn(partial);
  EXPECT_EQ(store_->load().status().code(), absl::StatusCode::kDataLoss);

  etcdserverpb::RangeResponse outside;
  header(outside.mutable_header(), 20);
  *outside.add_kvs() = kv("/ufc/services/a", 3);
  etcd_.answer_range(outside);
  absl::StatusOr<std::vector<std::string>> clients = store_->list_clients();
  EXPECT_EQ(clients.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(clients.status().message(), HasSubstr("outside \"/ufc/clients/\""));
}

TEST_F(EtcdStoreHostileTest, RefusesWritesAnsweredWithoutWhatTheyNeed) {
  etcdserverpb::TxnResponse failed_bare;  // compare failed, but no read-back of the key
  header(failed_bare.mutable_header(), 20);
  failed_bare.set_succeeded(false);
  etcd_.answer_txn(failed_bare);
  EXPECT_EQ(store_->put("a", "v", 3).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->remove("a", 3).status().code(), absl::StatusCode::kDataLoss);

  etcdserverpb::TxnResponse no_delete;  // succeeded, without the delete's result
  header(no_delete.mutable_header(), 20);
  no_delete.set_succeeded(true);
  etcd_.answer_txn(no_delete);
  EXPECT_EQ(store_->remove("a", std::nullopt).status().code(), absl::StatusCode::kDataLoss);

  etcd_.answer_txn(etcdserverpb::TxnResponse());  // no revision
  EXPECT_EQ(store_->put("a", "v", std::nullopt).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(EtcdStoreHostileTest, RefusesAnswersFromAnotherCluster) {
  etcd_.answer_txn(load_answer(20, {}, 3, /*cluster=*/1));
  ASSERT_TRUE(store_->load().ok());
  etcdserverpb::TxnResponse other;
  header(other.mutable_header(), 3, /*cluster=*/2);
  other.set_succeeded(true);
  etcd_.answer_txn(other);
  absl::StatusOr<uint64_t> put = store_->put("a", "v", std::nullopt);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(put.status().message(), HasSubstr("belongs to cluster 2, not to cluster 1"));
}

TEST_F(EtcdStoreHostileTest, AWatchThatLiesIsDroppedAndNothingIsDeliveredTwice) {
  using Script = LyingEtcd::Script;
  {
    etcdserverpb::WatchResponse backwards;
    header(backwards.mutable_header(), 12);
    event(backwards, "/ufc/services/a", 12);
    event(backwards, "/ufc/services/b", 11);
    etcd_.add_script(Script{created(10), backwards});
  }
  {
    etcdserverpb::WatchResponse outside;
    header(outside.mutable_header(), 11);
    event(outside, "/ufc/clients/s1/c", 11);
    etcd_.add_script(Script{created(10), outside});
  }
  {
    etcdserverpb::WatchResponse keyless;
    header(keyless.mutable_header(), 11);
    keyless.add_events()->set_type(mvccpb::Event::PUT);
    etcd_.add_script(Script{created(10), keyless});
  }
  {
    etcdserverpb::WatchResponse fragment;
    header(fragment.mutable_header(), 11);
    fragment.set_fragment(true);
    event(fragment, "/ufc/services/a", 11);
    etcd_.add_script(Script{created(10), fragment});
  }
  {
    etcdserverpb::WatchResponse good;
    header(good.mutable_header(), 11);
    event(good, "/ufc/services/a", 11);
    etcdserverpb::WatchResponse again = good;  // revision 11 a second time
    etcd_.add_script(Script{created(10), good, again});
  }
  {
    etcdserverpb::WatchResponse next;
    header(next.mutable_header(), 21);
    event(next, "/ufc/services/b", 21);
    etcd_.add_script(Script{created(20), next});
  }
  // The reset after the repeated revision loads this: read at 20, services last written at
  // 11; the watch resumes after 20.
  etcd_.answer_txn(load_answer(20, {kv("/ufc/services/a", 11)}, 11));

  absl::Mutex mu;
  std::vector<std::pair<std::string, uint64_t>> events;
  std::vector<uint64_t> batches, resets;
  std::vector<bool> availability;
  StoreWatcher watcher;
  watcher.on_events = [&](const std::vector<StoreEvent>& batch, uint64_t revision) {
    absl::MutexLock lock(&mu);
    for (const StoreEvent& e : batch) events.emplace_back(e.name, e.revision);
    batches.push_back(revision);
  };
  watcher.on_reset = [&](const StoreSnapshot& s) {
    absl::MutexLock lock(&mu);
    resets.push_back(s.revision);
  };
  watcher.on_availability = [&](bool up) {
    absl::MutexLock lock(&mu);
    availability.push_back(up);
  };
  ASSERT_TRUE(store_->watch(10, watcher).ok());
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    absl::MutexLock lock(&mu);
    if (events.size() >= 2) break;
    mu.Unlock();
    absl::SleepFor(absl::Milliseconds(10));
    mu.Lock();
  }
  store_->stop();
  absl::MutexLock lock(&mu);
  // Streams 1-4 are dropped before delivering anything; stream 5's event arrives, its
  // repeat forces a reset (at 11, read at 20); stream 6 resumes from 21.
  EXPECT_THAT(events, ElementsAre(std::pair{std::string("a"), uint64_t{11}},
                                  std::pair{std::string("b"), uint64_t{21}}));
  EXPECT_THAT(batches, ElementsAre(11, 21));
  EXPECT_THAT(resets, ElementsAre(11));
  EXPECT_THAT(etcd_.starts(), ElementsAre(11, 11, 11, 11, 11, 21));
  ASSERT_FALSE(availability.empty());
  EXPECT_EQ(availability.front(), false);
  EXPECT_EQ(availability.back(), true);
}

}  // namespace
}  // namespace ufc::metad
