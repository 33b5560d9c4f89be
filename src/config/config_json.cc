// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "ufc/config.h"

namespace ufc {

absl::StatusOr<v1::ClientConfig> parse_config_json(std::string_view json) {
  v1::ClientConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a typo must not silently disable a setting
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config JSON does not parse: ", std::string(status.message())));
  }
  return config;
}

}  // namespace ufc
