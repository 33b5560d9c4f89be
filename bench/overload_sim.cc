// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The overload simulator: a deterministic discrete-event simulation, on a virtual clock,
// of clients calling a service that gets overloaded, with each protection scheme as an
// "arm". The UFC arms run the library's own code (a real ufc::Client on a SimClock and a
// ManualExecutor); the other arms are written here as their published designs.
//
//   build/bench/overload_sim [--world=pool|loopback] [--csv=overload_sim.csv] [--quick]
//                            [--balancer=p2c] [--arms=ufc-adapt,...] [--profile=k=4]
//
// Two worlds (see World below). `pool` (the default): 10 instances x 8 workers, a FIFO
// queue of 64 per instance (a full queue refuses the connection), lognormal service time
// with mean 10 ms (sigma 0.5): C = 8000 requests/s; 40 ms attempt timeout, strict 30 ms;
// 0.5C for 60 s, k x C for 120 s, 0.5C for 180 s, k in {1.4, 2, 4, 10}, and a
// metastability trigger (0.8C throughout, 3 of the 10 instances gone from 60 s to 70 s).
// `loopback`: what bench/overload_real.cc runs with real processes on loopback, and the
// world the first real-process trial of fusing met: 2 backends x 2 workers x 20 ms, a
// 4096-deep kernel backlog that never refuses, so an attempt whose client gave up still
// waits its turn and is served (wasted) unless the server skips it: C = 200/s; 50 ms
// attempt timeout, strict 40 ms; 10 s at 0.5C, 20 s at kC, 15 s at 0.5C for k in
// {2, 4, 10}, and a pause (both backends SIGSTOPped for 1.5 s at 0.5C).
// Servers never cancel work whose client has given up (the "deadline" arm lets them skip
// it, see below).
// Clients: open-loop Poisson arrivals, 20% high priority, 80% low; up to 3 attempts (retry
// at once after a transport failure); the same balancing in every arm, so that only the
// protection differs: round robin, or with --balancer=p2c the power of two choices.
// Arms:
//   none       no protection: retries only
//   breaker    classic circuit breaker: opens at >= 50% errors over 10 s (>= 10 requests),
//              stays open 5 s, then lets one probe through (half-open)
//   sre        Google SRE client-side throttling, K = 2, over a 2-minute window
//   aimd       AIMD concurrency limit (+1/limit per success, x0.5 per failure, at most
//              once per timeout)
//   ufc-seed   UFC, seed fusing controller
//   ufc-adapt  UFC, adaptive fusing controller
//   ufc-adapt+deadline  ufc-adapt, and the servers skip queued work whose deadline (carried
//              with the request) has passed — the real harness's server-side skip
//              (RequestGuard / peer_closed: the client closes its socket at the deadline)
// UFC arms: strict timeouts while fusing, 3 attempts, retry budget 10%, banning off (the
// simulator isolates fusing). Every arm picks through a UFC client, as the real harness's
// do (fusing off but for the UFC arms): the baseline arms get UFC's retry budget too, and
// a request at most one attempt per backend (2 in the loopback world). Without these the
// baseline arms retried without a budget, and SRE at k=2 read 0.004 C against the
// harness's 0.13-0.27 C.
//
// Metrics, over the overload phase (60-180 s, pool; 10-30 s, loopback; 60-70 s for the
// trigger; for the pause, from SIGCONT at 11.5 s to the end at 25 s, as the real harness):
//   goodput/C   requests that arrived in the window and succeeded (within their timeouts),
//               per second, over C
//   recovery    after the load falls back (or the outage ends): whole seconds until goodput
//               >= 95% of offered for 10 s in a row (pool) or 2 s (loopback)
//   wasted      share of server busy time spent on attempts whose client had given up
//   retry amp   attempts that reached a server / requests offered
//   p99         latency of successful requests (first attempt to success)
//   high        goodput of the high-priority class / its demand
//
// What it does not model (each is a way the real harness can differ): the CPU — the
// generator, the kernel and the backends share two cores, and a stalled generator sends
// late and reports late; TCP itself (handshakes, the SYN queue, RST on writing to a
// departed client, retransmits); the tick thread running late (the controller's ticks
// here are exact); jitter of real sleeps beyond sigma 0.02; connect failures (the backlog
// never fills at these rates); clients that reuse connections. Where the harness and the
// simulator disagree by more than 0.1 C, the simulator is the thing to fix. Last compared
// (loopback, every arm, k = 2, 4, 10 and the pause): within 0.06 C everywhere; the
// table is in CHANGELOG.md.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/sim_client.h"

