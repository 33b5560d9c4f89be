// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/meta_service.h"

#include <unistd.h>

#include <algorithm>
#include <deque>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/common/listen_security.h"
#include "src/stats/prometheus_text.h"

namespace ufc::metad {
namespace {

constexpr size_t kMaxNamesPerRequest = 100000;
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxUnacked = 64;

grpc::Status to_grpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

int64_t unix_ms(absl::Time t) { return absl::ToUnixMillis(t); }

// Constant-time comparison of the bearer token.
bool token_matches(grpc::CallbackServerContext* context, const std::string& token) {
  if (token.empty()) return true;
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return false;
  const grpc::string_ref got = it->second;
  return ufc::internal::bearer_matches(std::string_view(got.data(), got.size()), token);
}

absl::Status check_names(const google::protobuf::RepeatedPtrField<std::string>& names,
                         const char* field) {
  if (static_cast<size_t>(names.size()) > kMaxNamesPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", names.size(), " names, at most ", kMaxNamesPerRequest));
  }
  for (int i = 0; i < names.size(); ++i) {
    if (names[i].empty() || names[i].size() > kMaxNameBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: a service name is 1..", kMaxNameBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// One Watch stream: the cursor, the unACKed responses, the client's freshness.
class WatchSession : public grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>,
                     public std::enable_shared_from_this<WatchSession> {
 public:
  WatchSession(MetaService& service, grpc::CallbackServerContext* context)
      : service_(service), peer_(context->peer()), connected_(absl::Now()) {}
  ~WatchSession() override {
    absl::MutexLock lock(&mu_);
    release_borrowed(response_, borrowed_);
  }

  // The reactor starts reading; `self` keeps the session alive until OnDone.
  void begin(std::shared_ptr<WatchSession> self, const grpc::Status& reject) {
    self_ = std::move(self);
    absl::MutexLock lock(&mu_);
    if (!reject.ok()) {
      finish_locked(reject);
      return;
    }
    reading_ = true;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (!ok) {  // the client closed its side or vanished
      finish_locked(grpc::Status::OK);
      return;
    }
    absl::Status s = handle_locked(request_);
    if (!s.ok()) {
      finish_locked(to_grpc(s));
      return;
    }
    if (!finished_ && !finishing_) {
      reading_ = true;
      StartRead(&request_);
    }
    write_locked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    if (finishing_) {
      finish_locked(pending_status_);
      return;
    }
    write_locked();
  }

  // The call was cancelled: by the client (an abrupt end, where a client that closes in
  // order half-closes and gets OK), its deadline, or the transport.
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  void OnDone() override {
    std::shared_ptr<WatchSession> self;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      self = std::move(self_);
      (cancelled_ ? service_.counters_.streams_cancelled : service_.counters_.streams_closed)
          .fetch_add(1, std::memory_order_relaxed);
    }
    if (registered_) service_.drop(self);
  }

  // A change in the hub (or stop): write if idle.
  void kick() {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    write_locked();
  }
  void end(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    finish_locked(status);
  }

  v1::ClientStatus status(absl::Time now) const {
    absl::MutexLock lock(&mu_);
    v1::ClientStatus s;
    *s.mutable_client() = identity_;
    s.set_server_id(service_.options().server_id);
    s.set_peer(peer_);
    s.set_all_services(cursor_.all_services);
    s.set_subscriptions(static_cast<uint32_t>(cursor_.subscribed.size()));
    s.set_applied_global(acked_global_);
    s.set_connected_unix_ms(unix_ms(connected_));
    s.set_last_ack_unix_ms(last_ack_ == absl::InfinitePast() ? 0 : unix_ms(last_ack_));
    for (const auto& [name, nack] : nacks_) *s.add_nacks() = nack;
    const bool behind = acked_global_ < cursor_.wanted || !nacks_.empty() || !ack_error_.empty();
    if (behind && behind_since_ != absl::InfiniteFuture()) {
      s.set_lag_ms(absl::ToInt64Milliseconds(now - behind_since_));
      s.set_stale(now - behind_since_ > service_.options().stale_after);
    }
    if (!ack_error_.empty()) {
      v1::Nack* n = s.add_nacks();
      n->set_error(ack_error_);
    }
    return s;
  }
  std::string client_id() const {
    absl::MutexLock lock(&mu_);
    return identity_.client_id();
  }
  bool registered() const { return registered_; }

 private:
  absl::Status handle_locked(const v1::WatchRequest& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = check_names(r.subscribe(), "subscribe"); !s.ok()) return s;
    if (absl::Status s = check_names(r.unsubscribe(), "unsubscribe"); !s.ok()) return s;
    if (static_cast<size_t>(r.have_size()) > kMaxNamesPerRequest) {
      return absl::InvalidArgumentError(absl::StrCat("have: at most ", kMaxNamesPerRequest));
    }
    if (!hello_) {
      hello_ = true;
      identity_ = r.client();
      if (identity_.client_id().empty()) identity_.set_client_id(peer_);
      cursor_.all_services = r.all_services();
      cursor_.idc_map_version = r.have_idc_map();
      acked_global_ = r.have_global();
    } else if (r.all_services() && !cursor_.all_services) {
      return absl::InvalidArgumentError("all_services: only in the first request");
    }
    for (const auto& [name, version] : r.have()) {
      if (name.empty() || name.size() > kMaxNameBytes) {
        return absl::InvalidArgumentError("have: a service name is 1..255 bytes");
      }
      if (version != 0) cursor_.sent[name] = version;
    }
    for (const std::string& name : r.unsubscribe()) {
      cursor_.subscribed.erase(name);
      if (!cursor_.all_services) cursor_.sent.erase(name);
      nacks_.erase(name);
    }
    for (const std::string& name : r.subscribe()) {
      if (cursor_.all_services) continue;
      if (cursor_.subscribed.insert(name).second) cursor_.fresh.push_back(name);
    }
    if (r.has_ack()) ack_locked(r.ack());
    if (!registered_) {
      registered_ = true;
      service_.add(shared_from_this());
    }
    return absl::OkStatus();
  }

  void ack_locked(const v1::Ack& ack) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!unacked_.empty() && unacked_.front().id < ack.response_id()) unacked_.pop_front();
    if (unacked_.empty() || unacked_.front().id != ack.response_id()) return;  // unknown id
    Sent sent = std::move(unacked_.front());
    unacked_.pop_front();
    last_ack_ = absl::Now();
    absl::flat_hash_set<std::string> nacked;
    for (const v1::Nack& n : ack.nacks()) {
      nacked.insert(n.service());
      nacks_[n.service()] = n;
      service_.counters_.nacks.fetch_add(1, std::memory_order_relaxed);
    }
    for (const std::string& name : sent.names) {
      if (!nacked.contains(name)) nacks_.erase(name);
    }
    ack_error_ = ack.error();
    if (!ack.error().empty()) {
      service_.counters_.nacks.fetch_add(1, std::memory_order_relaxed);
    } else if (ack.global_version() != 0) {
      acked_global_ = std::max(acked_global_, ack.global_version());
    }
    update_behind_locked();
  }

