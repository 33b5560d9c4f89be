// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/fingerprint.h: a 128-bit digest of a config's content.

#ifndef UFC_CONFIG_FINGERPRINT_H_
#define UFC_CONFIG_FINGERPRINT_H_

#include <cstdint>

#include "google/protobuf/message.h"

namespace ufc::internal {

struct Fingerprint {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Fingerprint& o) const { return hi == o.hi && lo == o.lo; }
  bool operator!=(const Fingerprint& o) const { return !(*this == o); }
};

// fingerprint() digests every set field of `message` by reflection (field numbers, values,
// repeated fields in order, maps in any order, unknown fields of a newer schema), so
// equal messages — however their maps were filled — have equal fingerprints. Lets a
// snapshot remember "which content is this version" without keeping a copy of the config.
// Not stable across builds (not for storage or the wire). Cost: ~0.3 us per endpoint
// (Endpoint is read without reflection), no allocation per endpoint; 100,000 endpoints
// in ~25 ms, where the deterministic serialization it replaced took 40-60 ms.
Fingerprint fingerprint(const google::protobuf::Message& message);

}  // namespace ufc::internal

#endif  // UFC_CONFIG_FINGERPRINT_H_