namespace {

using ufc::testing::SimClient;

// The service a world offers. Two are modelled:
//   pool      10 instances x 8 workers, a bounded FIFO of 64 per instance (a full queue
//             refuses the connection at once), lognormal service time (mean 10 ms, sigma
//             0.5): C = 8000/s; 40 ms attempt timeout, strict 30 ms; the long profiles.
//   loopback  the real-process harness (bench/overload_real.cc) as it runs on loopback: 2
//             backends x 2 workers x 20 ms of work (a sleep), accept() from a 4096-deep
//             kernel backlog that never refuses, so an attempt whose client gave up still
//             waits its turn and is served (wasted) unless the server skips it; C = 200/s;
//             50 ms attempt timeout, strict 40 ms; 10 s at 0.5C, 20 s at kC, 15 s at 0.5C,
//             recovery = 2 s in a row at >= 95%; plus the pause profile (both backends
//             SIGSTOPped for 1.5 s at 0.5C).
struct World {
  const char* name;
  int instances;
  int workers;
  size_t queue_cap;  // per instance; a full queue refuses the connection
  double mean_service_s;
  double sigma;  // of the lognormal service time; 0: constant
  double timeout_s;
  int64_t strict_ns;
  double capacity() const { return instances * workers / mean_service_s; }
};
constexpr World kPool{"pool", 10, 8, 64, 0.010, 0.5, 0.040, 30000000};
constexpr World kLoopback{"loopback", 2, 2, 4096, 0.020, 0.02, 0.050, 40000000};
const World* g_world = &kPool;

constexpr int kMaxAttempts = 3;
constexpr double kHighShare = 0.2;

enum class Arm { kNone, kBreaker, kSre, kAimd, kUfcSeed, kUfcAdaptive, kUfcAdaptiveDeadline };
constexpr Arm kArms[] = {Arm::kNone,
                         Arm::kBreaker,
                         Arm::kSre,
                         Arm::kAimd,
                         Arm::kUfcSeed,
                         Arm::kUfcAdaptive,
                         Arm::kUfcAdaptiveDeadline};

const char* arm_name(Arm a) {
  switch (a) {
    case Arm::kNone:
      return "none";
    case Arm::kBreaker:
      return "breaker";
    case Arm::kSre:
      return "sre";
    case Arm::kAimd:
      return "aimd";
    case Arm::kUfcSeed:
      return "ufc-seed";
    case Arm::kUfcAdaptive:
      return "ufc-adapt";
    case Arm::kUfcAdaptiveDeadline:
      return "ufc-adapt+deadline";
  }
  return "?";
}
bool is_ufc(Arm a) {
  return a == Arm::kUfcSeed || a == Arm::kUfcAdaptive || a == Arm::kUfcAdaptiveDeadline;
}

struct Phase {
  double until;  // seconds
  double rate;   // requests per second
};

struct Profile {
  std::string name;
  std::vector<Phase> phases;
  double overload_from, overload_to;        // the metrics window
  double recover_from;                      // when the trouble ends
  double outage_from = -1, outage_to = -1;  // instances 7-9 gone (trigger profile)
  double pause_from = -1, pause_to = -1;    // every instance frozen (pause profile)
  int recovery_hold = 10;                   // seconds in a row at >= 95% of offered
  double end() const { return phases.back().until; }
  double rate_at(double t) const {
    for (const Phase& p : phases) {
      if (t < p.until) return p.rate;
    }
    return phases.back().rate;
  }
};

struct Result {
  std::string profile;
  Arm arm;
  double goodput_c = 0, recovery_s = -1, wasted = 0, retry_amp = 0, p99_ms = 0, high = 0;
  std::vector<double> offered, goodput, high_offered, high_goodput, attempts,
      refused;  // per second
};

// ---------------------------------------------------------------------------------------
// Baseline protections, client side.

// Per-second buckets over a sliding window of `seconds`.
class Window {
 public:
  explicit Window(int seconds) : a_(seconds, 0), b_(seconds, 0) {}
  void roll(double t) {
    const int64_t s = static_cast<int64_t>(t);
    while (current_ < s) {
      ++current_;
      const size_t i = static_cast<size_t>(current_) % a_.size();
      sum_a_ -= a_[i];
      sum_b_ -= b_[i];
      a_[i] = b_[i] = 0;
    }
  }
  void add(double t, double a, double b) {
    roll(t);
    const size_t i = static_cast<size_t>(current_) % a_.size();
    a_[i] += a;
    b_[i] += b;
    sum_a_ += a;
    sum_b_ += b;
  }
  double a() const { return sum_a_; }
  double b() const { return sum_b_; }
  void clear() {
    std::fill(a_.begin(), a_.end(), 0);
    std::fill(b_.begin(), b_.end(), 0);
    sum_a_ = sum_b_ = 0;
  }

