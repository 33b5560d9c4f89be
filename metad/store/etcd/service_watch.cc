// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/etcd/service_watch.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ufc::metad {

ServiceWatch::ServiceWatch(CqLoop& loop, EtcdCluster& cluster, std::string services_prefix,
                           Loader load, uint64_t after_revision, uint64_t known_quiet_until,
                           StoreWatcher watcher)
    : loop_(loop),
      cluster_(cluster),
      prefix_(std::move(services_prefix)),
      range_end_(prefix_range_end(prefix_)),
      load_(std::move(load)),
      watcher_(std::move(watcher)),
      create_timer_(loop),
      retry_timer_(loop),
      delivered_(after_revision),
      resume_after_(known_quiet_until) {}

void ServiceWatch::start() { connect(); }

void ServiceWatch::stop() {
  stopped_ = true;
  create_timer_.cancel();
  retry_timer_.cancel();
  if (stream_ != nullptr) stream_->cancel();
}

void ServiceWatch::connect() {
  if (stopped_ || loop_.stopping()) return;
  failure_.clear();
  if (need_reset_ && !reset()) {
    failed(failure_);
    return;
  }
  if (stopped_) return;  // on_reset may have stopped the store
  member_ = cluster_.preferred();
  EtcdMember& member = cluster_.member(member_);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> metadata =
      cluster_.stream_metadata(member_, absl::Now() + cluster_.timeout());
  if (!metadata.ok()) {
    failed(std::string(metadata.status().message()));
    return;
  }
  created_ = false;
  restart_now_ = false;
  stream_ = std::make_unique<Stream>(
      loop_,
      [&member](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return member.watch->PrepareAsyncWatch(context, cq);
      },
      Stream::Handlers{
          .on_read = [this](const etcdserverpb::WatchResponse& r) { on_response(r); },
          .on_closed = [this](const grpc::Status& status) { on_closed(status); },
      },
      *std::move(metadata));
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(prefix_);
  create->set_range_end(range_end_);
  create->set_start_revision(static_cast<int64_t>(std::max(delivered_, resume_after_) + 1));
  stream_->start();
  stream_->write(std::move(request));
  // A member that accepted the connection but never answers (stopped, partitioned without
  // closing it) would otherwise hold the watch until gRPC's keepalive gives up.
  create_timer_.arm(cluster_.timeout(), [this] {
    end_stream(absl::StrCat("no answer to the watch request within ",
                            absl::FormatDuration(cluster_.timeout())),
               /*restart_now=*/false);
  });
}

void ServiceWatch::end_stream(std::string why, bool restart_now) {
  if (stream_ == nullptr) return;
  if (restart_now) {
    restart_now_ = true;
  } else if (failure_.empty()) {
    failure_ = std::move(why);
  }
  stream_->cancel();
}

void ServiceWatch::on_closed(const grpc::Status& status) {
  const std::string endpoint = cluster_.member(member_).endpoint;
  stream_.reset();  // allowed: closing is the stream's last act
  create_timer_.cancel();
  cluster_.note_status(member_, status);
  if (stopped_) return;
  if (restart_now_ && failure_.empty()) {
    connect();
    return;
  }
  failed(absl::StrCat(
      endpoint, ": ",
      failure_.empty() ? absl::StrCat("watch stream ended: ", describe(status)) : failure_));
}

void ServiceWatch::failed(const std::string& why) {
  last_failure_ = why;  // the interface has no place for it; a debugger or a core has
  set_available(false);
  if (stopped_) return;
  cluster_.demote(member_);
  retry_timer_.arm(backoff_.next(random_), [this] { connect(); });
}

void ServiceWatch::set_available(bool available) {
  if (available_ == available) return;
  available_ = available;
  if (watcher_.on_availability) watcher_.on_availability(available);
}

bool ServiceWatch::reset() {
  absl::StatusOr<LoadedServices> loaded = load_();
  if (!loaded.ok()) {
    failure_ = absl::StrCat("reloading after a compaction: ", loaded.status().message());
    return false;
  }
  if (loaded->snapshot.revision < delivered_) {
    failure_ = absl::StrCat("etcd is at revision ", loaded->snapshot.revision, ", behind revision ",
                            delivered_, " already delivered");
    return false;
  }
  need_reset_ = false;
  delivered_ = loaded->snapshot.revision;
  resume_after_ = std::max(loaded->read_revision, delivered_);
  watcher_.on_reset(loaded->snapshot);
  return true;
}

