// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/fuzz/fuzz_support.h: what the fuzz harnesses share — a deterministic Client (simulated
// clock, manual executor, fake prober, seeded random: no threads, nothing dialled), the
// "last good" config the harnesses apply hostile updates over, and the invariants they check.
//
// Each harness is a plain function `void <name>_one(std::string_view data)`, called by
// LLVMFuzzerTestOneInput under libFuzzer and by replay_main.cc (every file of the committed
// corpus and regressions, as a ctest test) in every build. An invariant that fails calls
// fuzz_fail(), which prints what broke and aborts: libFuzzer keeps the input as a crash.

#ifndef UFC_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define UFC_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <memory>
#include <string>
#include <string_view>

#include "tests/testing/fake_prober.h"
#include "tests/testing/manual_executor.h"
#include "tests/testing/seeded_random.h"
#include "tests/testing/sim_clock.h"
#include "ufc/client.h"

namespace ufc::internal {
class ClientCore;
}  // namespace ufc::internal

namespace ufc::fuzz {

// fuzz_fail() reports a broken invariant and aborts (libFuzzer records the input).
[[noreturn]] void fuzz_fail(std::string_view what, std::string_view detail = "");

#define UFC_FUZZ_CHECK(cond, detail)                                     \
  do {                                                                   \
    if (!(cond)) ::ufc::fuzz::fuzz_fail("check failed: " #cond, detail); \
  } while (0)

// fuzz_note() prints `what` when UFC_FUZZ_VERBOSE is set (e.g. while replaying a corpus,
// to see which inputs were applied and which rejected, and why).
void fuzz_note(std::string_view what);

// A Client on simulated time. Nothing runs unless the harness moves time (advance()).
struct FuzzClient {
  // nullptr, with `status` set, when Client::create refuses `config`.
  static std::unique_ptr<FuzzClient> create(const v1::ClientConfig& config,
                                            absl::Status* status = nullptr);
  // The same, as the ClientCore under a Client (in `core`, `client` unset): for harnesses
  // that deliver to it as a ConfigSink, the way config sources do. nullptr when refused.
  static std::unique_ptr<FuzzClient> create_core(const v1::ClientConfig& config);
  FuzzClient();
  ~FuzzClient();

  std::shared_ptr<testing::SimClock> clock;
  std::shared_ptr<testing::ManualExecutor> executor;
  std::unique_ptr<Client> client;
  std::unique_ptr<internal::ClientCore> core;
};

// The last good config the update harnesses start from: service kGoodService (routes,
// IDC affinity, timeouts, every section set) and a second, plain service kOtherService.
inline constexpr std::string_view kGoodService = "fuzz";
inline constexpr std::string_view kOtherService = "other";
const v1::ClientConfig& good_config();

// What query() says about `service` (services list, endpoints, routes): equal before and
// after an update that was rejected, as long as no traffic and no time passed in between.
std::string observable_state(Client& client, std::string_view service);
std::string observable_state(internal::ClientCore& client, std::string_view service);

// Picks from `service` a few times (plain, with a hash key, with each route's attributes
// and callers) and aborts if a pick returns an address that `config` does not list.
// A pick may fail (e.g. a deadline or an empty subset); it may not go outside the config.
void check_picks_in_config(Client& client, const v1::ServiceConfig& config);
void check_picks_in_config(internal::ClientCore& client, const v1::ServiceConfig& config);

}  // namespace ufc::fuzz

#endif  // UFC_TESTS_FUZZ_FUZZ_SUPPORT_H_