 private:
  std::vector<double> a_, b_;
  double sum_a_ = 0, sum_b_ = 0;
  int64_t current_ = 0;
};

// Classic circuit breaker (Hystrix-style): a = requests, b = errors.
class Breaker {
 public:
  bool admit(double t) {
    if (state_ == kOpen && t >= open_until_) state_ = kHalfOpen, probing_ = false;
    if (state_ == kOpen) return false;
    if (state_ == kHalfOpen) {
      if (probing_) return false;
      probing_ = true;
      return true;
    }
    return true;
  }
  // An admitted attempt that did not go out (its pick was refused): a half-open probe is
  // free again.
  void abandon() { probing_ = false; }
  void result(double t, bool ok) {
    if (state_ == kHalfOpen) {
      if (ok) {
        state_ = kClosed;
        window_.clear();
      } else {
        state_ = kOpen;
        open_until_ = t + 5;
      }
      probing_ = false;
      return;
    }
    if (state_ != kClosed) return;
    window_.add(t, 1, ok ? 0 : 1);
    if (window_.a() >= 10 && window_.b() >= 0.5 * window_.a()) {
      state_ = kOpen;
      open_until_ = t + 5;
    }
  }

 private:
  enum { kClosed, kOpen, kHalfOpen } state_ = kClosed;
  Window window_{10};
  double open_until_ = 0;
  bool probing_ = false;
};

// Google SRE adaptive throttling (SRE book, "Handling Overload"): a = requests, b = accepts.
class SreThrottle {
 public:
  bool admit(double t, double draw) {
    window_.roll(t);
    const double p = std::max(0.0, (window_.a() - 2.0 * window_.b()) / (window_.a() + 1));
    window_.add(t, 1, 0);  // every request counts, rejected or not
    return draw >= p;
  }
  void accepted(double t) { window_.add(t, 0, 1); }

 private:
  Window window_{120};
};

class Aimd {
 public:
  bool admit() { return inflight_ < limit_; }
  void start() { ++inflight_; }
  void finish(double t, bool ok) {
    --inflight_;
    if (ok) {
      limit_ += 1.0 / limit_;
    } else if (t >= next_decrease_) {
      limit_ = std::max(1.0, limit_ * 0.5);
      next_decrease_ = t + g_world->timeout_s;
    }
  }

 private:
  double limit_ = 50;
  int inflight_ = 0;
  double next_decrease_ = 0;
};

// ---------------------------------------------------------------------------------------

// How every arm spreads attempts over the instances: round robin (the default), or the
// power of two choices on outstanding attempts ("p2c"; UFC arms use the library's
// least_loaded policy, in-flight x latency EWMA).
bool g_p2c = false;
std::string g_arms;     // --arms=a,b: only these (by name); empty: all
std::string g_profile;  // --profile=name: only this one; empty: all

class Simulation {
 public:
  Simulation(const Profile& profile, Arm arm, uint64_t seed)
      : profile_(profile), arm_(arm), rng_(seed) {
    const size_t seconds = static_cast<size_t>(std::ceil(profile.end())) + 1;
    r_.profile = profile.name;
    r_.arm = arm;
    for (auto* v : {&r_.offered, &r_.goodput, &r_.high_offered, &r_.high_goodput, &r_.attempts,
                    &r_.refused}) {
      v->assign(seconds, 0);
    }
    servers_.resize(g_world->instances);
    make_client(seed);
  }

