// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/config.h: reading and checking UFC configs (the `ufc.v1` protobuf schema in
// protos/ufc/v1/config.proto) outside a Client.
//
// JSON is protobuf's JSON mapping of `ufc.v1.ClientConfig`, for example:
//
//   {"services": [{"name": "echo", "version": "3",
//                  "endpoints": [{"address": "10.0.0.1:80", "weight": 2,
//                                 "tags": {"idc": "bj"}}],
//                  "balancing": {"policy": "weighted_round_robin"}}]}
//
// Validation gathers every error, each with its field path, into one INVALID_ARGUMENT
// status: "services[1].endpoints[3].weight: must be >= 0, got -1; services[2].name: ...".

#ifndef UFC_CONFIG_H_
#define UFC_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ufc/v1/config.pb.h"

namespace ufc {

// parse_config_json() parses `json` into a ClientConfig. Unknown fields are errors (a
// typo must not silently disable a setting), and so are the shapes protobuf's parser
// would otherwise bend into something else, each naming its field: an array directly
// inside a repeated field's array ("services[0]: nested array: ..."; {"services":[[]]}
// would read as an empty config), a null element, a lone value where an array belongs, a
// null map value, and a key given twice in one object. Does not validate; see
// validate_config(). Cost: the text is parsed twice (once as a generic JSON tree).
absl::StatusOr<v1::ClientConfig> parse_config_json(std::string_view json);

// load_config_file() reads and parses the JSON file at `path`, then validates it.
// NOT_FOUND when the file cannot be opened; INVALID_ARGUMENT, naming the path, otherwise.
absl::StatusOr<v1::ClientConfig> load_config_file(const std::string& path);

// validate_config() checks a whole ClientConfig: every service as validate_service() does
// (paths prefixed "services[i]."), plus unique service names.
absl::Status validate_config(const v1::ClientConfig& config);

// validate_service() checks one service; paths are relative to it ("endpoints[3].weight").
absl::Status validate_service(const v1::ServiceConfig& service);

}  // namespace ufc

#endif  // UFC_CONFIG_H_