  void update_behind_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const bool behind = acked_global_ < cursor_.wanted || !nacks_.empty() || !ack_error_.empty();
    if (!behind) {
      behind_since_ = absl::InfiniteFuture();
    } else if (behind_since_ == absl::InfiniteFuture()) {
      behind_since_ = absl::Now();
    }
  }

  void write_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!hello_ || writing_ || finishing_ || finished_) return;
    release_borrowed(response_, borrowed_);
    response_.Clear();
    bool more = false;
    // Fault injection edits what it sends: it gets copies, everyone else borrows.
    const std::string& fault = service_.options().fault_invalid_service;
    if (!service_.hub().build(cursor_, response_, more, fault.empty() ? &borrowed_ : nullptr)) {
      return;
    }
    Sent sent;
    sent.id = next_id_++;
    for (v1::ServiceConfig& s : *response_.mutable_services()) {
      sent.names.push_back(s.name());
      if (!fault.empty() && s.name() == fault && s.endpoints_size() > 0) {
        s.mutable_endpoints(0)->set_weight(-1);  // what a broken server would send
      }
    }
    for (const v1::ServiceRemoval& r : response_.removals()) sent.names.push_back(r.name());
    // A NACK of the IDC map names its key; the next ACK of one without it clears it.
    if (response_.has_idc_map()) sent.names.push_back(std::string(kIdcMapKey));
    response_.set_response_id(sent.id);
    service_.counters_.responses.fetch_add(1, std::memory_order_relaxed);
    service_.counters_.services_sent.fetch_add(response_.services_size(),
                                               std::memory_order_relaxed);
    service_.counters_.removals_sent.fetch_add(response_.removals_size(),
                                               std::memory_order_relaxed);
    unacked_.push_back(std::move(sent));
    if (unacked_.size() > kMaxUnacked) unacked_.pop_front();
    update_behind_locked();
    writing_ = true;
    StartWrite(&response_);
  }

  void finish_locked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (writing_) {
      finishing_ = true;
      pending_status_ = status;
      return;
    }
    finished_ = true;
    Finish(status);
  }

  struct Sent {
    uint64_t id = 0;
    std::vector<std::string> names;
  };

  MetaService& service_;
  const std::string peer_;
  const absl::Time connected_;
  std::shared_ptr<WatchSession> self_;
  mutable absl::Mutex mu_;
  v1::WatchRequest request_;
  v1::WatchResponse response_ ABSL_GUARDED_BY(mu_);
  // The hub's configs response_ points at (see Hub::build's `borrowed`).
  std::vector<std::shared_ptr<const v1::ServiceConfig>> borrowed_ ABSL_GUARDED_BY(mu_);
  WatchCursor cursor_ ABSL_GUARDED_BY(mu_);
  v1::ClientIdentity identity_ ABSL_GUARDED_BY(mu_);
  bool hello_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool registered_ = false;  // set once, under mu_, before add(); read after OnDone
  grpc::Status pending_status_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Sent> unacked_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_global_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_ack_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time behind_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::map<std::string, v1::Nack> nacks_ ABSL_GUARDED_BY(mu_);
  std::string ack_error_ ABSL_GUARDED_BY(mu_);
};

