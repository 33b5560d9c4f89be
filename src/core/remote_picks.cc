// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/remote_picks.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/stats/json_writer.h"
#include "ufc/refusal.h"

namespace ufc::internal {
namespace {

// The outcome a record holds, as the agent classifies it again: the class is what the
// record kept of it (an HTTP 404 is forwarded as a 400).
Outcome outcome_of(OutcomeClass cls, absl::Duration latency) {
  switch (cls) {
    case OutcomeClass::kSuccess:
      return Outcome::ok(latency);
    case OutcomeClass::kClientError:
      return Outcome::http(400, latency);
    case OutcomeClass::kServerError:
      return Outcome::http(500, latency);
    default:  // the transport failures, in Transport's order
      return Outcome::transport_error(
          static_cast<Transport>(static_cast<int>(cls) -
                                 static_cast<int>(OutcomeClass::kConnectRefused) +
                                 static_cast<int>(Transport::kConnectRefused)),
          latency);
  }
}

// The agent's endpoint as an identity; false for one that could not have come from a
// config (the agent is confused or lying: its choice is not used).
bool identity_of(const AgentPick& pick, EndpointIdentity& id) {
  const std::string& address = pick.address;
  const std::string& host = pick.host;
  if (host.empty() || host.size() > 253 || address.size() > 512 || pick.port == 0) return false;
  const size_t begin = !address.empty() && address[0] == '[' ? 1 : 0;
  if (address.compare(begin, host.size(), host) != 0) return false;
  id.address = address;
  id.host_begin = static_cast<uint16_t>(begin);
  id.host_size = static_cast<uint16_t>(host.size());
  id.port = pick.port;
  id.tags = std::make_shared<const std::vector<Tag>>(pick.tags);
  return true;
}

}  // namespace

static_assert(static_cast<int>(OutcomeClass::kReadFailed) -
                      static_cast<int>(OutcomeClass::kConnectRefused) ==
                  static_cast<int>(Transport::kReadFailed) -
                      static_cast<int>(Transport::kConnectRefused),
              "outcome_of maps the transport classes onto Transport in order");

RemotePicks::RemotePicks(std::unique_ptr<BackupAgents> agents, absl::Duration poll)
    : agents_(std::move(agents)), poll_(poll), thread_([this] { run(); }) {}

RemotePicks::~RemotePicks() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
  // What was reported by now still reaches its agent, within kFinalForwarding in all.
  poll_once(absl::Now() + kFinalForwarding, /*last=*/true);
  absl::MutexLock lock(&mu_);
  out_.clear();  // the rest: their Picks keep the endpoints until they go
}

absl::StatusOr<RemotePicks::Choice> RemotePicks::pick(const PickRequest& request, uint32_t shard) {
  absl::StatusOr<AgentPick> got = agents_->pick(request);
  if (!got.ok()) {
    (refusal_of(got.status()) != Refusal::kNone ? refused_ : unanswered_)
        .fetch_add(1, std::memory_order_relaxed);
    return got.status();
  }
  Choice choice;
  if (got->fault.abort_status != 0) {  // an injected abort: no backend, nothing to report
    picks_.fetch_add(1, std::memory_order_relaxed);
    choice.pick = *std::move(got);
    return choice;
  }
  EndpointIdentity id;
  if (!identity_of(*got, id)) {
    unanswered_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnavailableError(absl::StrCat(
        "backup agent ", got->agent, " answered a malformed endpoint \"", got->address, "\""));
  }
  EndpointRef endpoint = EndpointRef::adopt(new Endpoint(std::move(id)));  // live: picked now
  choice.endpoint = endpoint.get();
  // Counted before the thread can see it: a pick out is never taken for a released one.
  choice.hold = endpoint->on_pick(shard);
  choice.shard = shard;
  {
    absl::MutexLock lock(&mu_);
    AgentPick kept;
    kept.ticket = got->ticket;
    kept.agent = got->agent;
    out_.push_back(Out{std::move(endpoint), std::move(kept)});
  }
  picks_.fetch_add(1, std::memory_order_relaxed);
  choice.pick = *std::move(got);
  return choice;
}

void RemotePicks::run() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    if (out_.empty()) {
      mu_.Await(absl::Condition(this, &RemotePicks::woken));
      continue;
    }
    mu_.AwaitWithTimeout(absl::Condition(&stop_), poll_);
    if (stop_) break;
    mu_.Unlock();
    poll_once();
    mu_.Lock();
  }
}

void RemotePicks::poll_once(absl::Time give_up, bool last) {
  struct Ready {
    AgentPick pick;
    Outcome outcome;
  };
  std::vector<Ready> ready;
  std::vector<EndpointRef> done;  // let go outside the lock
  {
    absl::MutexLock lock(&mu_);
    std::vector<Out> still;
    for (Out& o : out_) {
      const Endpoint& e = *o.endpoint;
      bool finished = false;
      if (e.requests() != 0) {
        // Reported. The record's latency is stored after its count: it is read once the
        // Pick is let go (the release orders the report's stores before it), or, for a
        // Pick kept long after its report, kLatePolls later.
        if (last || e.holders() == 0 || ++o.polls_reported >= kLatePolls) {
          OutcomeClass cls = OutcomeClass::kSuccess;
          for (int c = 0; c < kOutcomeClassCount; ++c) {
            if (e.count(static_cast<OutcomeClass>(c)) != 0) cls = static_cast<OutcomeClass>(c);
          }
          ready.push_back(
              Ready{std::move(o.pick), outcome_of(cls, absl::Microseconds(e.latency_sum_us()))});
          finished = true;
        }
      } else if (e.holders() == 0 && e.requests() == 0) {
        // Released unreported (acquire: a report made before the release shows).
        unreported_.fetch_add(1, std::memory_order_relaxed);
        finished = true;
      }
      if (finished) {
        done.push_back(std::move(o.endpoint));
      } else {
        still.push_back(std::move(o));
      }
    }
    out_.swap(still);
  }
  for (const Ready& r : ready) {
    const bool sent = absl::Now() < give_up && agents_->report(r.pick, r.outcome).ok();
    (sent ? forwarded_ : lost_).fetch_add(1, std::memory_order_relaxed);
  }
}

RemotePicks::Stats RemotePicks::stats() const {
  Stats s;
  s.picks = picks_.load(std::memory_order_relaxed);
  s.refused = refused_.load(std::memory_order_relaxed);
  s.unanswered = unanswered_.load(std::memory_order_relaxed);
  s.forwarded = forwarded_.load(std::memory_order_relaxed);
  s.lost = lost_.load(std::memory_order_relaxed);
  s.unreported = unreported_.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  s.out = out_.size();
  return s;
}

std::string RemotePicks::status_json() const {
  const Stats s = stats();
  JsonWriter w;
  w.begin_object().key("backup").begin_object();
  w.key("picks").value(s.picks).key("refused").value(s.refused);
  w.key("unanswered").value(s.unanswered).key("forwarded").value(s.forwarded);
  w.key("lost").value(s.lost).key("unreported").value(s.unreported).key("out").value(s.out);
  w.end_object().end_object();
  return w.str();
}

}  // namespace ufc::internal
