// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/etcd_store.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "metad/store/etcd/cq_loop.h"
#include "metad/store/etcd/etcd_cluster.h"
#include "metad/store/etcd/lease_keeper.h"
#include "metad/store/etcd/rpc.grpc.pb.h"
#include "metad/store/etcd/service_watch.h"

namespace ufc::metad {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeResponse;
using etcdserverpb::TxnRequest;
using etcdserverpb::TxnResponse;
using Retry = EtcdCluster::Retry;

// etcd's defaults: --max-txn-ops 128 and --max-request-bytes 1.5 MiB (we keep a margin for
// the keys and the framing).
constexpr size_t kMaxTxnOps = 128;
constexpr size_t kMaxTxnBytes = 1 << 20;

std::string quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// The compare of put and remove: `expected` 0 is "absent" (a missing key compares as
// create_revision 0), otherwise "last written at `expected`".
void add_expected(TxnRequest& txn, const std::string& key, std::optional<uint64_t> expected) {
  if (!expected.has_value()) return;
  Compare* compare = txn.add_compare();
  compare->set_key(key);
  compare->set_result(Compare::EQUAL);
  if (*expected == 0) {
    compare->set_target(Compare::CREATE);
    compare->set_create_revision(0);
  } else {
    compare->set_target(Compare::MOD);
    compare->set_mod_revision(static_cast<int64_t>(*expected));
  }
  // When the compare fails, read the key back to say what its version is.
  txn.add_failure()->mutable_request_range()->set_key(key);
}

// The revision of an answer's header, which must be there.
absl::StatusOr<int64_t> answer_revision(const etcdserverpb::ResponseHeader& header,
                                        absl::string_view endpoint, absl::string_view what) {
  if (header.revision() <= 0) {
    return absl::DataLossError(
        absl::StrCat(what, ": etcd at ", endpoint, " answered without a revision"));
  }
  return header.revision();
}

// The revision of a write's answer, which must be there.
absl::StatusOr<uint64_t> write_revision(const EtcdAnswer<TxnResponse>& answer,
                                        absl::string_view what) {
  absl::StatusOr<int64_t> revision =
      answer_revision(answer.response.header(), answer.endpoint, what);
  if (!revision.ok()) return revision.status();
  return static_cast<uint64_t>(*revision);
}

// The key's mod revision as read by the failure branch of add_expected (0: absent).
absl::StatusOr<uint64_t> current_version(const EtcdAnswer<TxnResponse>& answer,
                                         absl::string_view what) {
  const TxnResponse& txn = answer.response;
  if (txn.responses_size() != 1 || !txn.responses(0).has_response_range()) {
    return absl::DataLossError(absl::StrCat(what, ": etcd at ", answer.endpoint,
                                            " answered a failed compare without the key's range"));
  }
  const RangeResponse& range = txn.responses(0).response_range();
  if (range.kvs_size() == 0) return 0;
  const int64_t version = range.kvs(0).mod_revision();
  if (version <= 0) {
    return absl::DataLossError(
        absl::StrCat(what, ": etcd at ", answer.endpoint, " reports mod revision ", version));
  }
  return static_cast<uint64_t>(version);
}

absl::Status mismatch(absl::string_view what, uint64_t expected, uint64_t current) {
  return absl::FailedPreconditionError(absl::StrCat(
      what, ": expected ",
      expected == 0 ? std::string("no such service") : absl::StrCat("version ", expected), ", but ",
      current == 0 ? std::string("it does not exist")
                   : absl::StrCat("the current version is ", current)));
}

// A Range over [prefix, prefix_end), read at `revision`, that keeps etcd's own rules: all of
// it (we never ask for a limit), every key inside, every mod revision in (0, revision].
absl::Status check_range(const RangeResponse& range, int64_t revision, absl::string_view prefix,
                         absl::string_view endpoint, absl::string_view what) {
  if (range.more()) {
    return absl::DataLossError(absl::StrCat(
        what, ": etcd at ", endpoint, " returned part of the range, though no limit was set"));
  }
  for (const mvccpb::KeyValue& kv : range.kvs()) {
    if (!absl::StartsWith(kv.key(), prefix)) {
      return absl::DataLossError(absl::StrCat(what, ": etcd at ", endpoint, " returned key ",
                                              quoted(kv.key()), ", outside ", quoted(prefix)));
    }
    if (kv.mod_revision() <= 0 || kv.mod_revision() > revision) {
      return absl::DataLossError(absl::StrCat(what, ": etcd at ", endpoint, " returned key ",
                                              quoted(kv.key()), " at mod revision ",
                                              kv.mod_revision(), ", outside (0, ", revision, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

struct EtcdStore::Impl {
  Impl(Options options_in, std::unique_ptr<EtcdCluster> cluster_in, int64_t ttl_seconds)
      : options(std::move(options_in)),
        services_prefix(absl::StrCat(options.key_prefix, "services/")),
        clients_prefix(absl::StrCat(options.key_prefix, "clients/")),
        own_clients_prefix(absl::StrCat(clients_prefix, options.server_id, "/")),
        revision_key(absl::StrCat(options.key_prefix, "meta/services_revision")),
        lease_ttl_seconds(ttl_seconds),
        cluster(std::move(cluster_in)) {}

  absl::StatusOr<LoadedServices> load();
  void add_revision_put(TxnRequest& txn) const {
    txn.add_success()->mutable_request_put()->set_key(revision_key);
  }
  absl::StatusOr<int64_t> grant_lease();
  absl::Status sync_clients() ABSL_EXCLUSIVE_LOCKS_REQUIRED(clients_mu);
  absl::Status write_clients(const std::vector<std::string>& ids, int64_t lease)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(clients_mu);
  absl::Status repair_lease(int64_t lost_id);
  // The loop reads it without waiting for a publish in progress.
  int64_t current_lease() const { return lease_now.load(std::memory_order_acquire); }
  void set_lease(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(clients_mu) {
    lease_id = id;
    lease_now.store(id, std::memory_order_release);
  }

  const Options options;
  const std::string services_prefix;
  const std::string clients_prefix;
  const std::string own_clients_prefix;
  // Written by every put and remove in the same Txn, so its mod revision is the revision of
  // the last service write: the global version load() reports, the same on every server
  // whatever the client registry writes in between.
  const std::string revision_key;
  const int64_t lease_ttl_seconds;

  // Declared in this order so that the loop (joined by stop() before destruction) goes after
  // the state machines that live on it, and the cluster after the loop.
  std::unique_ptr<EtcdCluster> cluster;
  CqLoop loop;
  std::unique_ptr<ServiceWatch> watch;  // set once by watch(), then used on the loop
  std::unique_ptr<LeaseKeeper> keeper;  // used on the loop

  absl::Mutex mu;
  bool watching ABSL_GUARDED_BY(mu) = false;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  LoadedServices last_load ABSL_GUARDED_BY(mu);  // only the two revisions are kept

  // The client registry. Held across the etcd calls that publish, so that publishers and the
  // loop's lease repair write one at a time.
  absl::Mutex clients_mu;
  bool clients_stopped ABSL_GUARDED_BY(clients_mu) = false;
  int64_t lease_id ABSL_GUARDED_BY(clients_mu) = 0;
  std::atomic<int64_t> lease_now{0};  // lease_id, for current_lease()
  std::map<std::string, std::string> published ABSL_GUARDED_BY(clients_mu);  // id -> status
  // Ids whose key in etcd may differ from `published` (a put or delete not yet confirmed).
  std::set<std::string> unsynced ABSL_GUARDED_BY(clients_mu);
};

absl::StatusOr<LoadedServices> EtcdStore::Impl::load() {
  // The services and the revision key, read at one revision by one read-only Txn.
  TxnRequest txn;
  etcdserverpb::RangeRequest* services = txn.add_success()->mutable_request_range();
  services->set_key(services_prefix);
  services->set_range_end(prefix_range_end(services_prefix));
  txn.add_success()->mutable_request_range()->set_key(revision_key);
  constexpr absl::string_view kWhat = "load the services";
  absl::StatusOr<EtcdAnswer<TxnResponse>> answer = cluster->call<TxnResponse>(
      kWhat, Retry::kIdempotent,
      [&](EtcdMember& member, grpc::ClientContext* context, TxnResponse* response) {
        return member.kv->Txn(context, txn, response);
      });
  if (!answer.ok()) return answer.status();
  absl::StatusOr<int64_t> read_at =
      answer_revision(answer->response.header(), answer->endpoint, kWhat);
  if (!read_at.ok()) return read_at.status();
  TxnResponse& response = answer->response;
  if (!response.succeeded() || response.responses_size() != 2 ||
      !response.responses(0).has_response_range() || !response.responses(1).has_response_range()) {
    return absl::DataLossError(absl::StrCat(kWhat, ": etcd at ", answer->endpoint,
                                            " answered the read without its two ranges"));
  }
  RangeResponse* range = response.mutable_responses(0)->mutable_response_range();
  const RangeResponse& marker = response.responses(1).response_range();
  if (absl::Status valid = check_range(*range, *read_at, services_prefix, answer->endpoint, kWhat);
      !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = check_range(marker, *read_at, revision_key, answer->endpoint, kWhat);
      !valid.ok()) {
    return valid;
  }
  LoadedServices loaded;
  loaded.read_revision = static_cast<uint64_t>(*read_at);
  StoreSnapshot& snapshot = loaded.snapshot;
  // A service written behind our back (etcdctl) moved no revision key: never report less
  // than the newest service.
  for (const mvccpb::KeyValue& kv : marker.kvs()) {
    snapshot.revision = std::max(snapshot.revision, static_cast<uint64_t>(kv.mod_revision()));
  }
  snapshot.services.reserve(range->kvs_size());
  for (mvccpb::KeyValue& kv : *range->mutable_kvs()) {
    snapshot.revision = std::max(snapshot.revision, static_cast<uint64_t>(kv.mod_revision()));
    if (kv.key().size() == services_prefix.size()) continue;  // no name: not a service
    StoredService& service = snapshot.services.emplace_back();
    service.name = kv.key().substr(services_prefix.size());
    service.value = std::move(*kv.mutable_value());
    service.mod_revision = static_cast<uint64_t>(kv.mod_revision());
  }
  return loaded;
}

absl::StatusOr<int64_t> EtcdStore::Impl::grant_lease() {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(lease_ttl_seconds);
  constexpr absl::string_view kWhat = "grant the client registry lease";
  // Repeating a grant only leaves an unused lease to expire: idempotent enough.
  absl::StatusOr<EtcdAnswer<etcdserverpb::LeaseGrantResponse>> answer =
      cluster->call<etcdserverpb::LeaseGrantResponse>(
          kWhat, Retry::kIdempotent,
          [&](EtcdMember& member, grpc::ClientContext* context,
              etcdserverpb::LeaseGrantResponse* response) {
            return member.lease->LeaseGrant(context, request, response);
          });
  if (!answer.ok()) return answer.status();
  if (!answer->response.error().empty()) {
    return absl::InternalError(
        absl::StrCat(kWhat, ": etcd at ", answer->endpoint, ": ", answer->response.error()));
  }
  if (answer->response.id() <= 0) {
    return absl::DataLossError(absl::StrCat(kWhat, ": etcd at ", answer->endpoint,
                                            " granted lease id ", answer->response.id()));
  }
  return answer->response.id();
}

absl::Status EtcdStore::Impl::write_clients(const std::vector<std::string>& ids, int64_t lease) {
  TxnRequest txn;
  for (const std::string& id : ids) {
    const std::string key = absl::StrCat(own_clients_prefix, id);
    auto it = published.find(id);
    if (it != published.end()) {
      etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
      put->set_key(key);
      put->set_value(it->second);
      put->set_lease(lease);
    } else {
      txn.add_success()->mutable_request_delete_range()->set_key(key);
    }
  }
  // Putting or deleting again leaves the same keys: safe to retry on another member.
  absl::StatusOr<EtcdAnswer<TxnResponse>> answer = cluster->call<TxnResponse>(
      absl::StrCat("publish ", ids.size(), " clients of server ", quoted(options.server_id)),
      Retry::kIdempotent,
      [&](EtcdMember& member, grpc::ClientContext* context, TxnResponse* response) {
        return member.kv->Txn(context, txn, response);
      });
  if (!answer.ok()) return answer.status();
  for (const std::string& id : ids) unsynced.erase(id);
  return absl::OkStatus();
}

absl::Status EtcdStore::Impl::sync_clients() {
  bool repaired = false;
  while (true) {
    if (unsynced.empty()) return absl::OkStatus();
    bool puts = false;
    for (const std::string& id : unsynced) puts = puts || published.count(id) > 0;
    if (puts && lease_id == 0) {
      absl::StatusOr<int64_t> lease = grant_lease();
      if (!lease.ok()) return lease.status();
      set_lease(*lease);
      loop.post([this] { keeper->kick(); });
    }
    // Batches within etcd's limits on ops and bytes per transaction.
    std::vector<std::vector<std::string>> batches(1);
    size_t bytes = 0;
    for (const std::string& id : unsynced) {
      auto it = published.find(id);
      const size_t size = own_clients_prefix.size() + id.size() +
                          (it == published.end() ? 0 : it->second.size()) + 16;
      if (!batches.back().empty() &&
          (batches.back().size() == kMaxTxnOps || bytes + size > kMaxTxnBytes)) {
        batches.emplace_back();
        bytes = 0;
      }
      batches.back().push_back(id);
      bytes += size;
    }
    absl::Status status;
    for (const std::vector<std::string>& batch : batches) {
      status = write_clients(batch, lease_id);
      if (!status.ok()) break;
    }
    // etcd says NOT_FOUND to a put under a lease it does not have: ours expired (an outage
    // longer than the TTL) or was revoked. Its keys are gone with it; put them all again
    // under a new one, once per call.
    if (absl::IsNotFound(status) && !repaired) {
      repaired = true;
      set_lease(0);
      for (const auto& [id, value] : published) unsynced.insert(id);
      continue;
    }
    return status;
  }
}

absl::Status EtcdStore::Impl::repair_lease(int64_t lost_id) {
  absl::MutexLock lock(&clients_mu);
  if (clients_stopped) return absl::OkStatus();
  // Unless someone replaced it already, the lost lease took every key with it.
  if (lost_id != 0 && (lease_id == 0 || lease_id == lost_id)) {
    set_lease(0);
    for (const auto& [id, value] : published) unsynced.insert(id);
  }
  return sync_clients();
}

EtcdStore::EtcdStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdStore::~EtcdStore() { stop(); }

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::create(Options options) {
  if (options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("call_timeout: must be positive, got ",
                                                   absl::FormatDuration(options.call_timeout)));
  }
  if (options.lease_ttl <= absl::ZeroDuration() || options.lease_ttl > absl::Hours(24 * 365)) {
    return absl::InvalidArgumentError(absl::StrCat("lease_ttl: must be in (0, 1 year], got ",
                                                   absl::FormatDuration(options.lease_ttl)));
  }
  if (options.server_id.empty() || absl::StrContains(options.server_id, '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("server_id: must be non-empty without '/', got ", quoted(options.server_id)));
  }
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster =
      EtcdCluster::create(options.endpoints, options.call_timeout, options.security);
  if (!cluster.ok()) {
    return absl::Status(cluster.status().code(),
                        absl::StrCat("endpoints: ", cluster.status().message()));
  }
  const int64_t ttl_seconds =
      static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(options.lease_ttl)));
  auto impl = std::make_unique<Impl>(std::move(options), *std::move(cluster), ttl_seconds);
  Impl* raw = impl.get();
  impl->keeper = std::make_unique<LeaseKeeper>(
      impl->loop, *impl->cluster, [raw] { return raw->current_lease(); },
      [raw](int64_t lost_id) { return raw->repair_lease(lost_id); });
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(impl)));
}

absl::StatusOr<StoreSnapshot> EtcdStore::load() {
  absl::StatusOr<LoadedServices> loaded = impl_->load();
  if (!loaded.ok()) return loaded.status();
  {
    // A watch() from this snapshot starts where the read was made (see ServiceWatch).
    absl::MutexLock lock(&impl_->mu);
    if (loaded->snapshot.revision >= impl_->last_load.snapshot.revision) {
      impl_->last_load.snapshot.revision = loaded->snapshot.revision;
      impl_->last_load.read_revision = loaded->read_revision;
    }
  }
  return std::move(loaded->snapshot);
}

absl::StatusOr<uint64_t> EtcdStore::put(absl::string_view name, absl::string_view value,
                                        std::optional<uint64_t> expected) {
  const std::string what = absl::StrCat("put service ", quoted(name));
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": empty name"));
  if (expected.has_value() &&
      *expected > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected version ", *expected, " is beyond etcd's revisions"));
  }
  const std::string key = absl::StrCat(impl_->services_prefix, name);
  TxnRequest txn;
  add_expected(txn, key, expected);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(std::string(value));
  impl_->add_revision_put(txn);
  absl::StatusOr<EtcdAnswer<TxnResponse>> answer = impl_->cluster->call<TxnResponse>(
      what, Retry::kAtMostOnce,
      [&](EtcdMember& member, grpc::ClientContext* context, TxnResponse* response) {
        return member.kv->Txn(context, txn, response);
      });
  if (!answer.ok()) return answer.status();
  absl::StatusOr<uint64_t> revision = write_revision(*answer, what);
  if (!revision.ok() || answer->response.succeeded()) return revision;
  absl::StatusOr<uint64_t> current = current_version(*answer, what);
  if (!current.ok()) return current.status();
  return mismatch(what, *expected, *current);
}

absl::StatusOr<uint64_t> EtcdStore::remove(absl::string_view name,
                                           std::optional<uint64_t> expected) {
  const std::string what = absl::StrCat("remove service ", quoted(name));
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": empty name"));
  if (expected.has_value() &&
      *expected > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected version ", *expected, " is beyond etcd's revisions"));
  }
  const std::string key = absl::StrCat(impl_->services_prefix, name);
  TxnRequest txn;
  if (expected.has_value()) {
    add_expected(txn, key, expected);
  } else {
    // Only an existing key: a delete of nothing must not move the revision key.
    Compare* exists = txn.add_compare();
    exists->set_key(key);
    exists->set_target(Compare::CREATE);
    exists->set_result(Compare::GREATER);
    exists->set_create_revision(0);
    txn.add_failure()->mutable_request_range()->set_key(key);
  }
  // expected == 0 matches only an absent service: nothing to delete.
  const bool deletes = expected != 0;
  if (deletes) {
    txn.add_success()->mutable_request_delete_range()->set_key(key);
    impl_->add_revision_put(txn);
  }
  absl::StatusOr<EtcdAnswer<TxnResponse>> answer = impl_->cluster->call<TxnResponse>(
      what, Retry::kAtMostOnce,
      [&](EtcdMember& member, grpc::ClientContext* context, TxnResponse* response) {
        return member.kv->Txn(context, txn, response);
      });
  if (!answer.ok()) return answer.status();
  absl::StatusOr<uint64_t> revision = write_revision(*answer, what);
  if (!revision.ok()) return revision;
  const TxnResponse& response = answer->response;
  if (response.succeeded()) {
    if (!deletes) return absl::NotFoundError(absl::StrCat(what, ": no such service"));
    if (response.responses_size() != 2 || !response.responses(0).has_response_delete_range()) {
      return absl::DataLossError(absl::StrCat(what, ": etcd at ", answer->endpoint,
                                              " answered without the delete's result"));
    }
    if (response.responses(0).response_delete_range().deleted() == 0) {
      return absl::DataLossError(absl::StrCat(what, ": etcd at ", answer->endpoint,
                                              " deleted nothing, though the key existed"));
    }
    return revision;
  }
  absl::StatusOr<uint64_t> current = current_version(*answer, what);
  if (!current.ok()) return current.status();
  if (*current == 0) {
    return absl::NotFoundError(absl::StrCat(
        what, ": no such service",
        expected.has_value() ? absl::StrCat(" (expected version ", *expected, ")") : ""));
  }
  if (!expected.has_value()) {
    return absl::DataLossError(absl::StrCat(what, ": etcd at ", answer->endpoint,
                                            " failed an existence compare on an existing key"));
  }
  return mismatch(what, *expected, *current);
}

