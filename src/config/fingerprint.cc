// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/fingerprint.h"

#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "src/common/stable_hash.h"

namespace ufc::internal {

Fingerprint fingerprint(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return Fingerprint{stable_hash(bytes, 0x75666331), stable_hash(bytes, 0x75666332)};
}

}  // namespace ufc::internal
