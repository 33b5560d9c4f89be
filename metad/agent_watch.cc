// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/agent_watch.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "src/config/address.h"

namespace ufc::metad {
namespace {

constexpr absl::Duration kDefaultAfter = absl::Seconds(10);
constexpr double kDefaultMaxShare = 0.5;

// The endpoint's host as agents are matched against it ("" for an address that does not
// parse: it is never drained).
std::string endpoint_host(const v1::Endpoint& e) {
  absl::StatusOr<internal::HostPort> hp = internal::parse_address(e.address());
  return hp.ok() ? absl::AsciiStrToLower(hp->host) : std::string();
}

absl::Duration after_of(const v1::AgentWatch& w) {
  if (!w.has_after()) return kDefaultAfter;
  return absl::Seconds(w.after().seconds()) + absl::Nanoseconds(w.after().nanos());
}

}  // namespace

void AgentHosts::observe(const absl::flat_hash_set<std::string>& alive, absl::Time now) {
  absl::flat_hash_set<std::string> seen;
  for (const std::string& h : alive) seen.insert(absl::AsciiStrToLower(h));
  for (auto& [name, host] : hosts_) {
    const bool up = seen.contains(name);
    if (host.alive && !up) host.gone_since = now;
    host.alive = up;
  }
  alive_count_ = 0;
  for (const std::string& h : seen) {
    hosts_[h].alive = true;
    ++alive_count_;
  }
}

bool AgentHosts::alive(absl::string_view host) const {
  auto it = hosts_.find(absl::AsciiStrToLower(host));
  return it != hosts_.end() && it->second.alive;
}

bool AgentHosts::lost(absl::string_view host, absl::Duration after, absl::Time now) const {
  auto it = hosts_.find(absl::AsciiStrToLower(host));
  return it != hosts_.end() && !it->second.alive && now - it->second.gone_since >= after;
}

absl::Time AgentHosts::gone_since(absl::string_view host) const {
  auto it = hosts_.find(absl::AsciiStrToLower(host));
  return it == hosts_.end() || it->second.alive ? absl::InfiniteFuture() : it->second.gone_since;
}

// gRPC's peer strings percent-encode what URIs must ("ipv6:%5B::1%5D:41234").
std::string percent_decoded(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) {
      return absl::ascii_isdigit(static_cast<unsigned char>(c))
                 ? c - '0'
                 : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    };
    if (s[i] == '%' && i + 2 < s.size() &&
        absl::ascii_isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        absl::ascii_isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> agent_hosts(const v1::ClientStatus& client) {
  std::vector<std::string> out;
  if (!client.client().host().empty()) out.push_back(client.client().host());
  const std::string decoded = percent_decoded(client.peer());
  absl::string_view peer = decoded;
  if (absl::ConsumePrefix(&peer, "ipv4:") || absl::ConsumePrefix(&peer, "ipv6:")) {
    const size_t colon = peer.rfind(':');
    if (colon != absl::string_view::npos) peer = peer.substr(0, colon);
    absl::ConsumePrefix(&peer, "[");
    absl::ConsumeSuffix(&peer, "]");
    peer = peer.substr(0, peer.find('%'));  // an IPv6 zone ("fe80::1%eth0")
    if (!peer.empty()) out.emplace_back(peer);
  }
  return out;
}

bool is_agent(const v1::ClientStatus& client) {
  // The program, whatever --self_service names it; or the name agentd reports by default.
  return client.client().process() == "ufc-agentd" ||
         client.client().self_service() == "ufc-agentd";
}

std::optional<DrainPlan> plan_drain(const v1::ServiceConfig& service, const AgentHosts& hosts,
                                    absl::Time now) {
  const v1::AgentWatch& watch = service.agent_watch();
  const bool enabled = watch.enabled();  // off (or gone) with drains left: all restored
  DrainPlan plan;
  plan.service = service;
  auto& endpoints = *plan.service.mutable_endpoints();
  const int n = endpoints.size();
  std::vector<std::string> host(n);
  for (int i = 0; i < n; ++i) host[i] = endpoint_host(endpoints[i]);

  // Restores first: they may make room under max_share.
  int drained = 0, weighted = 0;
  for (int i = 0; i < n; ++i) {
    v1::Endpoint& e = endpoints[i];
    if (e.has_agent_drain() && (!enabled || (!host[i].empty() && hosts.alive(host[i])))) {
      if (e.agent_drain().has_weight()) {
        e.set_weight(e.agent_drain().weight());
      } else {
        e.clear_weight();  // absent: 1
      }
      e.clear_agent_drain();
      plan.restored.push_back(e.address());
    }
    drained += e.has_agent_drain();
    weighted += !e.has_weight() || e.weight() > 0;
  }

  if (enabled && hosts.any_alive()) {
    const absl::Duration after = after_of(watch);
    const double share = watch.has_max_share() ? watch.max_share() : kDefaultMaxShare;
    const int allowed = static_cast<int>(std::floor(share * n + 1e-9));
    std::vector<int> lost;
    for (int i = 0; i < n; ++i) {
      const v1::Endpoint& e = endpoints[i];
      const bool has_weight = !e.has_weight() || e.weight() > 0;
      if (!e.has_agent_drain() && has_weight && !host[i].empty() &&
          hosts.lost(host[i], after, now)) {
        lost.push_back(i);
      }
    }
    std::stable_sort(lost.begin(), lost.end(), [&](int a, int b) {
      return hosts.gone_since(host[a]) < hosts.gone_since(host[b]);
    });
    for (int i : lost) {
      if (drained >= allowed || weighted <= 1) break;
      v1::Endpoint& e = endpoints[i];
      v1::AgentDrain* d = e.mutable_agent_drain();
      if (e.has_weight()) d->set_weight(e.weight());
      d->set_since_unix_ms(absl::ToUnixMillis(now));
      e.set_weight(0);
      ++drained;
      --weighted;
      plan.drained.push_back(e.address());
    }
  }
  if (plan.drained.empty() && plan.restored.empty()) return std::nullopt;
  return plan;
}

AgentWatch::AgentWatch(Hub& hub, AgentsFn agents, Options options)
    : hub_(hub), agents_(std::move(agents)), options_(std::move(options)) {}

AgentWatch::~AgentWatch() { stop(); }

void AgentWatch::start() {
  thread_ = std::thread([this] { loop(); });
}

void AgentWatch::stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AgentWatch::loop() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.period)) {
    mu_.Unlock();
    pass(absl::Now());
    mu_.Lock();
  }
}

