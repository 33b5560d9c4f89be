// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// service_config_fuzz: bytes parsed as a binary v1::ServiceConfig, applied with
// Client::apply(ServiceConfig) over a client holding good_config().
//
// Invariants: a rejected apply leaves what query() shows of the service it named (and of
// the good service) as it was, and picks stay in the last good config; an accepted one
// picks only endpoints of the applied config. A nameless update is given the good
// service's name, so that most inputs really replace it. Never a crash or a leak.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_support.h"

namespace ufc::fuzz {

void service_config_one(std::string_view data) {
  v1::ServiceConfig service;
  if (!service.ParseFromArray(data.data(), static_cast<int>(data.size()))) return;
  if (service.name().empty()) service.set_name(std::string(kGoodService));

  std::unique_ptr<FuzzClient> c = FuzzClient::create(good_config());
  if (c == nullptr) fuzz_fail("good_config is refused by Client::create");
  const std::string before = observable_state(*c->client, service.name());
  const std::string good_before = observable_state(*c->client, kGoodService);
  const absl::Status applied = c->client->apply(service);
  fuzz_note(absl::StrCat("apply(ServiceConfig): ", applied.ToString()));
  if (applied.ok()) {
    check_picks_in_config(*c->client, service);
    return;
  }
  const std::string after = observable_state(*c->client, service.name());
  UFC_FUZZ_CHECK(before == after, absl::StrCat("rejected with ", applied.ToString(),
                                               "\nbefore: ", before, "\nafter:  ", after));
  UFC_FUZZ_CHECK(good_before == observable_state(*c->client, kGoodService), applied.ToString());
  for (const v1::ServiceConfig& s : good_config().services()) check_picks_in_config(*c->client, s);
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::service_config_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