  Result run() {
    schedule(next_arrival(0), kArrival, 0);
    if (profile_.pause_to > 0) schedule(profile_.pause_to, kResume, 0);
    while (!events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      if (e.t > profile_.end() + 1) break;
      now_ = e.t;
      if (client_) {
        const absl::Duration target = absl::Seconds(now_) - (client_->clock->now() - start_);
        if (target > absl::ZeroDuration()) client_->executor->advance(target);
      }
      switch (e.type) {
        case kArrival:
          on_arrival();
          break;
        case kDone:
          on_done(e.id);
          break;
        case kTimeout:
          on_timeout(e.id);
          break;
        case kResume:
          for (uint32_t i = 0; i < servers_.size(); ++i) serve_queued(i);
          break;
      }
    }
    summarize();
    return std::move(r_);
  }

 private:
  enum EventType : uint8_t { kArrival, kDone, kTimeout, kResume };
  struct Event {
    double t;
    uint32_t id;
    EventType type;
    bool operator>(const Event& o) const { return t > o.t; }
  };
  struct Request {
    double arrival;
    bool high;
    int attempts = 0;
    uint32_t tried[kMaxAttempts];
  };
  struct Attempt {
    uint32_t request;
    uint32_t instance;
    double start, deadline, service = 0;
    bool finished = false;  // answered, refused or timed out, as the client sees it
    bool client_gone = false;
    std::optional<ufc::Pick> pick;
  };
  struct Server {
    int busy = 0;
    std::deque<uint32_t> queue;
  };

  void make_client(uint64_t seed) {
    ufc::v1::ServiceConfig s;
    s.set_name("sim");
    for (int i = 0; i < g_world->instances; ++i)
      s.add_endpoints()->set_address("10.0.0." + std::to_string(i) + ":80");
    s.mutable_balancing()->set_policy(g_p2c ? "least_loaded" : "round_robin");
    s.mutable_ban()->set_enabled(false);
    s.mutable_timeouts()->mutable_connect()->set_nanos(
        static_cast<int32_t>(g_world->timeout_s * 1e9));
    s.mutable_timeouts()->mutable_read()->set_nanos(static_cast<int32_t>(g_world->timeout_s * 1e9));
    s.mutable_timeouts()->mutable_strict()->mutable_connect()->set_nanos(
        static_cast<int32_t>(g_world->strict_ns));
    s.mutable_timeouts()->mutable_strict()->mutable_read()->set_nanos(g_world->strict_ns);
    s.mutable_fuse()->set_enabled(is_ufc(arm_));
    s.mutable_fuse()->set_controller(arm_ == Arm::kUfcSeed ? "seed" : "adaptive");
    s.mutable_retry()->set_max_attempts(kMaxAttempts);
    s.mutable_retry()->set_budget(0.1);
    ufc::v1::ClientConfig config;
    *config.add_services() = s;
    client_ = std::make_unique<SimClient>(config, seed);
    start_ = client_->clock->now();
  }

  void schedule(double t, EventType type, uint32_t id) { events_.push(Event{t, id, type}); }

  double next_arrival(double t) {
    // Piecewise-constant Poisson rate: draw within the current phase; past its end, start
    // again from the boundary (memoryless).
    for (;;) {
      const double rate = profile_.rate_at(t);
      double phase_end = profile_.end();
      for (const Phase& p : profile_.phases) {
        if (t < p.until) {
          phase_end = p.until;
          break;
        }
      }
      const double next = t + std::exponential_distribution<double>(rate)(rng_);
      if (next < phase_end || phase_end >= profile_.end()) return next;
      t = phase_end;
    }
  }