void AgentWatch::pass(absl::Time now) {
  absl::MutexLock lock(&pass_mu_);
  passes_.fetch_add(1, std::memory_order_relaxed);
  std::optional<absl::flat_hash_set<std::string>> alive = agents_();
  if (!alive.has_value()) return;  // nothing known this time: decide nothing
  hosts_.observe(*alive, now);
  for (const std::shared_ptr<const v1::ServiceConfig>& service : hub_.watched_services()) {
    std::optional<DrainPlan> plan = plan_drain(*service, hosts_, now);
    if (!plan.has_value()) continue;
    v1::PutServiceRequest put;
    *put.mutable_service() = std::move(plan->service);
    put.set_expected_version(service->version());
    absl::StatusOr<v1::PutServiceResponse> written = hub_.put(put);
    if (!written.ok()) {
      // Changed meanwhile (FAILED_PRECONDITION), or the store is away: the next pass
      // reads it again.
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      if (options_.log) {
        options_.log(absl::StrCat("agent_watch: ", service->name(), ": not written (",
                                  written.status().ToString(), ")"));
      }
      continue;
    }
    drained_.fetch_add(plan->drained.size(), std::memory_order_relaxed);
    restored_.fetch_add(plan->restored.size(), std::memory_order_relaxed);
    if (options_.log) {
      if (!plan->drained.empty()) {
        options_.log(absl::StrCat("agent_watch: ", service->name(), ": drained ",
                                  absl::StrJoin(plan->drained, ", "),
                                  " (no agent on the host) at version ", written->version()));
      }
      if (!plan->restored.empty()) {
        options_.log(absl::StrCat("agent_watch: ", service->name(), ": restored ",
                                  absl::StrJoin(plan->restored, ", "),
                                  " (an agent is back) at version ", written->version()));
      }
    }
  }
}

AgentWatch::Counters AgentWatch::counters() const {
  Counters c;
  c.passes = passes_.load(std::memory_order_relaxed);
  c.drained = drained_.load(std::memory_order_relaxed);
  c.restored = restored_.load(std::memory_order_relaxed);
  c.write_errors = write_errors_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace ufc::metad
