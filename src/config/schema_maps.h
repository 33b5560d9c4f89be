// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/schema_maps.h: the schema's string maps, reached as the maps they are.

#ifndef UFC_CONFIG_SCHEMA_MAPS_H_
#define UFC_CONFIG_SCHEMA_MAPS_H_

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/map.h"
#include "google/protobuf/message.h"

namespace ufc::internal {

// The map behind `field` of `message` when it is one of the schema's string maps
// (Endpoint.tags, Subset.tags, ClientConfig.idc_map); nullptr for any other field.
// Through reflection a map is only reachable as repeated entry messages, and that view
// makes protobuf build and keep a message per entry beside the map (~70 MiB left in the
// caller's config for 100,000 endpoints' tags): walkers of a whole config (string checks,
// the fingerprint) read these through here instead. Cost: three pointer compares.
const google::protobuf::Map<std::string, std::string>* schema_string_map(
    const google::protobuf::Message& message, const google::protobuf::FieldDescriptor& field);

}  // namespace ufc::internal

#endif  // UFC_CONFIG_SCHEMA_MAPS_H_
