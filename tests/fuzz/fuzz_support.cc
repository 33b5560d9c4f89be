// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "tests/fuzz/fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/common/strings.h"
#include "src/core/client_core.h"
#include "tests/testing/fake_resolver.h"
#include "ufc/config.h"

namespace ufc::fuzz {

void fuzz_fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void fuzz_note(std::string_view what) {
  static const bool verbose = std::getenv("UFC_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%.*s\n", static_cast<int>(what.size()), what.data());
}

namespace {
ClientOptions fuzz_options(FuzzClient& c, const v1::ClientConfig& config) {
  c.clock = std::make_shared<testing::SimClock>();
  c.executor = std::make_shared<testing::ManualExecutor>(c.clock);
  ClientOptions options;
  options.self_service = "tester";
  options.self_idc = "bj";
  options.initial_config = config;
  options.clock = c.clock;
  options.executor = c.executor;
  options.random = std::make_shared<testing::SeededRandom>(1);
  options.prober = std::make_shared<testing::FakeProber>();
  // DNS destinations are looked up by a resolver that never answers: no thread, no
  // network, and (what the pick checks rely on) no endpoint beyond the config's own.
  options.resolver = std::make_shared<testing::FakeResolver>();
  return options;
}
}  // namespace

FuzzClient::FuzzClient() = default;
FuzzClient::~FuzzClient() = default;

std::unique_ptr<FuzzClient> FuzzClient::create(const v1::ClientConfig& config,
                                               absl::Status* status) {
  auto c = std::make_unique<FuzzClient>();
  absl::StatusOr<std::unique_ptr<Client>> created = Client::create(fuzz_options(*c, config));
  if (status != nullptr) *status = created.status();
  if (!created.ok()) return nullptr;
  c->client = *std::move(created);
  return c;
}

std::unique_ptr<FuzzClient> FuzzClient::create_core(const v1::ClientConfig& config) {
  auto c = std::make_unique<FuzzClient>();
  absl::StatusOr<std::unique_ptr<internal::ClientCore>> created =
      internal::ClientCore::create(fuzz_options(*c, config));
  if (!created.ok()) return nullptr;
  c->core = *std::move(created);
  return c;
}

// Every section set, two routes (attributes + percentage; callers), IDC affinity: the
// update harnesses mutate away from a config that exercises all of the compiler.
constexpr std::string_view kGoodJson = R"json({
  "services": [{
    "name": "fuzz", "version": "1",
    "endpoints": [
      {"address": "10.0.0.1:80", "weight": 2, "tags": {"idc": "bj", "version": "v1"}},
      {"address": "10.0.0.2:80", "tags": {"idc": "bj", "version": "v2"}},
      {"address": "[::1]:8080", "tags": {"idc": "sh", "version": "v1"}},
      {"address": "backend.example:443", "weight": 0.5, "tags": {"idc": "sh", "version": "v2"}}
    ],
    "balancing": {"policy": "weighted_round_robin"},
    "ban": {"byRequest": {"window": 10, "failures": 5, "consecutive": 5},
            "byBusiness": {"interval": "2s", "minRequests": 20},
            "baseTime": "1s", "maxTime": "60s", "maxRatio": 0.5},
    "timeouts": {"connect": "0.1s", "read": "1s", "deadlineMargin": "0.005s",
                 "strict": {"connect": "0.05s", "read": "0.5s"}},
    "routes": [
      {"name": "canary",
       "match": {"attributes": [{"key": "x-canary", "op": "exact", "value": "1"}], "percent": 50},
       "destinations": [{"name": "v2", "tags": {"version": "v2"},
                         "balancing": {"policy": "consistent_hash"}}]},
      {"name": "callers", "match": {"callerServices": ["tester"]},
       "destinations": [{"tags": {"version": "v1"}, "weight": 9},
                        {"tags": {"version": "v2"}, "weight": 1}]}
    ],
    "idcAffinity": {"enabled": true, "minHealthy": 1},
    "fuse": {"controller": "seed", "interval": "1s", "threshold": 0.9},
    "retry": {"maxAttempts": 3, "budget": 0.1, "window": "10s"}
  }, {
    "name": "other", "version": "1",
    "endpoints": [{"address": "10.0.1.1:80"}, {"address": "10.0.1.2:80"}]
  }],
  "idcMap": {"bj-1": "bj"}
})json";

const v1::ClientConfig& good_config() {
  static const v1::ClientConfig* config = [] {
    absl::StatusOr<v1::ClientConfig> parsed = parse_config_json(kGoodJson);
    if (!parsed.ok()) fuzz_fail("good_config does not parse", parsed.status().ToString());
    if (absl::Status s = validate_config(*parsed); !s.ok()) {
      fuzz_fail("good_config does not validate", s.ToString());
    }
    return new v1::ClientConfig(*std::move(parsed));
  }();
  return *config;
}

namespace {
template <typename C>
std::string observable_state_of(C& client, std::string_view service) {
  return absl::StrCat(client.query("services"), "\n",
                      client.query(absl::StrCat("endpoints^", internal::av(service))), "\n",
                      client.query(absl::StrCat("routes^", internal::av(service))));
}

template <typename C>
void check_picks_of(C& client, const v1::ServiceConfig& config) {
  std::set<std::string, std::less<>> addresses;
  for (const v1::Endpoint& e : config.endpoints()) addresses.insert(e.address());

  // The requests: plain, hashed, and one per route carrying what its match asks for.
  std::vector<std::vector<Attribute>> attribute_sets{{}};
  std::vector<std::string_view> callers{""};
  for (const v1::Route& route : config.routes()) {
    std::vector<Attribute> attributes;
    for (const v1::AttributeMatch& m : route.match().attributes()) {
      attributes.emplace_back(m.key(), m.value());
    }
    attribute_sets.push_back(std::move(attributes));
    for (const std::string& caller : route.match().caller_services()) callers.push_back(caller);
    if (attribute_sets.size() > 8) break;  // keep an iteration cheap on huge configs
  }
  if (callers.size() > 4) callers.resize(4);
  for (const std::vector<Attribute>& attributes : attribute_sets) {
    for (std::string_view caller : callers) {
      for (int i = 0; i < 3; ++i) {
        PickRequest request{.service = config.name()};
        request.attributes = attributes;
        request.caller_service = caller;
        const std::string key = absl::StrCat("key", i);
        if (i == 1) request.hash_key = key;
        if (i == 2) request.hash = 0x9e3779b97f4a7c15ULL;
        absl::StatusOr<Pick> pick = client.pick(request);
        if (!pick.ok()) continue;
        if (!addresses.contains(pick->address())) {
          fuzz_fail("a pick left the applied config",
                    absl::StrCat("service \"", config.name(), "\" picked \"",
                                 internal::av(pick->address()), "\", which is not one of its ",
                                 addresses.size(), " endpoints"));
        }
      }
    }
  }
}

}  // namespace

std::string observable_state(Client& client, std::string_view service) {
  return observable_state_of(client, service);
}
std::string observable_state(internal::ClientCore& client, std::string_view service) {
  return observable_state_of(client, service);
}
void check_picks_in_config(Client& client, const v1::ServiceConfig& config) {
  check_picks_of(client, config);
}
void check_picks_in_config(internal::ClientCore& client, const v1::ServiceConfig& config) {
  check_picks_of(client, config);
}

}  // namespace ufc::fuzz