absl::Status EtcdStore::watch(uint64_t after_revision, StoreWatcher watcher) {
  if (!watcher.on_events || !watcher.on_reset) {
    return absl::InvalidArgumentError("watch: the watcher needs on_events and on_reset");
  }
  if (after_revision >= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("watch: revision ", after_revision, " is beyond etcd's revisions"));
  }
  absl::MutexLock lock(&impl_->mu);
  if (impl_->stopped) return absl::FailedPreconditionError("watch: the store is stopped");
  if (impl_->watching) {
    return absl::FailedPreconditionError("watch: already watching (watch() is called once)");
  }
  Impl* impl = impl_.get();
  // The usual start, load() then watch(snapshot.revision): the load saw no service change
  // between its snapshot's revision and the one it read at.
  const uint64_t quiet_until =
      after_revision == impl->last_load.snapshot.revision ? impl->last_load.read_revision : 0;
  impl->watch = std::make_unique<ServiceWatch>(
      impl->loop, *impl->cluster, impl->services_prefix, [impl] { return impl->load(); },
      after_revision, quiet_until, std::move(watcher));
  if (!impl->loop.post([impl] { impl->watch->start(); })) {
    return absl::FailedPreconditionError("watch: the store is stopped");
  }
  impl->watching = true;
  return absl::OkStatus();
}

