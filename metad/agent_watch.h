// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/agent_watch.h: the closed loop around dead agents (ServiceConfig.agent_watch, the
// original UFC's monitor).
//
// Every `period` the server lists the hosts of every ufc-agentd with a Watch stream open
// (on any server over the store: ListClients' view), and for each service that enabled
// agent_watch drains the endpoints whose host has had no agent for `after` and restores
// those whose host has one again. A drain is an ordinary config write (Hub::put, at the
// version it read): weight 0 and Endpoint.agent_drain keeping the endpoint's own weight,
// so every client, metad and cache sees the same thing, and a restore puts the weight
// back. Concurrent writers are safe: a put that lost the race is looked at again at the
// next pass; so are several servers running the loop over one store.
//
// What keeps the loop from emptying a service: at most max_share of its endpoints are
// drained at once, never its last endpoint with weight; and a pass that sees no agent at
// all (this server cut off, or every agent restarting), or cannot list them (the store's
// registry unreachable), drains nothing. A host this server never saw an agent of is
// never taken for lost: after a restart, drains wait for a full `after` of observation.
//
// Thread-safety: AgentHosts and plan_drain() are plain values and a pure function (tested
// on simulated time); AgentWatch runs its passes on its own thread.

#ifndef UFC_METAD_AGENT_WATCH_H_
#define UFC_METAD_AGENT_WATCH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metad/hub.h"
#include "ufc/v1/config.pb.h"
#include "ufc/v1/meta.pb.h"

namespace ufc::metad {

// Which agent hosts are up, and since when the others are gone. Hosts compare in lower
// case.
class AgentHosts {
 public:
  // One observation at `now`: the hosts of every agent with a stream open.
  void observe(const absl::flat_hash_set<std::string>& alive, absl::Time now);
  bool alive(absl::string_view host) const;
  bool any_alive() const { return alive_count_ > 0; }
  // Seen alive before, and gone for at least `after` at `now`.
  bool lost(absl::string_view host, absl::Duration after, absl::Time now) const;
  // When a gone host was last seen alive (InfiniteFuture for one alive or never seen).
  absl::Time gone_since(absl::string_view host) const;

 private:
  struct Host {
    bool alive = false;
    absl::Time gone_since;
  };
  absl::flat_hash_map<std::string, Host> hosts_;
  size_t alive_count_ = 0;
};

// The hosts an agent's stream stands for: its reported host, and the address the stream
// comes from (gRPC's peer: "ipv4:10.0.0.7:41234", "ipv6:%5B::1%5D:41234", percent-encoded).
std::vector<std::string> agent_hosts(const v1::ClientStatus& client);
// Whether a ListClients entry is an agent: its program is ufc-agentd (ClientIdentity.process,
// whatever --self_service says), or it reports agentd's default self_service.
bool is_agent(const v1::ClientStatus& client);

// What one pass does to one service.
struct DrainPlan {
  v1::ServiceConfig service;                   // the new config (its version is the one read)
  std::vector<std::string> drained, restored;  // endpoint addresses
};
// plan_drain() is what the agent watch does to `service` at `now`: restores every drained
// endpoint whose host has an agent again (every one, when agent_watch is off), then drains
// endpoints with weight whose host is lost, longest gone first, within max_share and
// keeping one endpoint with weight; none when `hosts` sees no agent at all. nullopt
// when nothing changes. Cost: O(endpoints log endpoints).
std::optional<DrainPlan> plan_drain(const v1::ServiceConfig& service, const AgentHosts& hosts,
                                    absl::Time now);

class AgentWatch {
 public:
  // The hosts of the agents with a stream open now, or nullopt when they cannot be known
  // (the shared registry is unreachable): the pass is skipped.
  using AgentsFn = std::function<std::optional<absl::flat_hash_set<std::string>>()>;
  struct Options {
    absl::Duration period = absl::Seconds(1);
    // Told of every change written (and of writes that failed), for the server's log.
    std::function<void(const std::string& line)> log;
  };
  AgentWatch(Hub& hub, AgentsFn agents, Options options);
  ~AgentWatch();  // stop()

  void start();
  void stop();
  // One pass at `now` (the thread's, or a test's).
  void pass(absl::Time now);

  struct Counters {
    uint64_t passes = 0, drained = 0, restored = 0, write_errors = 0;
  };
  Counters counters() const;

 private:
  void loop();

  Hub& hub_;
  const AgentsFn agents_;
  const Options options_;
  absl::Mutex pass_mu_;  // one pass at a time
  AgentHosts hosts_ ABSL_GUARDED_BY(pass_mu_);
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> passes_{0}, drained_{0}, restored_{0}, write_errors_{0};
  std::thread thread_;
};

}  // namespace ufc::metad

#endif  // UFC_METAD_AGENT_WATCH_H_
