// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>

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

absl::StatusOr<v1::ClientConfig> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("config file ", path, ": cannot be opened"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad())
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": read failed"));
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(buffer.str());
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": ", config.status().message()));
  }
  if (absl::Status valid = validate_config(*config); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": ", valid.message()));
  }
  return config;
}

}  // namespace ufc
