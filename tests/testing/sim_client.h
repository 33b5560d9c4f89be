// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/sim_client.h: a Client on simulated time with deterministic randomness.

#ifndef UFC_TESTS_TESTING_SIM_CLIENT_H_
#define UFC_TESTS_TESTING_SIM_CLIENT_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/fake_prober.h"
#include "tests/testing/fake_resolver.h"
#include "tests/testing/manual_executor.h"
#include "tests/testing/seeded_random.h"
#include "ufc/client.h"

namespace ufc::testing {

// A service "name" with endpoints 10.0.0.1:80 .. 10.0.0.<n>:80, weight 1, idc=bj.
// (Addresses come from the documentation-free 10/8 range; nothing is ever dialled.)
inline v1::ServiceConfig make_service(const std::string& name, int n, const std::string& policy,
                                      uint64_t version = 1) {
  v1::ServiceConfig s;
  s.set_name(name);
  s.set_version(version);
  for (int i = 1; i <= n; ++i) {
    v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0.0." + std::to_string(i) + ":80");
    e->set_weight(1);
    (*e->mutable_tags())["idc"] = "bj";
  }
  s.mutable_balancing()->set_policy(policy);
  return s;
}

class SimClient {
 public:
  // `adjust` may change the options before the client is created.
  explicit SimClient(v1::ClientConfig config = {}, uint64_t seed = 1, std::string self_idc = "",
                     const std::function<void(ClientOptions&)>& adjust = nullptr)
      : clock(std::make_shared<SimClock>()),
        executor(std::make_shared<ManualExecutor>(clock)),
        random(std::make_shared<SeededRandom>(seed)),
        prober(std::make_shared<FakeProber>()),
        resolver(std::make_shared<FakeResolver>()) {
    ClientOptions options;
    options.self_service = "tester";
    options.self_idc = std::move(self_idc);
    options.initial_config = std::move(config);
    options.clock = clock;
    options.executor = executor;
    options.random = random;
    options.prober = prober;
    options.resolver = resolver;
    options.on_event = [this](const Event& e) { events.push_back(e); };
    if (adjust) adjust(options);
    auto created = Client::create(options);
    if (!created.ok()) {
      std::fprintf(stderr, "SimClient: %s\n", std::string(created.status().message()).c_str());
      std::abort();
    }
    client = *std::move(created);
  }

  // Picks from `service` and reports `outcome`; returns the chosen address, or "" when the
  // pick failed.
  std::string pick_and_report(const std::string& service, const Outcome& outcome) {
    absl::StatusOr<Pick> pick = client->pick({.service = service});
    if (!pick.ok()) return "";
    client->report(*pick, outcome);
    return std::string(pick->address());
  }

  std::shared_ptr<SimClock> clock;
  std::shared_ptr<ManualExecutor> executor;
  std::shared_ptr<SeededRandom> random;
  std::shared_ptr<FakeProber> prober;
  std::shared_ptr<FakeResolver> resolver;  // DNS destinations: the test answers
  std::vector<Event> events;
  std::unique_ptr<Client> client;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_SIM_CLIENT_H_
