// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// SyncSource over gRPC: the ufc.v1.Meta Watch stream on a completion queue.

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "src/stats/json_writer.h"
#include "src/sync/server_rotation.h"
#include "src/sync/sync_cache.h"
#include "src/sync/sync_source.h"
#include "src/sync/watch_state.h"
#include "ufc/v1/meta.grpc.pb.h"

namespace ufc::internal {
namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxSubscriptions = 100000;
constexpr absl::Duration kTick = absl::Milliseconds(50);
constexpr int kMaxMessageBytes = 512 << 20;  // a whole fleet's first response, chunked

enum Tag : intptr_t { kStart = 1, kRead, kWrite, kWritesDone, kFinish };

// How long a stream this side closes (WritesDone) waits for the server to finish it before
// cancelling: the server answers a half-close at once, so only a hung server takes this.
constexpr absl::Duration kCloseGrace = absl::Seconds(1);
// The same while the client stops: its destructor waits for this.
constexpr absl::Duration kStopGrace = absl::Milliseconds(250);
void* tag(Tag t) { return reinterpret_cast<void*>(t); }

std::string default_client_id() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  return absl::StrCat(host, "-", ::getpid(), "-", absl::Hex(rd(), absl::kZeroPad8));
}

class GrpcSyncSource final : public SyncSource {
 public:
  explicit GrpcSyncSource(Options options)
      : options_(std::move(options)),
        client_id_(options_.sync.client_id.empty() ? default_client_id() : options_.sync.client_id),
        rotation_(options_.sync.servers, options_.self_idc, std::hash<std::string>()(client_id_)),
        rng_(std::random_device()()) {
    for (const std::string& s : options_.sync.services) subscribed_.insert(s);
    if (!options_.sync.cache_dir.empty()) {
      cache_path_ = absl::StrCat(options_.sync.cache_dir, "/",
                                 options_.self_service.empty() ? "ufc" : options_.self_service,
                                 ".sync-cache");
    }
    if (!options_.sync.tls_ca_file.empty()) {
      std::ifstream in(options_.sync.tls_ca_file, std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      tls_ca_ = s.str();
    }
  }
  ~GrpcSyncSource() override { stop(); }

  absl::Status start(ConfigSink& sink) override {
    sink_ = &sink;
    load_cache();
    if (!options_.sync.servers.empty()) thread_ = std::thread([this] { run(); });
    return absl::OkStatus();
  }

  void want(absl::string_view service) override {
    if (options_.sync.all_services || service.empty() || service.size() > kMaxNameBytes) return;
    absl::MutexLock lock(&mu_);
    if (subscribed_.size() >= kMaxSubscriptions) return;
    if (subscribed_.insert(std::string(service)).second) {
      // After an unwant() not sent yet both go, in that order (the server applies a
      // request's unsubscribes first): it forgets what it sent, and sends it afresh.
      pending_subscribe_.emplace_back(service);
    }
  }

  void unwant(absl::string_view service) override {
    const std::string name(service);
    state_.forget(name);
    if (options_.sync.all_services) return;
    absl::MutexLock lock(&mu_);
    if (subscribed_.erase(name) == 0) return;
    auto pending = std::find(pending_subscribe_.begin(), pending_subscribe_.end(), name);
    if (pending != pending_subscribe_.end()) {
      pending_subscribe_.erase(pending);  // never sent: nothing to take back
      return;
    }
    pending_unsubscribe_.push_back(name);
  }

  SyncStats stats() const override {
    const WatchState::Counters c = state_.counters();
    absl::MutexLock lock(&mu_);
    return SyncStats{connected_, state_.global(), connects_, c.nacks_sent,
                     static_cast<uint64_t>(state_.services())};
  }

  std::string status_json() const override {
    const WatchState::Counters c = state_.counters();
    absl::MutexLock lock(&mu_);
    JsonWriter w;
    w.begin_object().key("sync").begin_object();
    w.key("client_id").value(client_id_);
    w.key("server").value(server_);
    w.key("connected").value(connected_);
    w.key("global_version").value(state_.global());
    w.key("idc_map_version").value(state_.idc_map_version());
    w.key("services").value(static_cast<uint64_t>(state_.services()));
    w.key("subscribed").value(static_cast<uint64_t>(subscribed_.size()));
    w.key("all_services").value(options_.sync.all_services);
    w.key("unknown").begin_array();
    for (const std::string& u : state_.unknown()) w.value(u);
    w.end_array();
    w.key("connects").value(connects_);
    w.key("responses").value(c.responses);
    w.key("services_received").value(c.services_received);
    w.key("removals_received").value(c.removals_received);
    w.key("bytes_received").value(c.bytes_received);
    w.key("nacks_sent").value(c.nacks_sent);
    w.key("cache").value(cache_path_);
    w.key("last_error").value(last_error_);
    w.end_object().end_object();
    return w.str();
  }

  void stop() override {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
    flush_cache(/*force=*/true);
  }

 private:
  // ---- events ----
  void emit(EventType type, std::string detail, uint64_t version = 0) {
    if (!options_.on_event) return;
    Event e{type, "", version, std::move(detail), absl::Now()};
    options_.on_event(e);
  }

  bool stopping() const {
    absl::MutexLock lock(&mu_);
    return stopping_;
  }

  // ---- the cache ----
  void load_cache() {
    if (cache_path_.empty()) return;
    absl::StatusOr<SyncCacheContent> cache = read_sync_cache(cache_path_);
    if (!cache.ok()) {
      if (!absl::IsNotFound(cache.status())) {
        emit(EventType::kCacheIgnored, std::string(cache.status().message()));
      }
      return;
    }
    const uint64_t global = cache->global_version;
    const size_t cached = static_cast<size_t>(cache->config.services_size());
    absl::StatusOr<std::vector<std::string>> loaded = state_.load_cache(*std::move(cache), *sink_);
    if (!loaded.ok()) {
      emit(EventType::kCacheIgnored,
           absl::StrCat("sync cache ", cache_path_, ": ", loaded.status().message()));
      return;
    }
    if (!options_.sync.all_services) {
      absl::MutexLock lock(&mu_);
      for (const std::string& name : *loaded) subscribed_.insert(name);
    }
    emit(EventType::kCacheLoaded,
         absl::StrCat("sync cache ", cache_path_, ": ", loaded->size(),
                      " services at global version ", global,
                      loaded->size() < cached ? ", some rejected" : ""),
         global);
  }

  void flush_cache(bool force) {
    if (cache_path_.empty()) return;
    {
      absl::MutexLock lock(&mu_);
      if (!force && absl::Now() - cache_written_ < options_.sync.cache_interval) return;
    }
    std::optional<SyncCacheContent> content = state_.take_cache();
    if (!content) return;
    {
      absl::MutexLock lock(&mu_);
      cache_written_ = absl::Now();
    }
    if (absl::Status s = write_sync_cache(cache_path_, *content); !s.ok()) {
      state_.mark_dirty();  // try again later
      absl::MutexLock lock(&mu_);
      last_error_ = std::string(s.message());
    }
  }

  // ---- the loop ----
  void run() {
    absl::Duration backoff = options_.sync.backoff_min;
    std::string previous_server;
    while (!stopping()) {
      const ControlServer server = rotation_.current();
      const bool answered = run_stream(server, previous_server);
      if (stopping()) break;
      if (answered) {
        previous_server = server.address;
        backoff = options_.sync.backoff_min;
      }
      if (recheck_) {  // left a server of another IDC on purpose: ours first, no wait
        recheck_ = false;
        rotation_.restart();
        continue;
      }
      // This server is done: the next one at once, unless a whole round failed.
      const bool round_over = rotation_.failed();
      if (answered || !round_over) continue;
      // A whole round failed: wait, jittered, before the next.
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      const absl::Duration wait = backoff * jitter(rng_);
      backoff = std::min(backoff * 2, options_.sync.backoff_max);
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    }
  }

  v1::WatchRequest hello() {
    v1::WatchRequest r;
    v1::ClientIdentity* id = r.mutable_client();
    id->set_client_id(client_id_);
    id->set_self_service(options_.self_service);
    id->set_idc(options_.self_idc);
    if (!options_.sync.host.empty()) {
      id->set_host(options_.sync.host);
    } else {
      char host[256] = {0};
      ::gethostname(host, sizeof host - 1);
      id->set_host(host);
    }
    id->set_pid(static_cast<uint32_t>(::getpid()));
    id->set_process(program_invocation_short_name);  // glibc: argv[0]'s last component
    id->set_library_version("ufc");
    absl::MutexLock lock(&mu_);
    r.set_all_services(options_.sync.all_services);
    if (!options_.sync.all_services) {
      for (const std::string& s : subscribed_) r.add_subscribe(s);
    }
    pending_subscribe_.clear();
    pending_unsubscribe_.clear();
    state_.fill_hello(r);
    return r;
  }

  // One stream to `server`. True when the server answered (a first response arrived) and
  // nothing it sent was refused.
  bool run_stream(const ControlServer& server, const std::string& previous_server) {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (!tls_ca_.empty()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = tls_ca_;
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // A fresh channel per attempt: gRPC's own reconnect backoff would otherwise delay a
    // failover to this server long after it is back.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::unique_ptr<v1::Meta::Stub> stub =
        v1::Meta::NewStub(grpc::CreateCustomChannel(server.address, creds, args));
    grpc::ClientContext context;
    if (!options_.sync.token.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.sync.token));
    }
    grpc::CompletionQueue cq;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::WatchRequest, v1::WatchResponse>> stream =
        stub->PrepareAsyncWatch(&context, &cq);
    stream->StartCall(tag(kStart));
    {
      absl::MutexLock lock(&mu_);
      server_ = server.address;
      ++connects_;
    }

    std::deque<v1::WatchRequest> out;
    v1::WatchResponse response;
    // `broken`: the call is over for this side (the server ended it, or it was cancelled);
    // `closing`: this side is ending it: what is queued goes out, then WritesDone, then the
    // server's Finish is awaited (reading on), so it sees every ACK and NACK and ends the
    // call with OK; a server that does not within kCloseGrace is cancelled.
    bool writing = false, reading = false, broken = false, finishing = false, answered = false;
    bool call_started = false, start_pending = true, closing = false, writes_done = false;
    bool refused = false;  // this side refused a response (a store behind, a lying server)
    bool first_response = true;
    absl::Time close_started;
    std::string end_reason;
    grpc::Status status;
    const absl::Time started = absl::Now();
    auto write_next = [&] {
      if (writing || broken || writes_done) return;
      if (!out.empty()) {
        writing = true;
        stream->Write(out.front(), tag(kWrite));
      } else if (closing) {
        writing = true;
        writes_done = true;
        stream->WritesDone(tag(kWritesDone));
      }
    };
    // The call is over: a stream the server ended is not cancelled, so Finish gets the
    // server's status (a wrong token's UNAUTHENTICATED, say), which a cancel would replace
    // with CANCELLED.
    auto ended = [&](std::string reason) {
      if (end_reason.empty()) end_reason = std::move(reason);
      broken = true;
    };
    // Ends the call from this side at once (a server that does not answer).
    auto cancel = [&](std::string reason) {
      if (end_reason.empty()) end_reason = std::move(reason);
      if (!broken) {
        broken = true;
        context.TryCancel();
      }
    };
    // Ends the call from this side in order (see `closing`).
    auto close = [&](std::string reason) {
      if (end_reason.empty()) end_reason = std::move(reason);
      if (broken || closing) return;
      if (!call_started) {  // nothing to close in order yet
        broken = true;
        context.TryCancel();
        return;
      }
      closing = true;
      close_started = absl::Now();
      write_next();
    };
    for (;;) {
      void* got = nullptr;
      bool ok = false;
      const grpc::CompletionQueue::NextStatus next =
          cq.AsyncNext(&got, &ok, absl::ToChronoTime(absl::Now() + kTick));
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (next == grpc::CompletionQueue::GOT_EVENT) {
        switch (reinterpret_cast<intptr_t>(got)) {
          case kStart:
            start_pending = false;
            if (!ok || broken) {  // not started, or ended (stopping, no answer) meanwhile
              if (!ok) cancel("could not start the stream");
              break;
            }
            call_started = true;
            out.push_back(hello());
            write_next();
            reading = true;
            stream->Read(&response, tag(kRead));
            break;
          case kRead: {
            reading = false;
            if (!ok) {
              ended(closing ? end_reason : "the server closed the stream");
              break;
            }
            if (closing) {  // what the server sent before it saw the close: not applied
              reading = true;
              stream->Read(&response, tag(kRead));
              break;
            }
            const bool first = first_response;
            if (first_response) {
              first_response = false;
              answered = true;
              on_connected(server, previous_server);
            }
            // A refused response: its NACK goes out first (on_response queued it); then the
            // stream ends, and counts as this server failing (see run()).
            if (absl::Status s = on_response(response, out); !s.ok()) {
              refused = true;
              close(std::string(s.message()));
            } else if (first) {
              rotation_.succeeded();
            }
            write_next();
            if (!broken) {
              reading = true;
              stream->Read(&response, tag(kRead));
            }
            break;
          }
          case kWrite:
            writing = false;
            if (!ok) {  // the call is over (the server ended it, or the transport): its status
              ended("write failed");
              break;
            }
            out.pop_front();
            write_next();
            break;
          case kWritesDone:
            writing = false;
            if (!ok) ended(end_reason);
            break;
          case kFinish:
            cq.Shutdown();
            break;
        }
      }
      // Periodic work, and the end of the stream once nothing is outstanding.
      if (!broken) {
        if (stopping()) close("client stopping");
        const absl::Duration grace = stopping() ? kStopGrace : kCloseGrace;
        if (closing && absl::Now() - close_started > grace) {
          cancel(absl::StrCat(end_reason, "; the server did not end the stream within ",
                              absl::FormatDuration(grace)));
        }
        if (!answered && !closing && absl::Now() - started > options_.sync.response_timeout) {
          cancel(absl::StrCat("no answer within ",
                              absl::FormatDuration(options_.sync.response_timeout)));
        }
        if (answered && !closing && rotation_.has_preferred() && !rotation_.current_preferred() &&
            absl::Now() - started > options_.sync.prefer_recheck) {
          recheck_ = true;
          close("back to a server of the client's own IDC");
        }
        if (answered && !closing) {
          std::vector<std::string> names, dropped;
          {
            absl::MutexLock lock(&mu_);
            names.swap(pending_subscribe_);
            dropped.swap(pending_unsubscribe_);
          }
          if (!names.empty() || !dropped.empty()) {
            v1::WatchRequest r;
            for (std::string& n : names) r.add_subscribe(std::move(n));
            for (std::string& n : dropped) r.add_unsubscribe(std::move(n));
            out.push_back(std::move(r));
            write_next();
          }
        }
        flush_cache(/*force=*/false);
      }
      // Finish once nothing is outstanding, StartCall included.
      if (broken && !reading && !writing && !finishing && !start_pending) {
        finishing = true;
        stream->Finish(&status, tag(kFinish));
      }
    }
    if (!status.ok() && end_reason.find("client stopping") == std::string::npos) {
      absl::StrAppend(&end_reason, " (", status.error_message(), ")");
    }
    bool was_connected;
    {
      absl::MutexLock lock(&mu_);
      was_connected = connected_;
      connected_ = false;
      last_error_ = absl::StrCat(server.address, ": ", end_reason);
    }
    if (was_connected) {
      emit(EventType::kSyncDisconnected, absl::StrCat(server.address, ": ", end_reason));
    }
    flush_cache(/*force=*/true);
    // A server whose answer was refused is no better than one that did not answer: the
    // loop moves on, and waits once a whole round did so. (It reconnected at once, in a
    // tight loop against a store behind the client's cache.)
    return answered && !refused;
  }

