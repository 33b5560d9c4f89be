// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/etcd/etcd_cluster.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace ufc::metad {
namespace {

// A lying or runaway member cannot make us allocate more than this for one answer. etcd
// itself sends at most --max-request-bytes (1.5 MiB) per request, but a range or a watch
// batch of many keys is larger; 128 MiB holds every service config UFC's limits allow.
constexpr int kMaxReceiveBytes = 128 << 20;

struct Endpoint {
  std::string target;  // host:port
  bool tls = false;
};

absl::StatusOr<Endpoint> parse_endpoint(absl::string_view endpoint, bool tls) {
  absl::string_view rest = endpoint;
  Endpoint out;
  out.tls = tls;
  if (absl::ConsumePrefix(&rest, "https://")) {
    out.tls = true;
  } else if (absl::ConsumePrefix(&rest, "http://") && tls) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd endpoint \"", endpoint, "\": plaintext, but TLS is asked for (a CA or certificate)"));
  }
  absl::ConsumeSuffix(&rest, "/");
  const size_t colon = rest.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd endpoint \"", endpoint, "\": want host:port"));
  }
  out.target = std::string(rest);
  return out;
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& target, bool tls,
                                            const EtcdSecurity& security) {
  grpc::ChannelArguments args;
  // Find a restarted member within a second instead of gRPC's default of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // gRPC reads this as the connection attempt's timeout (default 20 s). A member that is
  // starting listens before it serves: a connection made then hangs in the HTTP/2 handshake
  // until this gives up.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  // Notice a member that vanished without closing the connection. etcd refuses pings more
  // often than every 5 s (--grpc-keepalive-min-time) and pings while no call is open.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Two stores in one process (tests, or two roles) do not share connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = security.ca_pem;
    ssl.pem_private_key = security.key_pem;
    ssl.pem_cert_chain = security.cert_pem;
    creds = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(target, creds, args);
}

// etcd's answers to a call whose token it does not take (rpctypes.ErrGRPCInvalidAuthToken,
// ErrGRPCAuthOldRevision): refused before any proposal, so safe to repeat with a new one.
// Also "user name is empty": a call without a token once auth is on (enabled after this
// member answered that it was off).
bool token_refused(const grpc::Status& status) {
  const std::string& message = status.error_message();
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         absl::StrContains(message, "invalid auth token") ||
         absl::StrContains(message, "revision of auth store is old") ||
         absl::StrContains(message, "user name is empty");
}

// etcd's answer to Authenticate while its auth is off (rpctypes.ErrGRPCAuthNotEnabled): the
// calls need no token, as etcd's clientv3 reads it.
bool auth_not_enabled(const grpc::Status& status) {
  return absl::StrContains(status.error_message(), "authentication is not enabled");
}

enum class Outcome {
  kFinal,      // etcd's answer: give it to the caller
  kTryNext,    // not applied (or harmless to repeat): try another member
  kAmbiguous,  // a write that may have been applied: stop
};

// etcd's errors that say the request was refused before it was proposed.
bool refused_before_proposal(const grpc::Status& status) {
  const std::string& message = status.error_message();
  return message == "etcdserver: no leader" || message == "etcdserver: not capable" ||
         message == "etcdserver: rpc not supported for learner";
}

Outcome classify(const grpc::Status& status, EtcdCluster::Retry retry, bool connected_before,
                 bool connected_after) {
  const grpc::StatusCode code = status.error_code();
  if (code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Outcome::kFinal;
  }
  if (retry == EtcdCluster::Retry::kIdempotent) return Outcome::kTryNext;
  if (refused_before_proposal(status)) return Outcome::kTryNext;
  // Never connected during the attempt: the request never left this process.
  if (!connected_before && !connected_after) return Outcome::kTryNext;
  return Outcome::kAmbiguous;
}

}  // namespace

std::string describe(const grpc::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      ": ", status.error_message());
}

