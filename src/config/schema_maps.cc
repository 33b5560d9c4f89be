// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/schema_maps.h"

#include "ufc/v1/config.pb.h"

namespace ufc::internal {

const google::protobuf::Map<std::string, std::string>* schema_string_map(
    const google::protobuf::Message& message, const google::protobuf::FieldDescriptor& field) {
  static const google::protobuf::FieldDescriptor* const endpoint_tags =
      v1::Endpoint::descriptor()->FindFieldByNumber(v1::Endpoint::kTagsFieldNumber);
  static const google::protobuf::FieldDescriptor* const subset_tags =
      v1::Subset::descriptor()->FindFieldByNumber(v1::Subset::kTagsFieldNumber);
  static const google::protobuf::FieldDescriptor* const idc_map =
      v1::ClientConfig::descriptor()->FindFieldByNumber(v1::ClientConfig::kIdcMapFieldNumber);
  if (&field == endpoint_tags) return &static_cast<const v1::Endpoint&>(message).tags();
  if (&field == subset_tags) return &static_cast<const v1::Subset&>(message).tags();
  if (&field == idc_map) return &static_cast<const v1::ClientConfig&>(message).idc_map();
  return nullptr;
}

}  // namespace ufc::internal
