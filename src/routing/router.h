// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/routing/router.h: routing rules and IDC affinity, compiled into a snapshot.
//
// Everything is decided when a snapshot is built: which endpoints each subset selects,
// which of them are usable (not banned, weight > 0), whether IDC affinity keeps the
// caller local or widens, and the balancer of each candidate set. A pick only tests the
// rules' conditions against the request (comparing attribute values) and draws at random
// for percentages and weighted destinations: no allocation, no lookup by name.

#ifndef UFC_ROUTING_ROUTER_H_
#define UFC_ROUTING_ROUTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/balancing/balancer.h"
#include "src/core/endpoint.h"
#include "src/stats/sharded_counter.h"
#include "ufc/pick.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// Who the client is, for caller rules and IDC affinity. Fixed per client (the caller
// service can be overridden per request).
struct CallerInfo {
  std::string service;
  std::string idc;          // physical, ClientOptions::self_idc
  std::string logical_idc;  // through ClientConfig.idc_map
};

// CandidateSet: endpoints a request may be sent to, compiled.
struct CandidateSet {
  std::string key;                // "*" for the whole service, "<rule>/<subset>" otherwise
  std::vector<uint32_t> members;  // indices into the snapshot's endpoints
  std::unique_ptr<Balancer> balancer;
  bool panic = false;  // every usable member is banned: picking among banned
  // IDC affinity, when enabled for the service.
  bool affinity = false;
  bool widened = false;  // local IDC short of usable endpoints: all IDCs in use
  size_t local_size = 0;
  size_t local_usable = 0;
};

struct AttributeCondition {
  enum class Op : uint8_t { kExact, kPrefix, kPresent, kAbsent };
  std::string key;
  std::string value;
  Op op = Op::kExact;
};

struct CompiledRoute {
  std::string name;
  std::vector<AttributeCondition> attributes;
  std::vector<std::string> caller_services;
  bool idc_ok = true;              // caller_idcs, decided for this client at build time
  uint64_t percent_threshold = 0;  // a 64-bit draw below it is in; used when !always
  bool always = true;
  std::vector<CandidateSet> destinations;
  std::vector<uint64_t> cumulative;  // draw thresholds, when there are several destinations

  bool matches(const PickRequest& request, std::string_view caller, const Random& random) const;
  const CandidateSet& choose(const Random& random) const;
};

// Per-rule match counts, kept across the snapshot rebuilds bans cause; the last one
// counts picks that matched no rule.
class RouteCounters {
 public:
  explicit RouteCounters(size_t routes) : counters_(routes + 1) {}
  ShardedCounter& at(size_t i) { return counters_[i]; }
  const ShardedCounter& at(size_t i) const { return counters_[i]; }
  size_t size() const { return counters_.size(); }

 private:
  std::vector<ShardedCounter> counters_;
};

// The inputs a candidate set is compiled from.
struct CandidateInputs {
  const std::vector<EndpointRef>* endpoints;
  const std::vector<double>* weights;
  PolicyKind policy;
  const v1::Balancing* balancing;
  const v1::IdcAffinity* affinity;  // nullptr or disabled: no affinity
  const google::protobuf::Map<std::string, std::string>* idc_map;
  const CallerInfo* caller;
};

// build_candidate_set() compiles `members` into a set: the usable ones (weight > 0, not
// banned; all weight > 0 ones in panic), narrowed to the caller's logical IDC when
// affinity is on and that IDC has at least min_healthy usable endpoints and at least
// min_healthy_share of its size. Reads ban records: under the client's config mutex.
CandidateSet build_candidate_set(std::string key, std::vector<uint32_t> members,
                                 const CandidateInputs& inputs);

// compile_routes() compiles a validated service's routes.
std::vector<CompiledRoute> compile_routes(
    const google::protobuf::RepeatedPtrField<v1::Route>& routes, const CandidateInputs& inputs);

// The logical IDC of a physical one.
std::string logical_idc(const google::protobuf::Map<std::string, std::string>& idc_map,
                        const std::string& physical);

}  // namespace ufc::internal

#endif  // UFC_ROUTING_ROUTER_H_
