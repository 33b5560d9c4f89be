// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// pick_admitted(): the balancer's choice unless the endpoint's admission word refuses it
// (held after a trip, on probation and not drawn), then the balancer's next choice.

#include "gtest/gtest.h"
#include "src/balancing/maglev.h"
#include "src/balancing/random_choice.h"
#include "src/balancing/round_robin.h"
#include "tests/balancing/endpoints_fixture.h"
#include "tests/testing/seeded_random.h"

namespace ufc::internal {
namespace {

TEST(PickAdmittedTest, AHeldEndpointIsSkippedAtTheNextPickAndTheRotationGoesOn) {
  EndpointsFixture eps = EndpointsFixture::uniform(4);
  RoundRobin rr(eps.candidates());
  PickContext ctx;
  eps.at(2)->hold();
  std::vector<int> order;
  for (int i = 0; i < 6; ++i) order.push_back(eps.index_of(pick_admitted(rr, ctx, eps.size())));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 3, 0, 1, 3}));
  eps.at(2)->clear_hold();
  EXPECT_EQ(eps.index_of(pick_admitted(rr, ctx, eps.size())), 0);
  EXPECT_EQ(eps.index_of(pick_admitted(rr, ctx, eps.size())), 1);
  EXPECT_EQ(eps.index_of(pick_admitted(rr, ctx, eps.size())), 2);
}

TEST(PickAdmittedTest, WhenEveryCandidateIsHeldItFailsOpen) {
  EndpointsFixture eps = EndpointsFixture::uniform(3);
  RoundRobin rr(eps.candidates());
  PickContext ctx;
  for (int i = 0; i < 3; ++i) eps.at(i)->hold();
  EXPECT_NE(pick_admitted(rr, ctx, eps.size()), nullptr) << "never no backend";
  for (int i = 0; i < 3; ++i) eps.at(i)->clear_hold();
}

TEST(PickAdmittedTest, RandomAndHashPoliciesMoveOnToAnotherCandidate) {
  EndpointsFixture eps = EndpointsFixture::uniform(5);
  testing::SeededRandom rng(3);
  RandomChoice random(eps.candidates());
  eps.at(1)->hold();
  for (int i = 0; i < 200; ++i) {
    PickContext ctx{Random(&rng)};
    EXPECT_NE(eps.index_of(pick_admitted(random, ctx, eps.size())), 1);
  }
  // A key that maps to the held endpoint goes to another candidate, the same each time.
  Maglev maglev(eps.candidates(), 0);
  PickContext by_key;
  std::string key;
  for (int k = 0;; ++k) {
    key = "user-" + std::to_string(k);
    by_key.hash_key = key;
    if (maglev.pick(by_key) == eps.at(1)) break;
  }
  Endpoint* moved = pick_admitted(maglev, by_key, eps.size());
  EXPECT_NE(moved, eps.at(1));
  by_key.attempt = 0;
  EXPECT_EQ(pick_admitted(maglev, by_key, eps.size()), moved);
  eps.at(1)->clear_hold();
}

TEST(PickAdmittedTest, AProbationerTakesAboutItsShareOfItsTurns) {
  EndpointsFixture eps = EndpointsFixture::uniform(4);
  RoundRobin rr(eps.candidates());
  testing::SeededRandom rng(9);
  eps.at(0)->start_trial(0.1, 1000000);
  int to_it = 0;
  for (int i = 0; i < 40000; ++i) {
    PickContext ctx{Random(&rng)};
    to_it += pick_admitted(rr, ctx, eps.size()) == eps.at(0);
  }
  // Its turns come once per rotation, and a rotation in which it is passed over is one
  // pick shorter: 40,000 picks hold ~12,900 of its turns, a tenth of them kept (~1,290).
  EXPECT_GT(to_it, 1100);
  EXPECT_LT(to_it, 1500);
  eps.at(0)->end_trial();
}

}  // namespace
}  // namespace ufc::internal
