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
  absl::flat_hash_set<std::string> names;
  for (const v1::ServiceConfig& s : config.services()) {
    absl::StatusOr<ParsedService> one =
        names.insert(s.name()).second
            ? parse_service(s)
            : absl::InvalidArgumentError("name: listed twice in one update");
    if (!one.ok()) result.rejected.emplace_back(s.name(), one.status());
    parsed.services.push_back(one.ok() ? std::optional<ParsedService>(*std::move(one))
                                       : std::nullopt);
  }
  return parsed;
}

}  // namespace ufc::internal
