// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// RemotePicks over a scripted BackupAgents: what a backup agent chose becomes an endpoint
// the caller's Pick holds, its report reaches the agent with its class and latency, a pick
// released unreported is forgotten, and nothing is touched after it is gone (ASan).

#include "src/core/remote_picks.h"

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "src/common/coarse_clock.h"
#include "ufc/client.h"
#include "ufc/refusal.h"

namespace ufc::internal {
namespace {

class ScriptedAgents final : public BackupAgents {
 public:
  struct Report {
    std::string ticket, agent;
    Outcome outcome;
  };
  void answer(absl::StatusOr<AgentPick> next) {
    absl::MutexLock lock(&mu_);
    answers_.push_back(std::move(next));
  }
  absl::StatusOr<AgentPick> pick(const PickRequest& request) override {
    absl::MutexLock lock(&mu_);
    asked_.emplace_back(request.service);
    absl::StatusOr<AgentPick> next = std::move(answers_.front());
    answers_.pop_front();
    return next;
  }
  absl::Status report(const AgentPick& pick, const Outcome& outcome) override {
    absl::MutexLock lock(&mu_);
    reports_.push_back(Report{pick.ticket, pick.agent, outcome});
    return pick.ticket == "expired" ? absl::NotFoundError("no such ticket") : absl::OkStatus();
  }
  std::vector<Report> reports() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }
  std::vector<std::string> asked() {
    absl::MutexLock lock(&mu_);
    return asked_;
  }

 private:
  absl::Mutex mu_;
  std::deque<absl::StatusOr<AgentPick>> answers_;
  std::vector<Report> reports_;
  std::vector<std::string> asked_;
};

AgentPick chosen(std::string address, std::string host, uint16_t port, std::string ticket) {
  AgentPick p;
  p.address = std::move(address);
  p.host = std::move(host);
  p.port = port;
  p.tags = {{"idc", "bj"}};
  p.ticket = std::move(ticket);
  p.agent = "10.9.9.9:8877";
  return p;
}

struct Fixture {
  ScriptedAgents* agents = new ScriptedAgents;
  std::unique_ptr<RemotePicks> picks =
      std::make_unique<RemotePicks>(std::unique_ptr<BackupAgents>(agents));
};

// Waits up to 5 s for `done`.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 5000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return done();
}

constexpr uint32_t kShard = 0;