  uint32_t new_request(bool high) {
    uint32_t id;
    if (!free_requests_.empty()) {
      id = free_requests_.back();
      free_requests_.pop_back();
    } else {
      id = static_cast<uint32_t>(requests_.size());
      requests_.emplace_back();
    }
    requests_[id] = Request{now_, high};
    return id;
  }
  uint32_t new_attempt() {
    uint32_t id;
    if (!free_attempts_.empty()) {
      id = free_attempts_.back();
      free_attempts_.pop_back();
    } else {
      id = static_cast<uint32_t>(attempts_.size());
      attempts_.emplace_back();
    }
    return id;
  }
  void free_attempt(uint32_t id) {
    attempts_[id].pick.reset();
    free_attempts_.push_back(id);
  }

  size_t second() const { return std::min(static_cast<size_t>(now_), r_.offered.size() - 1); }
  bool in_overload() const { return now_ >= profile_.overload_from && now_ < profile_.overload_to; }
  bool paused() const { return now_ >= profile_.pause_from && now_ < profile_.pause_to; }
  bool instance_down(uint32_t i) const {
    return i >= 7 && now_ >= profile_.outage_from && now_ < profile_.outage_to;
  }

  void on_arrival() {
    const bool high = std::uniform_real_distribution<double>(0, 1)(rng_) < kHighShare;
    const uint32_t id = new_request(high);
    r_.offered[second()] += 1;
    if (high) r_.high_offered[second()] += 1;
    if (in_overload()) {
      ++overload_requests_;
      if (high) ++window_high_offered_;
    }
    start_attempt(id);
    schedule(next_arrival(now_), kArrival, 0);
  }

  // Sends the request's next attempt, if its arm lets it; else the request fails. Every arm
  // picks through a UFC client, as the real harness does (fusing off but for the UFC arms):
  // the same balancing, the retry budget, and one attempt per backend at most (a retry
  // once every backend was tried is refused). A baseline arm's own protection decides
  // first.
  void start_attempt(uint32_t rid) {
    Request& req = requests_[rid];
    const bool retry = req.attempts > 0;
    bool admitted = true;
    switch (arm_) {
      case Arm::kBreaker:
        admitted = breaker_.admit(now_);
        break;
      case Arm::kSre:
        admitted = sre_.admit(now_, std::uniform_real_distribution<double>(0, 1)(rng_));
        break;
      case Arm::kAimd:
        admitted = aimd_.admit();
        break;
      default:
        break;
    }
    if (!admitted) {
      r_.refused[second()] += 1;
      return finish_request(rid, false);
    }
    std::string_view avoid[kMaxAttempts];
    std::string addresses[kMaxAttempts];
    for (int i = 0; i < req.attempts; ++i) {
      addresses[i] = "10.0.0." + std::to_string(req.tried[i]) + ":80";
      avoid[i] = addresses[i];
    }
    absl::StatusOr<ufc::Pick> p = client_->client->pick(
        {.service = "sim",
         .priority = req.high ? ufc::Priority::kCritical : ufc::Priority::kLow,
         .is_retry = retry,
         .avoid = absl::MakeConstSpan(avoid, static_cast<size_t>(req.attempts))});
    if (!p.ok()) {
      if (arm_ == Arm::kBreaker) breaker_.abandon();
      r_.refused[second()] += 1;  // shed by the fuse, or a retry refused
      return finish_request(rid, false);
    }
    if (arm_ == Arm::kAimd) aimd_.start();
    const uint32_t instance = static_cast<uint32_t>(std::stoi(std::string(p->host().substr(7))));
    const double timeout = absl::ToDoubleSeconds(p->timeouts().read);
    std::optional<ufc::Pick> pick = *std::move(p);
    req.tried[req.attempts++] = instance;
    const uint32_t aid = new_attempt();
    Attempt& a = attempts_[aid];
    a = Attempt{rid, instance, now_, now_ + timeout};
    a.pick = std::move(pick);
    r_.attempts[second()] += 1;
    if (in_overload()) ++overload_attempts_;

    Server& s = servers_[instance];
    if (instance_down(instance) ||
        (s.busy >= g_world->workers && s.queue.size() >= g_world->queue_cap)) {
      return attempt_failed(aid, ufc::Transport::kConnectRefused);  // refused at once
    }
    schedule(a.deadline, kTimeout, aid);
    if (s.busy < g_world->workers && !paused()) {
      begin_service(aid);
    } else {
      s.queue.push_back(aid);
    }
  }

