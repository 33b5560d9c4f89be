// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/etcd/lease_keeper.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace ufc::metad {

LeaseKeeper::LeaseKeeper(CqLoop& loop, EtcdCluster& cluster, Current current, Repair repair)
    : loop_(loop),
      cluster_(cluster),
      current_(std::move(current)),
      repair_(std::move(repair)),
      tick_timer_(loop),
      answer_timer_(loop),
      retry_timer_(loop),
      repair_timer_(loop) {}

void LeaseKeeper::kick() {
  if (stopped_) return;
  if (stream_ == nullptr) {
    if (!retry_timer_.armed()) connect();  // else the reconnection will pick the lease up
    return;
  }
  send();
}

void LeaseKeeper::resync_later() {
  if (stopped_ || repair_timer_.armed()) return;  // a repair is already due: it writes too
  repair_timer_.arm(repair_backoff_.next(random_), [this] { lost(0); });
}

void LeaseKeeper::stop() {
  stopped_ = true;
  tick_timer_.cancel();
  answer_timer_.cancel();
  retry_timer_.cancel();
  repair_timer_.cancel();
  if (stream_ != nullptr) stream_->cancel();
}

void LeaseKeeper::connect() {
  if (stopped_ || loop_.stopping() || current_() == 0) return;
  member_ = cluster_.preferred();
  EtcdMember& member = cluster_.member(member_);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> metadata =
      cluster_.stream_metadata(member_, absl::Now() + cluster_.timeout());
  if (!metadata.ok()) {
    cluster_.demote(member_);
    retry_timer_.arm(backoff_.next(random_), [this] { connect(); });
    return;
  }
  stream_ = std::make_unique<Stream>(
      loop_,
      [&member](grpc::ClientContext* context, grpc::CompletionQueue* cq) {
        return member.lease->PrepareAsyncLeaseKeepAlive(context, cq);
      },
      Stream::Handlers{
          .on_read = [this](const etcdserverpb::LeaseKeepAliveResponse& r) { on_response(r); },
          .on_closed =
              [this](const grpc::Status& status) {
                cluster_.note_status(member_, status);
                on_closed();
              },
      },
      *std::move(metadata));
  stream_->start();
  send();
}

void LeaseKeeper::send() {
  tick_timer_.cancel();
  const int64_t id = current_();
  if (id == 0 || stream_ == nullptr) return;
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  in_flight_.push_back(id);
  stream_->write(std::move(request));
  if (!answer_timer_.armed()) {
    // A member that takes keepalives without answering would let the lease expire quietly.
    answer_timer_.arm(cluster_.timeout(), [this] { end_stream(); });
  }
}

void LeaseKeeper::end_stream() {
  if (stream_ != nullptr) stream_->cancel();
}

void LeaseKeeper::on_response(const etcdserverpb::LeaseKeepAliveResponse& response) {
  if (stopped_) return;
  if (!cluster_.check_cluster(response.header(), cluster_.member(member_).endpoint).ok() ||
      in_flight_.empty() || response.id() != in_flight_.front()) {
    end_stream();  // not an answer to what we asked: try another member
    return;
  }
  in_flight_.pop_front();
  answer_timer_.cancel();
  if (!in_flight_.empty()) answer_timer_.arm(cluster_.timeout(), [this] { end_stream(); });
  backoff_.reset();
  if (response.id() != current_()) return;  // about a lease already replaced
  if (response.ttl() <= 0) {
    lost(response.id());
    return;
  }
  if (in_flight_.empty()) {
    const absl::Duration every =
        std::max(absl::Milliseconds(200), absl::Seconds(response.ttl()) / 3);
    tick_timer_.arm(every, [this] { send(); });
  }
}

void LeaseKeeper::on_closed() {
  stream_.reset();  // allowed: closing is the stream's last act
  in_flight_.clear();
  tick_timer_.cancel();
  answer_timer_.cancel();
  if (stopped_) return;
  cluster_.demote(member_);
  retry_timer_.arm(backoff_.next(random_), [this] { connect(); });
}

void LeaseKeeper::lost(int64_t id) {
  const absl::Status repaired = repair_(id);
  if (stopped_) return;
  if (!repaired.ok()) {
    repair_timer_.arm(repair_backoff_.next(random_), [this, id] { lost(id); });
    return;
  }
  repair_backoff_.reset();
  if (stream_ == nullptr) {
    if (!retry_timer_.armed()) connect();
  } else {
    send();
  }
}

}  // namespace ufc::metad
