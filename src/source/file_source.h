// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/source/file_source.h: a JSON config file as a config source.

#ifndef UFC_SOURCE_FILE_SOURCE_H_
#define UFC_SOURCE_FILE_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "src/source/config_source.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// read_config_file() reads and parses (does not validate) the JSON ClientConfig at `path`.
// NOT_FOUND when it cannot be opened; INVALID_ARGUMENT, naming the path, otherwise.
absl::StatusOr<v1::ClientConfig> read_config_file(const std::string& path);

// FileSource: the file's content, delivered once as a complete, all-or-nothing update
// (every service in it, and its idc_map; services it does not list are removed).
// Thread-safety: start() delivers on the calling thread; no thread of its own.
class FileSource final : public ConfigSource {
 public:
  explicit FileSource(std::string path) : path_(std::move(path)) {}

  // The update the file stands for; errors as read_config_file().
  absl::StatusOr<ConfigUpdate> read() const;
  // Reads the file and delivers it; the read error, or the client's verdict, prefixed
  // with the path.
  absl::Status start(ConfigSink& sink) override;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ufc::internal

#endif  // UFC_SOURCE_FILE_SOURCE_H_
