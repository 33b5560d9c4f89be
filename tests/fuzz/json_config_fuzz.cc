// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// json_config_fuzz: bytes -> parse_config_json -> validate_config -> a new Client, and the
// same config applied over a client holding good_config().
//
// Invariants: what validates is what creates (Client::create accepts a config exactly when
// validate_config does); a rejected apply leaves the last good config observable as before;
// an accepted one picks only endpoints of the applied config. Never a crash or a leak.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_support.h"
#include "ufc/config.h"

namespace ufc::fuzz {

void json_config_one(std::string_view data) {
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(data);
  if (!config.ok()) return;
  const absl::Status valid = validate_config(*config);

  absl::Status created;
  std::unique_ptr<FuzzClient> fresh = FuzzClient::create(*config, &created);
  UFC_FUZZ_CHECK(valid.ok() == created.ok(),
                 absl::StrCat("validate_config: ", valid.ToString(),
                              "\nClient::create: ", created.ToString()));
  if (fresh != nullptr) {
    for (const v1::ServiceConfig& s : config->services()) check_picks_in_config(*fresh->client, s);
  }

  std::unique_ptr<FuzzClient> c = FuzzClient::create(good_config());
  if (c == nullptr) fuzz_fail("good_config is refused by Client::create");
  const std::string before = observable_state(*c->client, kGoodService);
  const absl::Status applied = c->client->apply(*config);
  fuzz_note(absl::StrCat("validate: ", valid.ToString(), "; apply: ", applied.ToString()));
  if (applied.ok()) {
    for (const v1::ServiceConfig& s : config->services()) check_picks_in_config(*c->client, s);
  } else {
    UFC_FUZZ_CHECK(before == observable_state(*c->client, kGoodService),
                   absl::StrCat("rejected with ", applied.ToString(), "\nbefore: ", before,
                                "\nafter:  ", observable_state(*c->client, kGoodService)));
    check_picks_in_config(*c->client, good_config().services(0));
  }
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::json_config_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
