// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/source/parsed_update.h"

#include <string>

#include "absl/container/flat_hash_set.h"

namespace ufc::internal {

ParsedUpdate parse_update(const ConfigUpdate& update, UpdateResult& result) {
  ParsedUpdate parsed;
  const v1::ClientConfig& config = update.content();
  if (update.all_or_nothing) {
    ValidationErrors errors;
    std::vector<ParsedService> all = parse_client_config(config, errors);
    if (!errors.empty()) {
      result.status = errors.status();
      return parsed;
    }
    for (ParsedService& s : all) parsed.services.emplace_back(std::move(s));
    return parsed;
  }
  if (update.replace_idc_map) {
    ValidationErrors errors;
    if (!check_idc_map(config, errors)) {
      result.status = errors.status();
      return parsed;
    }
  }
  // A name listed twice is rejected every time: which of them the source meant is unknown,
  // and whatever the client kept would differ from what the source believes it has.
  absl::flat_hash_set<std::string> names, twice;
  for (const v1::ServiceConfig& s : config.services()) {
    if (!names.insert(s.name()).second) twice.insert(s.name());
  }
  names.clear();
  for (const v1::ServiceConfig& s : config.services()) {
    const bool again = !names.insert(s.name()).second;
    absl::StatusOr<ParsedService> one =
        twice.contains(s.name()) && again
            ? absl::InvalidArgumentError("name: listed twice in one update")
            : parse_service(s);
    if (one.ok() && twice.contains(s.name())) {
      one = absl::InvalidArgumentError("name: listed twice in one update");
    }
    if (!one.ok()) result.rejected.emplace_back(s.name(), one.status());
    parsed.services.push_back(one.ok() ? std::optional<ParsedService>(*std::move(one))
                                       : std::nullopt);
  }
  return parsed;
}

}  // namespace ufc::internal
