// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/source/parsed_update.h: a ConfigUpdate read once, before the client applies it.

#ifndef UFC_SOURCE_PARSED_UPDATE_H_
#define UFC_SOURCE_PARSED_UPDATE_H_

#include <optional>
#include <vector>

#include "src/service/service_policy.h"
#include "src/source/config_source.h"

namespace ufc::internal {

// Per service of update.content(), its policy and endpoints, or nothing when it was rejected.
struct ParsedUpdate {
  std::vector<std::optional<ParsedService>> services;
};

// parse_update() parses every service of `update`. All or nothing: any problem sets
// `result.status` (paths "services[i]...", and the idc_map) and parses nothing. Otherwise
// each bad service (and every copy of one listed twice) goes to `result.rejected` with
// paths relative to it, and the rest parse. With replace_idc_map, an invalid idc_map sets
// `result.status` ("idc_map...") and parses nothing. Pure: no client state is read, so it runs
// outside the lock.
ParsedUpdate parse_update(const ConfigUpdate& update, UpdateResult& result);

}  // namespace ufc::internal

#endif  // UFC_SOURCE_PARSED_UPDATE_H_
