// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The request path must not allocate in the steady state. This file replaces the global
// allocation functions of the core_test binary with counting ones; only allocations made
// while `counting` is set on the current thread are counted.

#include <atomic>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "tests/testing/sim_client.h"

// GCC cannot see that these replacements pair malloc with free on purpose.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
thread_local bool counting = false;
std::atomic<long> allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (counting) allocations.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void* operator new(size_t n, std::align_val_t a) {
  if (counting) allocations.fetch_add(1);
  const size_t align = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace ufc {
namespace {

using testing::make_service;

class NoAllocationTest : public ::testing::TestWithParam<const char*> {};

TEST_P(NoAllocationTest, PickAndReportDoNotAllocate) {
  v1::ClientConfig config;
  *config.add_services() = make_service("echo", 100, GetParam());
  ClientOptions options;  // real clock, per-thread random: the production configuration
  options.initial_config = config;
  auto client = Client::create(options);
  ASSERT_TRUE(client.ok());
  const Outcome outcome = Outcome::http(200, absl::Milliseconds(2));
  // Warm up: the first pick on a thread registers its epoch slot and seeds its generator.
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "echo", .hash_key = "k"});
    (*client)->report(*pick, outcome);
  }
  allocations = 0;
  counting = true;
  int picked = 0;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "echo", .hash_key = "user-42"});
    if (!pick.ok()) break;
    (*client)->report(*pick, outcome);
    ++picked;
  }
  counting = false;
  // Through a handle, with a request and without (service() itself may allocate).
  const ServiceHandle echo = (*client)->service("echo").value();
  counting = true;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<Pick> pick =
        i % 2 == 0 ? (*client)->pick(echo, {.hash_key = "user-7"}) : (*client)->pick(echo);
    if (!pick.ok()) break;
    (*client)->report(*pick, outcome);
    ++picked;
  }
  counting = false;
  EXPECT_EQ(picked, 20000);
  EXPECT_EQ(allocations.load(), 0) << GetParam();
  // The counter itself works: an allocation while counting is seen. (A new-expression
  // could be elided by the optimizer; a direct call to operator new cannot.)
  counting = true;
  ::operator delete(::operator new(16));
  counting = false;
  EXPECT_EQ(allocations.load(), 1);
}

// Fault injection's path (decide, an aborted Pick, a delayed one, the counters) does not
// allocate either.
TEST(NoAllocationFaultsTest, PicksWithInjectedFaultsDoNotAllocate) {
  v1::ClientConfig config;
  v1::ServiceConfig* s = config.add_services();
  *s = make_service("echo", 100, "round_robin");
  v1::FaultRule* f = s->add_faults();
  v1::AttributeMatch* m = f->add_attributes();
  m->set_key("x-chaos");
  m->set_op("present");
  f->mutable_abort()->set_percent(30);
  f->mutable_abort()->set_http_status(503);
  f->mutable_delay()->set_percent(30);
  f->mutable_delay()->mutable_fixed()->set_nanos(5000000);
  ClientOptions options;
  options.initial_config = config;
  auto client = Client::create(options);
  ASSERT_TRUE(client.ok());
  const Outcome outcome = Outcome::http(200, absl::Milliseconds(2));
  const Attribute chaos[] = {{"x-chaos", "1"}};
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "echo", .attributes = chaos});
    (*client)->report(*pick, outcome);
  }
  allocations = 0;
  counting = true;
  int aborted = 0, delayed = 0;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<Pick> pick = (*client)->pick({.service = "echo", .attributes = chaos});
    if (!pick.ok()) break;
    aborted += pick->fault().abort_status != 0 ? 1 : 0;
    delayed += pick->fault().delay != absl::ZeroDuration() ? 1 : 0;
    (*client)->report(*pick, outcome);
  }
  counting = false;
  EXPECT_GT(aborted, 0);
  EXPECT_GT(delayed, 0);
  EXPECT_EQ(allocations.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, NoAllocationTest,
                         ::testing::Values("round_robin", "random", "weighted_round_robin",
                                           "weighted_random", "consistent_hash", "least_loaded"));

}  // namespace
}  // namespace ufc