TEST(RemotePicksTest, AReportReachesTheAgentThatChoseWithItsClassAndLatency) {
  Fixture f;
  f.agents->answer(chosen("10.0.0.1:80", "10.0.0.1", 80, "t1"));
  absl::StatusOr<RemotePicks::Choice> got = f.picks->pick({.service = "echo"}, kShard);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_NE(got->endpoint, nullptr);
  EXPECT_EQ(f.agents->asked(), std::vector<std::string>{"echo"});
  EXPECT_EQ(got->endpoint->address(), "10.0.0.1:80");
  EXPECT_EQ(got->endpoint->identity().port, 80);
  ASSERT_EQ(got->endpoint->identity().tags->size(), 1u);
  EXPECT_EQ(got->endpoint->inflight(), 1u);
  // Not reported yet: nothing goes to the agent, however long.
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(f.agents->reports().empty());
  EXPECT_EQ(f.picks->stats().out, 1u);

  got->endpoint->on_report(got->hold, kShard, OutcomeClass::kServerError, 1234,
                           coarse_tick(1'000'000'000));
  ASSERT_TRUE(eventually([&] { return !f.agents->reports().empty(); }));
  const ScriptedAgents::Report r = f.agents->reports()[0];
  EXPECT_EQ(r.ticket, "t1");
  EXPECT_EQ(r.agent, "10.9.9.9:8877");
  EXPECT_EQ(r.outcome.classify(), OutcomeClass::kServerError);
  EXPECT_EQ(r.outcome.latency, absl::Microseconds(1234));
  ASSERT_TRUE(eventually([&] { return f.picks->stats().forwarded == 1; }));
  EXPECT_EQ(f.picks->stats().out, 0u);
  // The caller's Pick still holds the endpoint: reading it is safe, then it lets go.
  EXPECT_EQ(got->endpoint->address(), "10.0.0.1:80");
  got->endpoint->release(kShard, /*reported=*/true);
  EXPECT_EQ(f.agents->reports().size(), 1u);
}

TEST(RemotePicksTest, TransportFailuresAreForwardedAsTheirOwnClass) {
  Fixture f;
  const OutcomeClass classes[] = {OutcomeClass::kSuccess, OutcomeClass::kClientError,
                                  OutcomeClass::kConnectRefused, OutcomeClass::kReadTimeout,
                                  OutcomeClass::kReadFailed};
  for (OutcomeClass cls : classes) {
    f.agents->answer(chosen("[::1]:8080", "::1", 8080, "t"));
    absl::StatusOr<RemotePicks::Choice> got = f.picks->pick({.service = "echo"}, kShard);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->endpoint->identity().host_begin, 1);
    got->endpoint->on_report(got->hold, kShard, cls, 10, coarse_tick(1'000'000'000));
    got->endpoint->release(kShard, /*reported=*/true);
  }
  ASSERT_TRUE(eventually([&] { return f.agents->reports().size() == 5; }));
  const std::vector<ScriptedAgents::Report> reports = f.agents->reports();
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(reports[i].outcome.classify(), classes[i]) << i;
}

TEST(RemotePicksTest, APickReleasedUnreportedIsForgottenNotForwarded) {
  Fixture f;
  f.agents->answer(chosen("10.0.0.1:80", "10.0.0.1", 80, "t1"));
  absl::StatusOr<RemotePicks::Choice> got = f.picks->pick({.service = "echo"}, kShard);
  ASSERT_TRUE(got.ok());
  got->endpoint->release(kShard, /*reported=*/false);
  ASSERT_TRUE(eventually([&] { return f.picks->stats().unreported == 1; }));
  EXPECT_EQ(f.picks->stats().out, 0u);
  absl::SleepFor(absl::Milliseconds(10));
  EXPECT_TRUE(f.agents->reports().empty());
}

TEST(RemotePicksTest, AReportTheAgentNoLongerTakesIsCountedLost) {
  Fixture f;
  f.agents->answer(chosen("10.0.0.1:80", "10.0.0.1", 80, "expired"));
  absl::StatusOr<RemotePicks::Choice> got = f.picks->pick({.service = "echo"}, kShard);
  ASSERT_TRUE(got.ok());
  got->endpoint->on_report(got->hold, kShard, OutcomeClass::kSuccess, 5, 1);
  got->endpoint->release(kShard, true);
  ASSERT_TRUE(eventually([&] { return f.picks->stats().lost == 1; }));
  EXPECT_EQ(f.picks->stats().forwarded, 0u);
}

TEST(RemotePicksTest, RefusalsFailuresAndMalformedAnswersMakeNoPick) {
  Fixture f;
  f.agents->answer(with_refusal(absl::UnavailableError("shed"), Refusal::kShed));
  f.agents->answer(absl::UnavailableError("no agent answered"));
  f.agents->answer(chosen("10.0.0.1:80", "10.0.0.2", 80, "t"));   // host not in the address
  f.agents->answer(chosen("10.0.0.1:0", "10.0.0.1", 0, "t"));     // no port
  f.agents->answer(chosen(std::string(600, 'a'), "a", 80, "t"));  // too long
  absl::StatusOr<RemotePicks::Choice> shed = f.picks->pick({.service = "echo"}, kShard);
  EXPECT_EQ(refusal_of(shed.status()), Refusal::kShed);
  EXPECT_EQ(f.picks->pick({.service = "echo"}, kShard).status().code(),
            absl::StatusCode::kUnavailable);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<RemotePicks::Choice> bad = f.picks->pick({.service = "echo"}, kShard);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(bad.status().message().find("malformed endpoint"), std::string_view::npos)
        << bad.status();
  }
  const RemotePicks::Stats s = f.picks->stats();
  EXPECT_EQ(s.picks, 0u);
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.unanswered, 4u);
  EXPECT_EQ(s.out, 0u);
  EXPECT_EQ(f.picks->status_json(),
            "{\"backup\":{\"picks\":0,\"refused\":1,\"unanswered\":4,\"forwarded\":0,\"lost\":0,"
            "\"unreported\":0,\"out\":0}}");
}

TEST(RemotePicksTest, AnInjectedAbortHasNoEndpointAndNothingToReport) {
  Fixture f;
  AgentPick abort = chosen("", "", 0, "");
  abort.fault.abort_status = 503;
  f.agents->answer(abort);
  absl::StatusOr<RemotePicks::Choice> got = f.picks->pick({.service = "echo"}, kShard);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->endpoint, nullptr);
  EXPECT_EQ(got->pick.fault.abort_status, 503);
  EXPECT_EQ(f.picks->stats().out, 0u);
  EXPECT_EQ(f.picks->stats().picks, 1u);
}