MetaService::MetaService(Hub& hub, Store& store, Options options)
    : hub_(hub),
      store_(store),
      options_(std::move(options)),
      writers_(options_.writer_threads, options_.max_queued_writes) {
  if (options_.server_id.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    const_cast<std::string&>(options_.server_id) = absl::StrCat(host, ":", ::getpid());
  }
  hub_.set_on_change([this](uint64_t) { on_change(); });
}

MetaService::~MetaService() { stop(); }

void MetaService::start() {
  notifier_ = std::thread([this] { notifier_loop(); });
}

void MetaService::stop() {
  std::vector<std::shared_ptr<WatchSession>> sessions;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !notifier_.joinable()) return;
    stopping_ = true;
    sessions.assign(sessions_.begin(), sessions_.end());
  }
  for (auto& s : sessions) s->end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server stopping"));
  if (notifier_.joinable()) notifier_.join();
  writers_.stop();
}

void MetaService::on_change() {
  absl::MutexLock lock(&mu_);
  changed_ = true;
}

void MetaService::notifier_loop() {
  absl::Time next_publish = absl::Now() + options_.publish_interval;
  for (;;) {
    std::vector<std::shared_ptr<WatchSession>> sessions;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return changed_ || stopping_; };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_publish);
      if (stopping_) return;
      if (changed_) {
        changed_ = false;
        sessions.assign(sessions_.begin(), sessions_.end());
      }
    }
    kick_all(sessions);
    if (absl::Now() >= next_publish) {
      if (store_.shares_clients()) publish_clients();
      next_publish = absl::Now() + options_.publish_interval;
    }
  }
}

void MetaService::kick_all(const std::vector<std::shared_ptr<WatchSession>>& sessions) {
  // Each kick builds and starts one write (gRPC serializes and hands it to the transport
  // on this thread): with thousands of watchers, spread over the cores.
  constexpr size_t kPerThread = 512;
  const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()),
                                          (sessions.size() + kPerThread - 1) / kPerThread);
  if (threads <= 1) {
    for (const auto& s : sessions) s->kick();
    return;
  }
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    helpers.emplace_back([&sessions, t, threads] {
      for (size_t i = t; i < sessions.size(); i += threads) sessions[i]->kick();
    });
  }
  for (size_t i = 0; i < sessions.size(); i += threads) sessions[i]->kick();
  for (std::thread& h : helpers) h.join();
}