  void on_connected(const ControlServer& server, const std::string& previous_server) {
    {
      absl::MutexLock lock(&mu_);
      connected_ = true;
    }
    std::string where = absl::StrCat(server.address, server.idc.empty() ? "" : " (idc ", server.idc,
                                     server.idc.empty() ? "" : ")");
    if (!previous_server.empty() && previous_server != server.address) {
      emit(EventType::kSyncFailover, absl::StrCat("from ", previous_server, " to ", where));
    } else {
      emit(EventType::kSyncConnected, where);
    }
  }

  // Applies one response and queues its ACK. An error ends the stream (after the NACK).
  absl::Status on_response(v1::WatchResponse& response, std::deque<v1::WatchRequest>& out) {
    if (!options_.sync.all_services) {
      // A service dropped (unwant) while this response was on its way is not installed
      // again.
      absl::MutexLock lock(&mu_);
      google::protobuf::RepeatedPtrField<v1::ServiceConfig>& services =
          *response.mutable_services();
      int kept = 0;
      for (int i = 0; i < services.size(); ++i) {
        if (!subscribed_.contains(services[i].name())) continue;
        if (kept != i) services.SwapElements(kept, i);
        ++kept;
      }
      services.DeleteSubrange(kept, services.size() - kept);
    }
    std::vector<std::string> names;
    for (const v1::ServiceConfig& svc : response.services()) names.push_back(svc.name());
    v1::WatchRequest ack;
    absl::Status s = state_.apply(response, *sink_, ack);
    out.push_back(std::move(ack));
    if (!options_.sync.all_services && !names.empty()) {
      // Dropped while this response was being applied (remove() raced the delivery, which
      // may have installed it again): taken out again, here, after the delivery.
      ConfigUpdate undo;
      {
        absl::MutexLock lock(&mu_);
        for (const std::string& name : names) {
          if (!subscribed_.contains(name)) undo.removals.push_back({name, 0});
        }
      }
      if (!undo.removals.empty()) {
        for (const ServiceRemoval& r : undo.removals) state_.forget(r.name);
        sink_->deliver(undo);
      }
    }
    if (!s.ok())
      emit(EventType::kConfigRejected, std::string(s.message()), response.global_version());
    return s;
  }