absl::Status EtcdStore::publish_clients(
    absl::string_view server_id, const std::vector<std::pair<std::string, std::string>>& upserts,
    const std::vector<std::string>& removed) {
  if (server_id != impl_->options.server_id) {
    return absl::InvalidArgumentError(absl::StrCat("publish_clients: server id ", quoted(server_id),
                                                   " is not this store's (",
                                                   quoted(impl_->options.server_id), ")"));
  }
  for (const auto& [id, value] : upserts) {
    if (id.empty()) return absl::InvalidArgumentError("publish_clients: empty client id");
  }
  for (const std::string& id : removed) {
    if (id.empty()) return absl::InvalidArgumentError("publish_clients: empty client id");
  }
  absl::MutexLock lock(&impl_->clients_mu);
  if (impl_->clients_stopped) {
    return absl::FailedPreconditionError("publish_clients: the store is stopped");
  }
  for (const auto& [id, value] : upserts) {
    impl_->published[id] = value;
    impl_->unsynced.insert(id);
  }
  for (const std::string& id : removed) {
    impl_->published.erase(id);
    impl_->unsynced.insert(id);
  }
  absl::Status status = impl_->sync_clients();
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    // etcd is away: the store's thread writes the rest once it is back. Other errors (a status
    // etcd refuses as too large) wait for the caller's next publish.
    Impl* impl = impl_.get();
    impl->loop.post([impl] { impl->keeper->resync_later(); });
  }
  return status;
}

