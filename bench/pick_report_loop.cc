// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// A bare pick+report loop for instruction counting, which is exact and repeatable where
// timings on these shared machines are not:
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//     build/bench/pick_report_loop <iterations> <policy> <endpoints> [nohistogram] [handle|plain]
//
// `handle`: pick through a ServiceHandle (Client::service) instead of by name, with the same
// request; `plain`: through a handle with no request (Client::pick(handle): PickRequest's
// defaults, so no hash key).
//
// Instructions per pick+report = (Ir at 200000 iterations - Ir at 100000) / 100000.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ufc/client.h"

namespace {

// The loops, one per way of picking, each in a function of its own and not in main(): GCC
// compiles main() for size (it runs once), which zeroes the 128-byte PickRequest with
// `rep stosl` (32 counted iterations) where any other function gets `rep stosq` (16) and
// leaves the StatusOr's destructor out of line. A caller picks from a function that takes
// its Client by reference, as these do.
const ufc::Outcome kOutcome = ufc::Outcome::http(200, absl::Microseconds(1500));

__attribute__((noinline)) long loop_plain(ufc::Client& client, const ufc::ServiceHandle& svc,
                                          long iterations) {
  long failed = 0;
  for (long i = 0; i < iterations; ++i) {
    absl::StatusOr<ufc::Pick> pick = client.pick(svc);
    if (!pick.ok()) {
      ++failed;
      continue;
    }
    client.report(*pick, kOutcome);
  }
  return failed;
}

__attribute__((noinline)) long loop_handle(ufc::Client& client, const ufc::ServiceHandle& svc,
                                           long iterations) {
  long failed = 0;
  for (long i = 0; i < iterations; ++i) {
    absl::StatusOr<ufc::Pick> pick = client.pick(svc, {.hash_key = "user-12345"});
    if (!pick.ok()) {
      ++failed;
      continue;
    }
    client.report(*pick, kOutcome);
  }
  return failed;
}

__attribute__((noinline)) long loop_by_name(ufc::Client& client, long iterations) {
  long failed = 0;
  for (long i = 0; i < iterations; ++i) {
    absl::StatusOr<ufc::Pick> pick = client.pick({.service = "svc", .hash_key = "user-12345"});
    if (!pick.ok()) {
      ++failed;
      continue;
    }
    client.report(*pick, kOutcome);
  }
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  bool histograms = true, handle = false, plain = false, usage = argc < 4;
  for (int i = 4; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "nohistogram") {
      histograms = false;
    } else if (flag == "handle") {
      handle = true;
    } else if (flag == "plain") {
      plain = true;
    } else {
      usage = true;
    }
  }
  if (usage) {
    std::fprintf(stderr,
                 "usage: %s <iterations> <policy> <endpoints> [nohistogram] [handle|plain]\n",
                 argv[0]);
    return 2;
  }
  const long iterations = std::atol(argv[1]);
  const int endpoints = std::atoi(argv[3]);
  ufc::v1::ServiceConfig s;
  s.set_name("svc");
  for (int i = 0; i < endpoints; ++i) {
    ufc::v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":80");
    e->set_weight(1 + i % 4);
  }
  s.mutable_balancing()->set_policy(argv[2]);
  ufc::ClientOptions options;
  options.latency_histograms = histograms;
  options.initial_config.emplace();
  *options.initial_config->add_services() = s;
  absl::StatusOr<std::unique_ptr<ufc::Client>> client = ufc::Client::create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", std::string(client.status().message()).c_str());
    return 1;
  }
  const ufc::ServiceHandle svc = (*client)->service("svc").value();
  const long failed = plain    ? loop_plain(**client, svc, iterations)
                      : handle ? loop_handle(**client, svc, iterations)
                               : loop_by_name(**client, iterations);
  return failed == 0 ? 0 : 1;
}