void MetaService::add(std::shared_ptr<WatchSession> session) {
  absl::MutexLock lock(&mu_);
  sessions_.insert(std::move(session));
}

void MetaService::drop(const std::shared_ptr<WatchSession>& session) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(session);
}

v1::ListClientsResponse MetaService::local_clients() const {
  std::vector<std::shared_ptr<WatchSession>> sessions;
  {
    absl::MutexLock lock(&mu_);
    sessions.assign(sessions_.begin(), sessions_.end());
  }
  v1::ListClientsResponse response;
  response.set_global_version(hub_.revision());
  const absl::Time now = absl::Now();
  for (auto& s : sessions) *response.add_clients() = s->status(now);
  return response;
}

void MetaService::publish_clients() {
  v1::ListClientsResponse mine = local_clients();
  std::vector<std::pair<std::string, std::string>> upserts;
  absl::flat_hash_set<std::string> now_ids;
  for (const v1::ClientStatus& c : mine.clients()) {
    now_ids.insert(c.client().client_id());
    upserts.emplace_back(c.client().client_id(), c.SerializeAsString());
  }
  std::vector<std::string> removed;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : published_) {
      if (!now_ids.contains(id)) removed.push_back(id);
    }
  }
  if (store_.publish_clients(options_.server_id, upserts, removed).ok()) {
    absl::MutexLock lock(&mu_);
    published_ = std::move(now_ids);
  }
}

void MetaService::Latency::add(absl::Duration d, bool ok) {
  const int64_t us = absl::ToInt64Microseconds(d);
  buckets[internal::latency_bucket(us)].fetch_add(1, std::memory_order_relaxed);
  sum_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, us)), std::memory_order_relaxed);
  if (!ok) errors.fetch_add(1, std::memory_order_relaxed);
}

std::string MetaService::metrics_text() const {
  using internal::MetricFamily;
  const Counters c = counters();
  const v1::ListServicesResponse services = hub_.list();
  const v1::ListClientsResponse clients = local_clients();
  MetricFamily version("ufc_metad_global_version", "gauge", "The store's global version.");
  version.add("", services.global_version());
  MetricFamily count("ufc_metad_services", "gauge", "Services stored.");
  count.add("", static_cast<uint64_t>(services.services_size()));
  MetricFamily info("ufc_metad_service_info", "gauge", "A stored service, with its tier.");
  std::string labels;
  for (const v1::ServiceSummary& s : services.services()) {
    labels.clear();
    internal::append_label(labels, "service", s.name());
    internal::append_label(labels, "tier", s.tier().empty() ? "unset" : s.tier());
    info.add(labels, uint64_t{1});
  }
  MetricFamily available("ufc_metad_store_available", "gauge",
                         "1 while the store answers (0: serving the last snapshot).");
  available.add("", uint64_t{hub_.store_available() ? 1u : 0u});
  MetricFamily watchers("ufc_metad_watchers", "gauge", "Watch streams open on this server.");
  watchers.add("", c.watchers);
  uint64_t stale = 0;
  for (const v1::ClientStatus& s : clients.clients()) stale += s.stale() ? 1 : 0;
  MetricFamily stale_f("ufc_metad_stale_watchers", "gauge",
                       "Watchers behind the global version for longer than --stale_after.");
  stale_f.add("", stale);
  MetricFamily pushes("ufc_metad_pushes_total", "counter", "WatchResponses sent.");
  pushes.add("", c.responses);
  MetricFamily sent("ufc_metad_services_sent_total", "counter", "Services in them.");
  sent.add("", c.services_sent);
  MetricFamily removals("ufc_metad_removals_sent_total", "counter", "Removals in them.");
  removals.add("", c.removals_sent);
  MetricFamily nacks("ufc_metad_nacks_total", "counter", "NACKs received from clients.");
  nacks.add("", c.nacks);
  MetricFamily ends("ufc_metad_watch_ends_total", "counter",
                    "Watch streams ended: closed in order (the client half-closed, or the "
                    "server ended it) or cancelled (the client vanished or cut the call).");
  ends.add("", "how", "closed", c.streams_closed);
  ends.add("", "how", "cancelled", c.streams_cancelled);
  MetricFamily latency("ufc_metad_store_operation_seconds", "histogram",
                       "Put and Delete latency: validation and the store's write.");
  int64_t bounds[internal::kLatencyBuckets - 1];
  for (int i = 0; i < internal::kLatencyBuckets - 1; ++i) {
    bounds[i] = internal::latency_bucket_bound_us(i);
  }
  latency.set_bucket_bounds(bounds, internal::kLatencyBuckets - 1);
  MetricFamily errors("ufc_metad_store_operation_errors_total", "counter",
                      "Puts and Deletes refused (invalid, conflicting) or failed.");
  for (const auto& [op, l] : {std::pair<const char*, const Latency*>{"put", &put_latency_},
                              {"delete", &delete_latency_}}) {
    uint64_t b[internal::kLatencyBuckets];
    for (int i = 0; i < internal::kLatencyBuckets; ++i) {
      b[i] = l->buckets[i].load(std::memory_order_relaxed);
    }
    labels.clear();
    internal::append_label(labels, "op", op);
    latency.add_histogram(labels, b, l->sum_us.load(std::memory_order_relaxed));
    errors.add(labels, l->errors.load(std::memory_order_relaxed));
  }
  std::string out;
  for (const MetricFamily* m : {&version, &count, &info, &available, &watchers, &stale_f, &pushes,
                                &sent, &removals, &nacks, &ends, &latency, &errors}) {
    if (!m->empty()) m->append_to(out);
  }
  return out;
}