  void begin_service(uint32_t aid) {
    Attempt& a = attempts_[aid];
    ++servers_[a.instance].busy;
    const double mean = g_world->mean_service_s, sigma = g_world->sigma;
    const double mu = std::log(mean) - sigma * sigma / 2;
    a.service = sigma > 0 ? std::lognormal_distribution<double>(mu, sigma)(rng_) : mean;
    schedule(now_ + a.service, kDone, aid);
  }

  void on_done(uint32_t aid) {
    if (paused()) {  // a stopped process writes its answer when it resumes
      schedule(profile_.pause_to, kDone, aid);
      return;
    }
    Attempt& a = attempts_[aid];
    Server& s = servers_[a.instance];
    --s.busy;
    if (in_overload()) busy_ += a.service;
    if (a.client_gone) {
      if (in_overload()) wasted_ += a.service;  // nobody waits for this answer
      free_attempt(aid);
    } else {
      a.finished = true;
      report(a, ufc::Outcome::http(200, absl::Seconds(now_ - a.start)), true);
      const Request& req = requests_[a.request];
      if (in_overload()) latencies_.push_back(now_ - req.arrival);
      finish_request(a.request, true);
      // Its timeout event is still queued: it finds the attempt finished and frees it.
    }
    serve_queued(a.instance);
    if (instance_down(a.instance)) s.queue.clear();
  }

  // Idle workers take the next attempts; a deadline-aware server skips the expired ones.
  void serve_queued(uint32_t instance) {
    Server& s = servers_[instance];
    while (!s.queue.empty() && s.busy < g_world->workers) {
      const uint32_t next = s.queue.front();
      s.queue.pop_front();
      if (arm_ == Arm::kUfcAdaptiveDeadline && now_ >= attempts_[next].deadline) {
        attempts_[next].service = 0;  // skipped: the client has given up
        if (attempts_[next].client_gone)
          free_attempt(next);
        else
          attempts_[next].client_gone = true;  // its timeout fires now-ish
        continue;
      }
      begin_service(next);
    }
  }

  void on_timeout(uint32_t aid) {
    Attempt& a = attempts_[aid];
    if (a.finished) return free_attempt(aid);
    if (a.client_gone && a.service == 0) {  // skipped by a deadline-aware server
      a.finished = true;
      attempt_failed_after_give_up(aid);
      return free_attempt(aid);
    }
    a.client_gone = true;  // the server may still be working on it
    attempt_failed_after_give_up(aid);
  }

  void attempt_failed_after_give_up(uint32_t aid) {
    Attempt& a = attempts_[aid];
    a.finished = true;
    report(
        a,
        ufc::Outcome::transport_error(ufc::Transport::kReadTimeout, absl::Seconds(now_ - a.start)),
        false);
    retry_or_fail(a.request, a.pick.has_value() ? a.pick->retry_allowed() : true);
  }

  void attempt_failed(uint32_t aid, ufc::Transport why) {
    Attempt& a = attempts_[aid];
    a.finished = true;
    report(a, ufc::Outcome::transport_error(why, absl::Microseconds(100)), false);
    const bool allowed = a.pick.has_value() ? a.pick->retry_allowed() : true;
    const uint32_t rid = a.request;
    free_attempt(aid);
    retry_or_fail(rid, allowed);
  }

  void retry_or_fail(uint32_t rid, bool allowed) {
    if (allowed && requests_[rid].attempts < kMaxAttempts) return start_attempt(rid);
    finish_request(rid, false);
  }

  void report(Attempt& a, const ufc::Outcome& outcome, bool ok) {
    if (a.pick.has_value()) client_->client->report(*a.pick, outcome);
    switch (arm_) {
      case Arm::kBreaker:
        breaker_.result(now_, ok);
        break;
      case Arm::kSre:
        if (ok) sre_.accepted(now_);
        break;
      case Arm::kAimd:
        aimd_.finish(now_, ok);
        break;
      default:
        break;
    }
  }