// The client goes first: what was reported by then still reaches the agent, and Picks
// still out stay usable and safe to let go afterwards.
TEST(RemotePicksTest, PicksOutliveTheirTracker) {
  auto agents = std::make_shared<ScriptedAgents>();
  struct Shared final : BackupAgents {  // the tracker owns this; the test keeps `agents`
    explicit Shared(std::shared_ptr<ScriptedAgents> a) : a(std::move(a)) {}
    absl::StatusOr<AgentPick> pick(const PickRequest& r) override { return a->pick(r); }
    absl::Status report(const AgentPick& p, const Outcome& o) override { return a->report(p, o); }
    std::shared_ptr<ScriptedAgents> a;
  };
  // A poll so slow that only the destructor's own passes can forward.
  auto picks = std::make_unique<RemotePicks>(std::make_unique<Shared>(agents), absl::Hours(1));
  agents->answer(chosen("10.0.0.1:80", "10.0.0.1", 80, "reported"));
  agents->answer(chosen("10.0.0.2:80", "10.0.0.2", 80, "held"));
  absl::StatusOr<RemotePicks::Choice> reported = picks->pick({.service = "echo"}, kShard);
  absl::StatusOr<RemotePicks::Choice> held = picks->pick({.service = "echo"}, kShard);
  ASSERT_TRUE(reported.ok() && held.ok());
  reported->endpoint->on_report(reported->hold, kShard, OutcomeClass::kSuccess, 7, 1);
  picks.reset();
  ASSERT_EQ(agents->reports().size(), 1u);
  EXPECT_EQ(agents->reports()[0].ticket, "reported");
  EXPECT_EQ(held->endpoint->address(), "10.0.0.2:80");
  EXPECT_EQ(held->endpoint->inflight(), 1u);
  held->endpoint->on_report(held->hold, kShard, OutcomeClass::kSuccess, 7, 1);  // not forwarded
  held->endpoint->release(kShard, true);
  reported->endpoint->release(kShard, true);
  Endpoint::sweep_graveyard();
  EXPECT_EQ(Endpoint::graveyard_size(), 0u);
  EXPECT_EQ(agents->reports().size(), 1u);
}

// Checked before any gRPC channel exists (this binary replaces operator new to count the
// request path's allocations, which gRPC's own allocations do not go through under ASan).
TEST(BackupOptionsTest, BadOptionsFailCreateNamingTheField) {
  ClientOptions options;
  options.backup.agents = {"127.0.0.1"};  // no port
  absl::StatusOr<std::unique_ptr<Client>> c = Client::create(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("ClientOptions: backup.agents[0]: "), std::string_view::npos)
      << c.status();
  options.backup.agents = {"127.0.0.1:1", "127.0.0.1:1"};
  c = Client::create(options);
  EXPECT_NE(c.status().message().find(
                "ClientOptions: backup.agents[1]: duplicate of backup.agents[0] (\"127.0.0.1:1\")"),
            std::string_view::npos)
      << c.status();
  options.backup.agents = {"127.0.0.1:1"};
  options.backup.timeout = absl::ZeroDuration();
  c = Client::create(options);
  EXPECT_NE(c.status().message().find("ClientOptions: backup.timeout: must be in [1ms, 1min]"),
            std::string_view::npos)
      << c.status();
}

}  // namespace
}  // namespace ufc::internal