MetaService::Counters MetaService::counters() const {
  Counters c;
  {
    absl::MutexLock lock(&mu_);
    c.watchers = sessions_.size();
  }
  c.responses = counters_.responses.load(std::memory_order_relaxed);
  c.services_sent = counters_.services_sent.load(std::memory_order_relaxed);
  c.removals_sent = counters_.removals_sent.load(std::memory_order_relaxed);
  c.nacks = counters_.nacks.load(std::memory_order_relaxed);
  c.streams_closed = counters_.streams_closed.load(std::memory_order_relaxed);
  c.streams_cancelled = counters_.streams_cancelled.load(std::memory_order_relaxed);
  return c;
}

grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>* MetaService::Watch(
    grpc::CallbackServerContext* context) {
  auto session = std::make_shared<WatchSession>(*this, context);
  grpc::Status reject = grpc::Status::OK;
  if (!token_matches(context, options_.watch_token)) {
    reject = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Watch: bad or missing token");
  } else {
    absl::MutexLock lock(&mu_);
    if (stopping_) reject = grpc::Status(grpc::StatusCode::UNAVAILABLE, "server stopping");
  }
  WatchSession* raw = session.get();
  raw->begin(std::move(session), reject);
  return raw;
}

namespace {
// Runs an admin call: the token check, then `body`'s status.
template <typename Body>
grpc::ServerUnaryReactor* admin(grpc::CallbackServerContext* context, const std::string& token,
                                Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!token_matches(context, token)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad or missing token"));
    return reactor;
  }
  reactor->Finish(to_grpc(body()));
  return reactor;
}

// An admin write: the token check here, `body` on the writer pool (it waits for the store),
// which finishes the call. `body` must hold no reference to the handler's locals.
template <typename Body>
grpc::ServerUnaryReactor* admin_write(grpc::CallbackServerContext* context,
                                      const std::string& token, WriterPool& pool, Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!token_matches(context, token)) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad or missing token"));
    return reactor;
  }
  // The pool outlives the call: stop() runs what is queued before the server shuts down.
  absl::Status posted = pool.post([reactor, body = std::move(body)](bool run) mutable {
    reactor->Finish(run ? to_grpc(body())
                        : grpc::Status(grpc::StatusCode::UNAVAILABLE, "server stopping"));
  });
  if (!posted.ok()) reactor->Finish(to_grpc(posted));
  return reactor;
}
}  // namespace

