// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/core/service_snapshot.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "src/banning/request_window.h"
#include "src/config/address.h"
#include "src/config/config_validator.h"
#include "src/config/field_checks.h"

namespace ufc::internal {
namespace {

// Endpoints of a service mostly share a handful of tag sets ({idc: bj, version: v1}):
// each distinct set is stored once per build.
class TagInterner {
 public:
  std::shared_ptr<const std::vector<Tag>> intern(
      const google::protobuf::Map<std::string, std::string>& tags) {
    std::vector<Tag> sorted(tags.begin(), tags.end());
    std::sort(sorted.begin(), sorted.end());
    auto [it, inserted] = sets_.try_emplace(std::move(sorted));
    if (inserted) it->second = std::make_shared<const std::vector<Tag>>(it->first);
    return it->second;
  }

 private:
  std::map<std::vector<Tag>, std::shared_ptr<const std::vector<Tag>>> sets_;
};

EndpointIdentity make_identity(const v1::Endpoint& config, const HostPort& hp, TagInterner& tags) {
  EndpointIdentity id;
  id.address = config.address();
  id.host_begin = config.address().front() == '[' ? 1 : 0;
  id.host_size = static_cast<uint16_t>(hp.host.size());
  id.port = hp.port;
  id.tags = tags.intern(config.tags());
  return id;
}

}  // namespace

std::unique_ptr<ServiceSnapshot> build_snapshot(const v1::ServiceConfig& config,
                                                const ServiceSnapshot* previous,
                                                absl::Time wall_now, SuspectQueue* suspects,
                                                std::shared_ptr<const RoutingEnv> env) {
  auto snap = std::make_unique<ServiceSnapshot>();
  snap->version = config.version();
  snap->content = fingerprint(config);
  snap->policy = policy_from_name(config.balancing().policy()).value_or(PolicyKind::kRoundRobin);
  snap->balancing = config.balancing();
  snap->ban = BanPolicy::from_proto(config.ban());
  const v1::Timeouts& t = config.timeouts();
  auto limit_ns = [](bool has, const google::protobuf::Duration& d) {
    return has ? to_nanos(to_duration(d).value_or(absl::InfiniteDuration())) : kInfiniteNs;
  };
  snap->connect_ns = limit_ns(t.has_connect(), t.connect());
  snap->read_ns = limit_ns(t.has_read(), t.read());
  snap->write_ns = limit_ns(t.has_write(), t.write());
  snap->deadline_margin_ns = t.has_deadline_margin() ? limit_ns(true, t.deadline_margin()) : 0;
  snap->strict_connect_ns =
      t.strict().has_connect() ? limit_ns(true, t.strict().connect()) : snap->connect_ns;
  snap->strict_read_ns = t.strict().has_read() ? limit_ns(true, t.strict().read()) : snap->read_ns;
  snap->strict_write_ns =
      t.strict().has_write() ? limit_ns(true, t.strict().write()) : snap->write_ns;
  snap->fuse = FusePolicy::from_proto(config.fuse());
  snap->retry = RetryPolicy::from_proto(config.retry());
  snap->applied_at = wall_now;
  snap->route_config = config.routes();
  snap->affinity = config.idc_affinity();
  snap->env = std::move(env);
  snap->route_counters = std::make_shared<RouteCounters>(config.routes_size());

  absl::flat_hash_map<std::string, Endpoint*> before;  // canonical address -> endpoint
  if (previous != nullptr) {
    for (const EndpointRef& e : previous->endpoints) {
      absl::StatusOr<HostPort> hp = parse_address(e->address());
      if (hp.ok()) before.emplace(hp->canonical, e.get());
    }
  }

  snap->endpoints.reserve(config.endpoints_size());
  snap->weights.reserve(config.endpoints_size());
  TagInterner tags;
  const uint32_t rule =
      snap->ban.enabled && snap->ban.by_request
          ? WindowRule::pack(true, snap->ban.window, snap->ban.failures, snap->ban.consecutive)
          : 0;
  for (const v1::Endpoint& ec : config.endpoints()) {
    const HostPort hp = parse_address(ec.address()).value();  // validated by the caller
    EndpointIdentity identity = make_identity(ec, hp, tags);
    EndpointRef ref;
    auto it = before.find(hp.canonical);
    if (it != before.end() && it->second->address() == identity.address &&
        *it->second->identity().tags == *identity.tags) {
      ref = EndpointRef::share(it->second);
    } else {
      ref = EndpointRef::adopt(new Endpoint(std::move(identity), suspects));
      if (it != before.end()) ref->inherit_from(*it->second);
    }
    ref->set_window_rule(rule);
    snap->weights.push_back(endpoint_weight(ec));
    snap->endpoints.push_back(std::move(ref));
  }
  finish_snapshot(*snap);
  return snap;
}

std::unique_ptr<ServiceSnapshot> rebuild_snapshot(const ServiceSnapshot& current,
                                                  std::shared_ptr<const RoutingEnv> env) {
  auto snap = std::make_unique<ServiceSnapshot>();
  snap->version = current.version;
  snap->content = current.content;
  snap->policy = current.policy;
  snap->balancing = current.balancing;
  snap->ban = current.ban;
  snap->connect_ns = current.connect_ns;
  snap->read_ns = current.read_ns;
  snap->write_ns = current.write_ns;
  snap->deadline_margin_ns = current.deadline_margin_ns;
  snap->strict_connect_ns = current.strict_connect_ns;
  snap->strict_read_ns = current.strict_read_ns;
  snap->strict_write_ns = current.strict_write_ns;
  snap->fuse = current.fuse;
  snap->retry = current.retry;
  snap->applied_at = current.applied_at;
  snap->route_config = current.route_config;
  snap->affinity = current.affinity;
  snap->env = env != nullptr ? std::move(env) : current.env;
  snap->route_counters = current.route_counters;
  snap->weights = current.weights;
  snap->endpoints.reserve(current.endpoints.size());
  for (const EndpointRef& e : current.endpoints)
    snap->endpoints.push_back(EndpointRef::share(e.get()));
  finish_snapshot(*snap);
  return snap;
}

void finish_snapshot(ServiceSnapshot& snap) {
  snap.banned = 0;
  std::vector<uint32_t> everyone(snap.endpoints.size());
  for (uint32_t i = 0; i < snap.endpoints.size(); ++i) {
    everyone[i] = i;
    snap.banned += snap.endpoints[i]->meta().ban.state != BanState::kHealthy ? 1 : 0;
  }
  const CandidateInputs inputs{&snap.endpoints,  &snap.weights,  snap.policy,
                               &snap.balancing,  &snap.affinity, &snap.env->idc_map,
                               &snap.env->caller};
  snap.all = build_candidate_set("*", std::move(everyone), inputs);
  snap.routes = compile_routes(snap.route_config, inputs);
}

BanRoom ban_room(const ServiceSnapshot& snapshot) {
  BanRoom room;
  for (size_t i = 0; i < snapshot.endpoints.size(); ++i) {
    if (snapshot.weights[i] <= 0) continue;
    ++room.active;
    room.banned += snapshot.endpoints[i]->meta().ban.state != BanState::kHealthy;
  }
  room.limit = static_cast<size_t>(
      std::floor(snapshot.ban.max_ratio * static_cast<double>(room.active) + 1e-9));
  return room;
}

}  // namespace ufc::internal