  void finish_request(uint32_t rid, bool ok) {
    if (ok) {
      r_.goodput[second()] += 1;
      if (requests_[rid].high) r_.high_goodput[second()] += 1;
      // By arrival time, as the real harness counts.
      const double arrived = requests_[rid].arrival;
      if (arrived >= profile_.overload_from && arrived < profile_.overload_to) {
        ++window_good_;
        if (requests_[rid].high) ++window_high_good_;
      }
    }
    free_requests_.push_back(rid);
  }

  void summarize() {
    // Over the window in exact times (it may start mid-second: the pause profile's does,
    // at SIGCONT), by arrival time as the real harness counts: the requests that arrived
    // in it and succeeded, and the critical share of those.
    r_.goodput_c = static_cast<double>(window_good_) /
                   ((profile_.overload_to - profile_.overload_from) * g_world->capacity());
    r_.high = window_high_offered_ > 0
                  ? static_cast<double>(window_high_good_) / window_high_offered_
                  : 0;
    r_.wasted = busy_ > 0 ? wasted_ / busy_ : 0;
    r_.retry_amp =
        overload_requests_ > 0 ? static_cast<double>(overload_attempts_) / overload_requests_ : 0;
    if (!latencies_.empty()) {
      const size_t k = latencies_.size() * 99 / 100;
      std::nth_element(latencies_.begin(), latencies_.begin() + k, latencies_.end());
      r_.p99_ms = latencies_[k] * 1000;
    }
    // Recovery: the first second from which goodput stays >= 95% of offered for 10 s.
    const auto rec = static_cast<size_t>(profile_.recover_from);
    const auto hold = static_cast<size_t>(profile_.recovery_hold);
    for (size_t s = rec; s + hold <= r_.goodput.size() - 1; ++s) {
      bool ok = true;
      for (size_t i = s; i < s + hold && ok; ++i) ok = r_.goodput[i] >= 0.95 * r_.offered[i];
      if (ok) {
        r_.recovery_s = static_cast<double>(s - rec);
        break;
      }
    }
  }