grpc::ServerUnaryReactor* MetaService::PutService(grpc::CallbackServerContext* context,
                                                  const v1::PutServiceRequest* request,
                                                  v1::PutServiceResponse* response) {
  return admin_write(context, options_.admin_token, writers_,
                     [this, request, response]() -> absl::Status {
                       const absl::Time start = absl::Now();
                       absl::StatusOr<v1::PutServiceResponse> r = hub_.put(*request);
                       put_latency_.add(absl::Now() - start, r.ok());
                       if (!r.ok()) return r.status();
                       *response = *std::move(r);
                       return absl::OkStatus();
                     });
}

grpc::ServerUnaryReactor* MetaService::GetService(grpc::CallbackServerContext* context,
                                                  const v1::GetServiceRequest* request,
                                                  v1::GetServiceResponse* response) {
  return admin(context, options_.admin_token, [&]() -> absl::Status {
    absl::StatusOr<v1::GetServiceResponse> r = hub_.get(request->name());
    if (!r.ok()) return r.status();
    *response = *std::move(r);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetaService::DeleteService(grpc::CallbackServerContext* context,
                                                     const v1::DeleteServiceRequest* request,
                                                     v1::DeleteServiceResponse* response) {
  return admin_write(context, options_.admin_token, writers_,
                     [this, request, response]() -> absl::Status {
                       const absl::Time start = absl::Now();
                       absl::StatusOr<v1::DeleteServiceResponse> r = hub_.remove(*request);
                       delete_latency_.add(absl::Now() - start, r.ok());
                       if (!r.ok()) return r.status();
                       *response = *std::move(r);
                       return absl::OkStatus();
                     });
}

grpc::ServerUnaryReactor* MetaService::ListServices(grpc::CallbackServerContext* context,
                                                    const v1::ListServicesRequest* request,
                                                    v1::ListServicesResponse* response) {
  return admin(context, options_.admin_token, [&]() -> absl::Status {
    *response = hub_.list();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetaService::ListClients(grpc::CallbackServerContext* context,
                                                   const v1::ListClientsRequest* request,
                                                   v1::ListClientsResponse* response) {
  return admin(context, options_.admin_token, [&]() -> absl::Status {
    absl::StatusOr<v1::ListClientsResponse> all = fleet_clients();
    // The store is away: what this server knows.
    *response = all.ok() ? *std::move(all) : local_clients();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetaService::PutIdcMap(grpc::CallbackServerContext* context,
                                                 const v1::PutIdcMapRequest* request,
                                                 v1::PutIdcMapResponse* response) {
  return admin_write(context, options_.admin_token, writers_,
                     [this, request, response]() -> absl::Status {
                       const absl::Time start = absl::Now();
                       absl::StatusOr<v1::PutIdcMapResponse> r = hub_.put_idc_map(*request);
                       put_latency_.add(absl::Now() - start, r.ok());
                       if (!r.ok()) return r.status();
                       *response = *std::move(r);
                       return absl::OkStatus();
                     });
}

grpc::ServerUnaryReactor* MetaService::GetIdcMap(grpc::CallbackServerContext* context,
                                                 const v1::GetIdcMapRequest* request,
                                                 v1::IdcMap* response) {
  return admin(context, options_.admin_token, [&]() -> absl::Status {
    *response = hub_.idc_map();
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ListClientsResponse> MetaService::fleet_clients() const {
  if (!store_.shares_clients()) return local_clients();
  // The whole fleet, as every server last published it; this server's own, live.
  absl::StatusOr<std::vector<std::string>> all = store_.list_clients();
  if (!all.ok()) return all.status();
  v1::ListClientsResponse response = local_clients();
  response.set_global_version(hub_.revision());
  for (const std::string& bytes : *all) {
    v1::ClientStatus c;
    if (!c.ParseFromString(bytes) || c.server_id() == options_.server_id) continue;
    *response.add_clients() = std::move(c);
  }
  return response;
}

}  // namespace ufc::metad
