// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/bidi_stream.h: one bidirectional gRPC stream (etcd's Watch or
// LeaseKeepAlive) driven by a CqLoop.
//
// The stream keeps one Read in flight from the moment it is open, sends queued messages one
// at a time in order, and ends exactly once with on_closed(status): after the server ended
// it, after a failed read or write, or after cancel(). gRPC's rule for Finish (no read or
// write in flight) is kept here, so owners only see the three callbacks.

#ifndef UFC_METAD_STORE_ETCD_BIDI_STREAM_H_
#define UFC_METAD_STORE_ETCD_BIDI_STREAM_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grpcpp/client_context.h"
#include "grpcpp/support/async_stream.h"
#include "grpcpp/support/status.h"
#include "metad/store/etcd/cq_loop.h"

namespace ufc::metad {

// BidiStream. Cost: one allocation per message read or written (the loop's tag). Thread-safety:
// loop thread only. The owner may destroy the stream from on_closed (it is the stream's last
// act), or any time after it.
template <typename Request, typename Response>
class BidiStream {
 public:
  using Prepare = std::function<std::unique_ptr<grpc::ClientAsyncReaderWriter<Request, Response>>(
      grpc::ClientContext*, grpc::CompletionQueue*)>;
  struct Handlers {
    std::function<void()> on_open;                       // optional
    std::function<void(const Response&)> on_read;        // each message, in order
    std::function<void(const grpc::Status&)> on_closed;  // once, last
  };

  // `prepare` calls the stub's PrepareAsync<Method>; `metadata` goes with the call.
  BidiStream(CqLoop& loop, Prepare prepare, Handlers handlers,
             std::vector<std::pair<std::string, std::string>> metadata = {})
      : loop_(loop), prepare_(std::move(prepare)), handlers_(std::move(handlers)) {
    for (auto& [key, value] : metadata) context_.AddMetadata(key, value);
  }
  BidiStream(const BidiStream&) = delete;
  BidiStream& operator=(const BidiStream&) = delete;

  void start() {
    stream_ = prepare_(&context_, loop_.cq());
    starting_ = true;
    stream_->StartCall(loop_.tag([this](bool ok) { on_started(ok); }));
  }

  // Queues `request`; it is sent after those queued before it. Dropped once the stream is
  // closing.
  void write(Request request) {
    if (closing()) return;
    queue_.push_back(std::move(request));
    flush();
  }

  // Ends the stream from our side; on_closed follows (with CANCELLED unless the server ended
  // it first).
  void cancel() {
    if (!cancelled_) {
      cancelled_ = true;
      context_.TryCancel();
    }
    maybe_finish();
  }

  bool open() const { return open_ && !closing(); }

 private:
  bool closing() const { return cancelled_ || read_done_ || finishing_; }

  void on_started(bool ok) {
    starting_ = false;
    if (!ok) {
      read_done_ = true;  // the call never opened: nothing to read
      maybe_finish();
      return;
    }
    open_ = true;
    if (cancelled_) {
      maybe_finish();
      return;
    }
    if (handlers_.on_open) handlers_.on_open();
    if (closing()) {
      maybe_finish();
      return;
    }
    read();
    flush();
  }

  void read() {
    reading_ = true;
    stream_->Read(&response_, loop_.tag([this](bool ok) { on_read(ok); }));
  }

  void on_read(bool ok) {
    reading_ = false;
    if (!ok) {
      read_done_ = true;
      maybe_finish();
      return;
    }
    if (!cancelled_) handlers_.on_read(response_);
    if (closing()) {
      maybe_finish();
      return;
    }
    read();
  }

  void flush() {
    if (!open_ || writing_ || queue_.empty() || closing()) return;
    writing_ = true;
    stream_->Write(queue_.front(), loop_.tag([this](bool ok) { on_written(ok); }));
  }

  void on_written(bool ok) {
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      // The stream is broken; cancelling makes the pending read come back too.
      cancel();
      return;
    }
    if (closing()) {
      maybe_finish();
      return;
    }
    flush();
  }

  void maybe_finish() {
    if (stream_ == nullptr || finishing_ || starting_ || reading_ || writing_) return;
    if (!cancelled_ && !read_done_) return;
    finishing_ = true;
    stream_->Finish(&status_, loop_.tag([this](bool) {
      // Moved out first: the owner may destroy this stream from the callback.
      std::function<void(const grpc::Status&)> closed = std::move(handlers_.on_closed);
      const grpc::Status status = status_;
      closed(status);
    }));
  }

  CqLoop& loop_;
  Prepare prepare_;
  Handlers handlers_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<Request, Response>> stream_;
  Response response_;
  std::deque<Request> queue_;  // the front is in flight while writing_
  grpc::Status status_;
  bool starting_ = false;
  bool open_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool read_done_ = false;
  bool cancelled_ = false;
  bool finishing_ = false;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_BIDI_STREAM_H_