absl::StatusOr<std::vector<std::string>> EtcdStore::list_clients() {
  etcdserverpb::RangeRequest request;
  request.set_key(impl_->clients_prefix);
  request.set_range_end(prefix_range_end(impl_->clients_prefix));
  constexpr absl::string_view kWhat = "list the clients";
  absl::StatusOr<EtcdAnswer<RangeResponse>> answer = impl_->cluster->call<RangeResponse>(
      kWhat, Retry::kIdempotent,
      [&](EtcdMember& member, grpc::ClientContext* context, RangeResponse* response) {
        return member.kv->Range(context, request, response);
      });
  if (!answer.ok()) return answer.status();
  absl::StatusOr<int64_t> read_at =
      answer_revision(answer->response.header(), answer->endpoint, kWhat);
  if (!read_at.ok()) return read_at.status();
  if (absl::Status valid =
          check_range(answer->response, *read_at, impl_->clients_prefix, answer->endpoint, kWhat);
      !valid.ok()) {
    return valid;
  }
  std::vector<std::string> clients;
  clients.reserve(answer->response.kvs_size());
  for (mvccpb::KeyValue& kv : *answer->response.mutable_kvs()) {
    clients.push_back(std::move(*kv.mutable_value()));
  }
  return clients;
}

void EtcdStore::stop() {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  int64_t lease = 0;
  {
    // Waits for a publish or a lease repair in progress; none starts after this.
    absl::MutexLock lock(&impl_->clients_mu);
    impl_->clients_stopped = true;
    lease = impl_->lease_id;
  }
  Impl* impl = impl_.get();
  impl->loop.stop([impl] {
    if (impl->watch != nullptr) impl->watch->stop();
    impl->keeper->stop();
  });
  if (!impl->options.revoke_lease_on_stop || lease == 0) return;
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  // Best effort: if it fails, the clients vanish when the lease expires.
  (void)impl->cluster->call<etcdserverpb::LeaseRevokeResponse>(
      "revoke the client registry lease", Retry::kIdempotent,
      [&](EtcdMember& member, grpc::ClientContext* context,
          etcdserverpb::LeaseRevokeResponse* response) {
        return member.lease->LeaseRevoke(context, request, response);
      });
}

}  // namespace ufc::metad