std::string prefix_range_end(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::create(
    const std::vector<std::string>& endpoints, absl::Duration timeout, EtcdSecurity security) {
  if (endpoints.empty()) return absl::InvalidArgumentError("etcd: no endpoints given");
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd: call timeout must be positive, got ", absl::FormatDuration(timeout)));
  }
  if (security.cert_pem.empty() != security.key_pem.empty()) {
    return absl::InvalidArgumentError(
        "etcd: a client certificate needs its key, and a key its certificate");
  }
  if (security.user.empty() && !security.password.empty()) {
    return absl::InvalidArgumentError("etcd: a password without a user");
  }
  if (!security.ca_pem.empty() || !security.cert_pem.empty()) security.tls = true;
  std::vector<std::unique_ptr<EtcdMember>> members;
  for (const std::string& endpoint : endpoints) {
    absl::StatusOr<Endpoint> target = parse_endpoint(endpoint, security.tls);
    if (!target.ok()) return target.status();
    for (const auto& member : members) {
      if (member->endpoint == target->target) {
        return absl::InvalidArgumentError(
            absl::StrCat("etcd endpoint \"", endpoint, "\" is given twice"));
      }
    }
    auto member = std::make_unique<EtcdMember>();
    member->endpoint = std::move(target->target);
    member->tls = target->tls;
    member->channel = make_channel(member->endpoint, member->tls, security);
    member->kv = etcdserverpb::KV::NewStub(member->channel);
    member->watch = etcdserverpb::Watch::NewStub(member->channel);
    member->lease = etcdserverpb::Lease::NewStub(member->channel);
    member->auth = etcdserverpb::Auth::NewStub(member->channel);
    members.push_back(std::move(member));
  }
  return std::unique_ptr<EtcdCluster>(
      new EtcdCluster(std::move(members), timeout, std::move(security)));
}