  const Profile& profile_;
  Arm arm_;
  std::mt19937_64 rng_;
  Result r_;
  double now_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::vector<Request> requests_;
  std::vector<uint32_t> free_requests_;
  std::vector<Attempt> attempts_;
  std::vector<uint32_t> free_attempts_;
  std::vector<Server> servers_;
  Breaker breaker_;
  SreThrottle sre_;
  Aimd aimd_;
  std::unique_ptr<SimClient> client_;
  absl::Time start_;
  double busy_ = 0, wasted_ = 0;
  uint64_t overload_requests_ = 0, overload_attempts_ = 0;
  uint64_t window_good_ = 0, window_high_good_ = 0, window_high_offered_ = 0;
  std::vector<double> latencies_;
};

std::vector<Profile> profiles(bool quick) {
  std::vector<Profile> out;
  const double c = g_world->capacity();
  if (g_world == &kLoopback) {
    // The real-process harness's profiles, as bench/overload_real.cc runs them.
    for (double k : {2.0, 4.0, 10.0}) {
      char name[32];
      std::snprintf(name, sizeof(name), "k=%.0f", k);
      Profile p;
      p.name = name;
      p.phases = {{10, 0.5 * c}, {30, k * c}, {45, 0.5 * c}};
      p.overload_from = 10;
      p.overload_to = 30;
      p.recover_from = 30;
      p.recovery_hold = 2;
      out.push_back(p);
    }
    Profile pause;
    pause.name = "pause";
    // As bench/overload_real runs it: 25 s at 0.5C, the metrics from SIGCONT to the end.
    pause.phases = {{25, 0.5 * c}};
    pause.overload_from = 11.5;
    pause.overload_to = 25;
    pause.recover_from = 11.5;
    pause.pause_from = 10;
    pause.pause_to = 11.5;
    pause.recovery_hold = 2;
    out.push_back(pause);
    return out;
  }
  const double scale = quick ? 0.25 : 1.0;  // --quick: shorter phases, same shape
  for (double k : {1.4, 2.0, 4.0, 10.0}) {
    char name[32];
    std::snprintf(name, sizeof(name), "k=%.1f", k);
    Profile p;
    p.name = name;
    p.phases = {{60 * scale, 0.5 * c}, {180 * scale, k * c}, {360 * scale, 0.5 * c}};
    p.overload_from = 60 * scale;
    p.overload_to = 180 * scale;
    p.recover_from = 180 * scale;
    out.push_back(p);
  }
  Profile trigger;
  trigger.name = "trigger";
  trigger.phases = {{180 * scale, 0.8 * c}};
  trigger.overload_from = 60 * scale;
  trigger.overload_to = 70 * scale;
  trigger.recover_from = 70 * scale;
  trigger.outage_from = 60 * scale;
  trigger.outage_to = 70 * scale;
  out.push_back(trigger);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // One CPU shard: each simulation runs on one thread, and with per-CPU endpoint views a
  // thread that migrates would see least_loaded's view change under it — the runs would
  // stop being repeatable. (Read on first use, so setting it here, before any client, works.)
  ::setenv("UFC_CPU_SHARDS", "1", /*overwrite=*/0);
  std::string csv = "overload_sim.csv";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--csv=", 0) == 0) csv = a.substr(6);
    if (a == "--quick") quick = true;
    if (a == "--balancer=p2c") g_p2c = true;
    if (a == "--world=loopback") g_world = &kLoopback;
    if (a.rfind("--arms=", 0) == 0) g_arms = a.substr(7);
    if (a.rfind("--profile=", 0) == 0) g_profile = a.substr(10);
  }
  const std::vector<Profile> ps = profiles(quick);
  std::vector<std::pair<const Profile*, Arm>> jobs;
  for (const Profile& p : ps) {
    if (!g_profile.empty() && p.name != g_profile) continue;
    for (Arm a : kArms) {
      if (g_arms.empty() ||
          ("," + g_arms + ",").find("," + std::string(arm_name(a)) + ",") != std::string::npos) {
        jobs.emplace_back(&p, a);
      }
    }
  }
  std::vector<Result> results(jobs.size());
  // Two workers (the machine has two cores); each run is deterministic on its own.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      results[j] = Simulation(*jobs[j].first, jobs[j].second, 20261122).run();
    }
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();

  std::printf(
      "world %s: capacity C = %.0f req/s; timeout %.0f ms (strict %.0f), 3 attempts; 20%% high "
      "priority; %s\n\n",
      g_world->name, g_world->capacity(), g_world->timeout_s * 1e3, g_world->strict_ns / 1e6,
      g_p2c ? "power of two choices" : "round robin");
  std::printf("%-8s %-19s %9s %10s %8s %9s %8s %9s\n", "profile", "arm", "goodput/C", "recovery",
              "wasted", "retry amp", "p99 ms", "high");
  std::string last;
  for (const Result& r : results) {
    if (r.profile != last && !last.empty()) std::printf("\n");
    last = r.profile;
    char rec[32];
    if (r.recovery_s >= 0) {
      std::snprintf(rec, sizeof(rec), "%.0f s", r.recovery_s);
    } else {
      std::snprintf(rec, sizeof(rec), "never");
    }
    std::printf("%-8s %-19s %9.3f %10s %7.1f%% %9.2f %8.1f %8.1f%%\n", r.profile.c_str(),
                arm_name(r.arm), r.goodput_c, rec, 100 * r.wasted, r.retry_amp, r.p99_ms,
                100 * r.high);
  }
  std::ofstream out(csv);
  out << "profile,arm,second,offered,goodput,high_offered,high_goodput,attempts,refused\n";
  for (const Result& r : results) {
    for (size_t s = 0; s < r.offered.size(); ++s) {
      out << r.profile << ',' << arm_name(r.arm) << ',' << s << ',' << r.offered[s] << ','
          << r.goodput[s] << ',' << r.high_offered[s] << ',' << r.high_goodput[s] << ','
          << r.attempts[s] << ',' << r.refused[s] << '\n';
    }
  }
  std::printf("\ntime series: %s\n", csv.c_str());
  return 0;
}
