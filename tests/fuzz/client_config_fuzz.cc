// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// client_config_fuzz: bytes parsed as a binary v1::ClientConfig, applied with
// Client::apply(ClientConfig) (complete, all-or-nothing) over a client holding
// good_config().
//
// Invariants: a rejected apply leaves every service of the good config observable as it
// was, and its picks in that config; an accepted one picks, for every service it names,
// only endpoints that service lists. Never a crash or a leak.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_support.h"

namespace ufc::fuzz {

void client_config_one(std::string_view data) {
  v1::ClientConfig config;
  if (!config.ParseFromArray(data.data(), static_cast<int>(data.size()))) return;

  std::unique_ptr<FuzzClient> c = FuzzClient::create(good_config());
  if (c == nullptr) fuzz_fail("good_config is refused by Client::create");
  std::vector<std::string> before;
  for (const v1::ServiceConfig& s : good_config().services()) {
    before.push_back(observable_state(*c->client, s.name()));
  }
  const absl::Status applied = c->client->apply(config);
  fuzz_note(absl::StrCat("apply(ClientConfig): ", applied.ToString()));
  if (applied.ok()) {
    for (const v1::ServiceConfig& s : config.services()) check_picks_in_config(*c->client, s);
    return;
  }
  for (int i = 0; i < good_config().services_size(); ++i) {
    const v1::ServiceConfig& s = good_config().services(i);
    const std::string after = observable_state(*c->client, s.name());
    UFC_FUZZ_CHECK(before[i] == after, absl::StrCat("rejected with ", applied.ToString(),
                                                    "\nbefore: ", before[i], "\nafter:  ", after));
    check_picks_in_config(*c->client, s);
  }
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::client_config_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