  const Options options_;
  const std::string client_id_;
  std::string cache_path_;
  std::string tls_ca_;
  ConfigSink* sink_ = nullptr;
  std::thread thread_;
  // The sync thread's own.
  ServerRotation rotation_;
  std::mt19937_64 rng_;
  bool recheck_ = false;
  // What the client holds from the servers (its own lock).
  WatchState state_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<std::string> subscribed_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> pending_subscribe_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> pending_unsubscribe_ ABSL_GUARDED_BY(mu_);
  absl::Time cache_written_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string server_ ABSL_GUARDED_BY(mu_);
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  uint64_t connects_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SyncSource>> SyncSource::create(Options options) {
  const SyncOptions& s = options.sync;
  for (size_t i = 0; i < s.servers.size(); ++i) {
    if (s.servers[i].address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ClientOptions.sync.servers[", i, "].address: empty"));
    }
  }
  for (size_t i = 0; i < s.services.size(); ++i) {
    if (s.services[i].empty() || s.services[i].size() > kMaxNameBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("ClientOptions.sync.services[", i, "]: a service name is 1..255 bytes"));
    }
  }
  if (s.backoff_min <= absl::ZeroDuration() || s.backoff_max < s.backoff_min) {
    return absl::InvalidArgumentError(
        "ClientOptions.sync.backoff_min/backoff_max: need 0 < backoff_min <= backoff_max");
  }
  if (s.response_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ClientOptions.sync.response_timeout: must be > 0");
  }
  if (!s.tls_ca_file.empty()) {
    std::ifstream in(s.tls_ca_file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("ClientOptions.sync.tls_ca_file: cannot read ", s.tls_ca_file));
    }
  }
  return std::unique_ptr<SyncSource>(new GrpcSyncSource(std::move(options)));
}

}  // namespace ufc::internal
