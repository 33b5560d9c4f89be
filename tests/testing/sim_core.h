// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/sim_core.h: the client's internals (ClientCore) on simulated time, for
// tests of what the public Client does not expose: config sources, endpoint-only updates.

#ifndef UFC_TESTS_TESTING_SIM_CORE_H_
#define UFC_TESTS_TESTING_SIM_CORE_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/client_core.h"
#include "tests/testing/fake_prober.h"
#include "tests/testing/manual_executor.h"
#include "tests/testing/seeded_random.h"

namespace ufc::testing {

class SimCore {
 public:
  explicit SimCore(v1::ClientConfig config = {})
      : clock(std::make_shared<SimClock>()), executor(std::make_shared<ManualExecutor>(clock)) {
    ClientOptions options;
    options.initial_config = std::move(config);
    options.clock = clock;
    options.executor = executor;
    options.random = std::make_shared<SeededRandom>(1);
    options.prober = std::make_shared<FakeProber>();
    // Events may come from several delivering threads at once.
    options.on_event = [this](const Event& e) {
      std::lock_guard<std::mutex> lock(events_mu);
      events.push_back(e);
    };
    auto created = internal::ClientCore::create(options);
    if (!created.ok()) {
      std::fprintf(stderr, "SimCore: %s\n", std::string(created.status().message()).c_str());
      std::abort();
    }
    core = *std::move(created);
  }

  // The addresses `n` picks of `service` went to ("" for a failed pick), each reported ok.
  std::vector<std::string> picks(const std::string& service, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Pick> pick = core->pick({.service = service});
      out.push_back(pick.ok() ? std::string(pick->address()) : "");
      if (pick.ok()) core->report(*pick, Outcome::ok(absl::Milliseconds(1)));
    }
    return out;
  }

  std::shared_ptr<SimClock> clock;
  std::shared_ptr<ManualExecutor> executor;
  std::mutex events_mu;
  std::vector<Event> events;  // read it when no delivery is running
  std::unique_ptr<internal::ClientCore> core;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_SIM_CORE_H_
