// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/etcd/etcd_cluster.h: the etcd members one EtcdStore talks to, and unary calls
// that fail over between them.
//
// One gRPC channel per member (plaintext or TLS, its own subchannel pool, reconnect backoff capped
// at 1 s so a restarted member is found again quickly, HTTP/2 keepalive every 10 s within
// etcd's default ping policy). Every call carries etcd's `hasleader: true` metadata, so a
// member cut off from its leader answers "no leader" at once instead of timing out, and the
// call moves on to another member.
//
// A call starts at the member that answered last and goes round the others until the
// per-call timeout. Reads, and writes whose repetition changes nothing, are retried on any
// transient error. Other writes are retried elsewhere only when they surely were not
// applied (the member was not connected before the call and still is not, or etcd said
// "no leader"); when a connected member fails to answer, the write may have been applied, and
// the call ends with DEADLINE_EXCEEDED rather than risk applying it twice (etcd's clientv3
// draws the same line).
//
// With etcd's authentication on (a user is given), each member is asked for a token
// (Auth.Authenticate) before its first call, and every call and stream carries it as the
// "token" metadata. A member whose auth is off ("authentication is not enabled") is called
// without one until it asks for it, so the user can be configured before `etcdctl auth
// enable`, and an `auth disable` stops nothing. A token etcd no longer takes (expired, or the auth
// store changed) is dropped and asked for again, and the call tried again on that member: etcd
// refuses such a call before proposing it, so even a write is never applied twice.

#ifndef UFC_METAD_STORE_ETCD_ETCD_CLUSTER_H_
#define UFC_METAD_STORE_ETCD_ETCD_CLUSTER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "metad/store/etcd/etcd_security.h"
#include "metad/store/etcd/rpc.grpc.pb.h"

namespace ufc::metad {

// One etcd member: its address, the stubs of the services we use, and its auth token.
struct EtcdMember {
  std::string endpoint;  // "host:port"
  bool tls = false;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  absl::Mutex mu;
  std::string token ABSL_GUARDED_BY(mu);      // empty: none yet (or dropped)
  bool auth_off ABSL_GUARDED_BY(mu) = false;  // etcd said its auth is off: no token needed
};

// The metadata key etcd reads the auth token from (rpctypes.TokenFieldNameGRPC).
inline constexpr char kTokenKey[] = "token";

// A successful call's response and the member that gave it (for error messages about what
// it said).
template <typename Response>
struct EtcdAnswer {
  Response response;
  absl::string_view endpoint;
};

// The metadata etcd reads to refuse a request when the member has no leader
// (rpctypes.MetadataRequireLeaderKey / MetadataHasLeader).
inline constexpr char kRequireLeaderKey[] = "hasleader";
inline constexpr char kRequireLeaderValue[] = "true";

// EtcdCluster. Cost: a call is one RPC when the preferred member answers; while members are
// down it tries each in turn, pausing 20-200 ms between rounds, until the timeout. Memory:
// one channel per member. Thread-safety: every method may be called from any thread.
class EtcdCluster {
 public:
  enum class Retry {
    kIdempotent,  // reads, and writes whose repetition changes nothing
    kAtMostOnce,  // writes that must not be applied twice
  };

  // `endpoints`: "host:port", "http://host:port" or "https://host:port" (TLS); at least
  // one. Connects lazily: etcd need not be up. INVALID_ARGUMENT for a malformed endpoint
  // or timeout, an "http://" endpoint with security.tls, or a client certificate without
  // its key (or the reverse).
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> create(
      const std::vector<std::string>& endpoints, absl::Duration timeout,
      EtcdSecurity security = {});

  // Runs `attempt(member, context, response)` (a grpc::Status returning stub call) on the
  // members as described above, each attempt with a fresh context carrying the deadline and
  // the leader metadata. `what` names the operation in errors ("put service \"echo\"").
  // Errors: UNAVAILABLE when no member answered within the timeout (naming each member's
  // last gRPC error); DEADLINE_EXCEEDED for an at-most-once write that may have been applied;
  // otherwise etcd's own code and message, with the member named.
  template <typename Response, typename Attempt>
  absl::StatusOr<EtcdAnswer<Response>> call(absl::string_view what, Retry retry, Attempt attempt) {
    EtcdAnswer<Response> answer;
    absl::Status status =
        call_impl(what, retry, [&](EtcdMember& member, grpc::ClientContext& context) {
          answer.response.Clear();
          answer.endpoint = member.endpoint;
          return attempt(member, &context, &answer.response);
        });
    if (!status.ok()) return status;
    if (absl::Status same = check_cluster(answer.response.header(), answer.endpoint); !same.ok()) {
      return same;
    }
    return answer;
  }

  // Remembers the cluster id of the first answer; DATA_LOSS for an answer from another
  // cluster: its revisions are not ours (a new or restored cluster counts from 1 again), so
  // nothing it says may be mixed with what was delivered. A header without an id passes.
  absl::Status check_cluster(const etcdserverpb::ResponseHeader& header,
                             absl::string_view endpoint);

  // The metadata a stream to member `index` opens with: the leader requirement, and the
  // token (asked for now, within `deadline`, if the member has none). Blocks for that one
  // call at most. The Authenticate error when etcd refuses the user or cannot be reached.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> stream_metadata(
      size_t index, absl::Time deadline);
  // A call or stream on member `index` ended with `status`: an auth token etcd refused
  // (`used`, or whichever it holds when empty) is dropped, so the next call asks for a new
  // one; so is "auth is off" once etcd asks for a token.
  void note_status(size_t index, const grpc::Status& status, const std::string& used = {});
  bool authenticates() const { return !security_.user.empty(); }

  size_t size() const { return members_.size(); }
  EtcdMember& member(size_t index) { return *members_[index]; }
  absl::Duration timeout() const { return timeout_; }

  // The member to try first: the last one that answered, unless it was demoted since.
  size_t preferred() const { return preferred_.load(std::memory_order_relaxed); }
  // `index` failed: if it is still the preferred member, the next one is.
  void demote(size_t index);

 private:
  EtcdCluster(std::vector<std::unique_ptr<EtcdMember>> members, absl::Duration timeout,
              EtcdSecurity security)
      : members_(std::move(members)), timeout_(timeout), security_(std::move(security)) {}

  // The member's token, asked for if it has none (nothing without auth).
  grpc::Status token(EtcdMember& member, absl::Time deadline, std::string& out);

  absl::Status call_impl(
      absl::string_view what, Retry retry,
      absl::FunctionRef<grpc::Status(EtcdMember&, grpc::ClientContext&)> attempt);

  std::vector<std::unique_ptr<EtcdMember>> members_;
  absl::Duration timeout_;
  const EtcdSecurity security_;
  std::atomic<size_t> preferred_{0};
  std::atomic<uint64_t> cluster_id_{0};
};

// The end of etcd's range holding every key that starts with `prefix` (etcd's
// GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented; "\0" (every key
// from `prefix` on) when there is none.
std::string prefix_range_end(absl::string_view prefix);

// "UNAVAILABLE: connection refused" for a gRPC status.
std::string describe(const grpc::Status& status);

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_ETCD_ETCD_CLUSTER_H_