void ServiceWatch::on_response(const etcdserverpb::WatchResponse& response) {
  if (stopped_) return;
  if (absl::Status same =
          cluster_.check_cluster(response.header(), cluster_.member(member_).endpoint);
      !same.ok()) {
    end_stream(std::string(same.message()), /*restart_now=*/false);
    return;
  }
  if (response.compact_revision() > 0) {
    // History before compact_revision is gone (etcd 3.4 answers the create request, then
    // this, canceled): start over from a snapshot.
    need_reset_ = true;
    end_stream("", /*restart_now=*/true);
    return;
  }
  if (response.canceled()) {
    // A token etcd stopped taking cancels the watch, with a reason that depends on the
    // version ("permission denied" on some): with auth, the next stream asks for a new one
    // whatever the reason (one Authenticate).
    if (cluster_.authenticates()) {
      cluster_.note_status(
          member_, grpc::Status(grpc::StatusCode::UNAUTHENTICATED, response.cancel_reason()));
    }
    end_stream(absl::StrCat("etcd canceled the watch", response.cancel_reason().empty() ? "" : ": ",
                            response.cancel_reason()),
               /*restart_now=*/false);
    return;
  }
  if (!created_) {
    if (!response.created()) {
      end_stream("etcd sent watch events before creating the watch", /*restart_now=*/false);
      return;
    }
    created_ = true;
    create_timer_.cancel();
    backoff_.reset();
    set_available(true);
    if (stopped_ || response.events_size() == 0) return;
  }
  if (response.fragment()) {
    end_stream("etcd sent a fragmented watch response, which was not asked for",
               /*restart_now=*/false);
    return;
  }
  if (response.events_size() > 0) deliver(response);
}

void ServiceWatch::deliver(const etcdserverpb::WatchResponse& response) {
  std::vector<StoreEvent> events;
  events.reserve(response.events_size());
  int64_t last = 0;
  bool stale = false;
  for (const mvccpb::Event& event : response.events()) {
    if (!event.has_kv()) {
      end_stream("etcd sent a watch event without a key", /*restart_now=*/false);
      return;
    }
    const mvccpb::KeyValue& kv = event.kv();
    if (!absl::StartsWith(kv.key(), prefix_)) {
      end_stream(absl::StrCat("etcd sent a watch event for key \"", absl::CHexEscape(kv.key()),
                              "\", outside ", prefix_),
                 /*restart_now=*/false);
      return;
    }
    if (event.type() != mvccpb::Event::PUT && event.type() != mvccpb::Event::DELETE) {
      end_stream(absl::StrCat("etcd sent a watch event of unknown type ", event.type()),
                 /*restart_now=*/false);
      return;
    }
    const int64_t revision = kv.mod_revision();
    if (revision <= 0 || revision < last) {
      end_stream(absl::StrCat("etcd sent watch events out of revision order (", revision, " after ",
                              last, ")"),
                 /*restart_now=*/false);
      return;
    }
    last = revision;
    if (static_cast<uint64_t>(revision) <= std::max(delivered_, resume_after_)) stale = true;
    if (kv.key().size() == prefix_.size()) continue;  // no name: not a service (load skips it)
    StoreEvent& out = events.emplace_back();
    out.name = kv.key().substr(prefix_.size());
    out.deleted = event.type() == mvccpb::Event::DELETE;
    if (!out.deleted) out.value = kv.value();
    out.revision = static_cast<uint64_t>(revision);
  }
  if (stale) {
    // Something at or below what we delivered: delivering it would repeat a revision, skipping
    // it might lose one. Start over from a snapshot.
    need_reset_ = true;
    end_stream("", /*restart_now=*/true);
    return;
  }
  const uint64_t through = static_cast<uint64_t>(last);
  delivered_ = through;
  if (!events.empty()) watcher_.on_events(events, through);
}

}  // namespace ufc::metad
