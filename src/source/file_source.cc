// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/source/file_source.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "ufc/config.h"

namespace ufc::internal {

absl::StatusOr<v1::ClientConfig> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("config file ", path, ": cannot be opened"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": read failed"));
  }
  absl::StatusOr<v1::ClientConfig> config = parse_config_json(buffer.str());
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": ", config.status().message()));
  }
  return config;
}

absl::StatusOr<ConfigUpdate> FileSource::read() const {
  absl::StatusOr<v1::ClientConfig> config = read_config_file(path_);
  if (!config.ok()) return config.status();
  ConfigUpdate update;
  update.complete = true;
  update.all_or_nothing = true;
  update.config = *std::move(config);
  return update;
}

absl::Status FileSource::start(ConfigSink& sink) {
  absl::StatusOr<ConfigUpdate> update = read();
  if (!update.ok()) return update.status();
  const UpdateResult result = sink.deliver(*update);
  if (!result.status.ok()) {
    return absl::Status(result.status.code(),
                        absl::StrCat("config file ", path_, ": ", result.status.message()));
  }
  return absl::OkStatus();
}

}  // namespace ufc::internal

namespace ufc {

absl::StatusOr<v1::ClientConfig> load_config_file(const std::string& path) {
  absl::StatusOr<v1::ClientConfig> config = internal::read_config_file(path);
  if (!config.ok()) return config.status();
  if (absl::Status valid = validate_config(*config); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": ", valid.message()));
  }
  return config;
}

}  // namespace ufc