grpc::Status EtcdCluster::token(EtcdMember& member, absl::Time deadline, std::string& out) {
  out.clear();
  if (security_.user.empty()) return grpc::Status::OK;
  {
    absl::MutexLock lock(&member.mu);
    if (!member.token.empty() || member.auth_off) {
      out = member.token;
      return grpc::Status::OK;
    }
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  // Like every call: a member without a leader says so at once (Authenticate waits for a
  // linearizable read) instead of holding the caller until the deadline.
  context.AddMetadata(kRequireLeaderKey, kRequireLeaderValue);
  etcdserverpb::AuthenticateRequest request;
  request.set_name(security_.user);
  request.set_password(security_.password);
  etcdserverpb::AuthenticateResponse response;
  grpc::Status status = member.auth->Authenticate(&context, request, &response);
  if (!status.ok() && !auth_not_enabled(status)) return status;
  absl::MutexLock lock(&member.mu);
  // Auth off (or no token given): calls go without one until etcd asks for it
  // (note_status).
  member.auth_off = !status.ok() || response.token().empty();
  member.token = member.auth_off ? std::string() : response.token();
  out = member.token;
  return grpc::Status::OK;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EtcdCluster::stream_metadata(
    size_t index, absl::Time deadline) {
  std::vector<std::pair<std::string, std::string>> metadata{
      {kRequireLeaderKey, kRequireLeaderValue}};
  EtcdMember& member = *members_[index];
  std::string token;
  // The member's share of a call's time: the loop thread waits for this.
  deadline = std::min(deadline, absl::Now() + timeout_ / static_cast<int>(members_.size()));
  if (grpc::Status s = this->token(member, deadline, token); !s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("etcd at ", member.endpoint, ": authenticate as \"",
                                     security_.user, "\": ", s.error_message()));
  }
  if (!token.empty()) metadata.emplace_back(kTokenKey, std::move(token));
  return metadata;
}

void EtcdCluster::note_status(size_t index, const grpc::Status& status, const std::string& used) {
  if (security_.user.empty() || status.ok() || !token_refused(status)) return;
  EtcdMember& member = *members_[index];
  absl::MutexLock lock(&member.mu);
  // Only the token that was refused: another thread may have a fresh one already.
  if (!used.empty() && member.token != used) return;
  member.token.clear();
  member.auth_off = false;
}

absl::Status EtcdCluster::check_cluster(const etcdserverpb::ResponseHeader& header,
                                        absl::string_view endpoint) {
  const uint64_t id = header.cluster_id();
  if (id == 0) return absl::OkStatus();
  uint64_t known = 0;
  if (cluster_id_.compare_exchange_strong(known, id, std::memory_order_relaxed) || known == id) {
    return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat("etcd at ", endpoint, " belongs to cluster ",
                                          absl::Hex(id), ", not to cluster ", absl::Hex(known),
                                          " this store has been using"));
}

void EtcdCluster::demote(size_t index) {
  size_t expected = index;
  preferred_.compare_exchange_strong(expected, (index + 1) % members_.size(),
                                     std::memory_order_relaxed);
}

absl::Status EtcdCluster::call_impl(
    absl::string_view what, Retry retry,
    absl::FunctionRef<grpc::Status(EtcdMember&, grpc::ClientContext&)> attempt) {
  const size_t n = members_.size();
  const absl::Time deadline = absl::Now() + timeout_;
  std::vector<std::string> errors(n);
  absl::Duration pause = absl::Milliseconds(20);
  while (true) {
    const size_t first = preferred();
    for (size_t k = 0; k < n; ++k) {
      const absl::Time now = absl::Now();
      if (now >= deadline) break;
      const size_t index = (first + k) % n;
      EtcdMember& member = *members_[index];
      const bool connected_before =
          member.channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY;
      // A member that is not connected gets its share of what is left, so a dead first member
      // leaves time for the others. A write to a connected member gets all of it: cutting it
      // short would leave us not knowing whether it was applied.
      const absl::Time attempt_deadline = retry == Retry::kAtMostOnce && connected_before
                                              ? deadline
                                              : now + (deadline - now) / static_cast<int>(n - k);
      grpc::Status status;
      bool authenticated = true;
      // Twice at most: again with a new token when etcd refused the one it had.
      for (int tries = 0; tries < 2; ++tries) {
        std::string token;
        // Authenticate is safe to repeat: it gets this member's share of the time only.
        status = this->token(
            member, std::min(attempt_deadline, now + (deadline - now) / static_cast<int>(n - k)),
            token);
        if (!status.ok()) {
          authenticated = false;
          break;
        }
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(attempt_deadline));
        context.AddMetadata(kRequireLeaderKey, kRequireLeaderValue);
        if (!token.empty()) context.AddMetadata(kTokenKey, token);
        status = attempt(member, context);
        if (status.ok() || !authenticates() || !token_refused(status)) break;
        note_status(index, status, token);
      }
      if (!authenticated) {
        // Authenticate failed: the call itself never left. A refused user or password is
        // final; an unreachable member is tried like any other.
        errors[index] = absl::StrCat(member.endpoint, ": authenticate: ", describe(status));
        const grpc::StatusCode code = status.error_code();
        if (code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::DEADLINE_EXCEEDED) {
          return absl::Status(
              static_cast<absl::StatusCode>(code),
              absl::StrCat(what, ": etcd at ", member.endpoint, ": authenticate as \"",
                           security_.user, "\": ", status.error_message()));
        }
        demote(index);
        continue;
      }
      if (status.ok()) {
        preferred_.store(index, std::memory_order_relaxed);
        return absl::OkStatus();
      }
      const bool connected_after =
          member.channel->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
      errors[index] = absl::StrCat(member.endpoint, ": ", describe(status));
      switch (classify(status, retry, connected_before, connected_after)) {
        case Outcome::kFinal:
          return absl::Status(
              static_cast<absl::StatusCode>(status.error_code()),
              absl::StrCat(what, ": etcd at ", member.endpoint, ": ", status.error_message()));
        case Outcome::kAmbiguous:
          return absl::DeadlineExceededError(
              absl::StrCat(what, ": etcd at ", errors[index],
                           "; the write may or may not have been applied (a watch will show it)"));
        case Outcome::kTryNext:
          demote(index);
          break;
      }
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    absl::SleepFor(std::min(pause, deadline - now));
    pause = std::min(pause * 2, absl::Milliseconds(200));
  }
  errors.erase(std::remove(errors.begin(), errors.end(), std::string()), errors.end());
  return absl::UnavailableError(absl::StrCat(what, ": no etcd member answered within ",
                                             absl::FormatDuration(timeout_), " (",
                                             absl::StrJoin(errors, "; "), ")"));
}

}  // namespace ufc::metad
