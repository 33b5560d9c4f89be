// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/field_checks.h: range checks shared by the config section validators.

#ifndef UFC_CONFIG_FIELD_CHECKS_H_
#define UFC_CONFIG_FIELD_CHECKS_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "src/config/validation_errors.h"

namespace ufc::internal {

// The duration a proto Duration means, or nullopt when seconds and nanos are out of range
// or disagree in sign.
std::optional<absl::Duration> to_duration(const google::protobuf::Duration& d);

// Each check adds "<field>: <problem>" to `errors` under the current path and returns
// whether the value was acceptable.
bool check_duration(ValidationErrors& errors, absl::string_view field,
                    const google::protobuf::Duration& d, absl::Duration lo, absl::Duration hi);
bool check_range(ValidationErrors& errors, absl::string_view field, double value, double lo,
                 double hi);
// (lo, hi]: for ratios that must be positive.
bool check_open_closed(ValidationErrors& errors, absl::string_view field, double value, double lo,
                       double hi);
bool check_range(ValidationErrors& errors, absl::string_view field, uint64_t value, uint64_t lo,
                 uint64_t hi);

// The read_* helpers read an optional field of a config section: when `present`, check
// it as above and store it in `into` if acceptable. Absent, `into` keeps its default: the
// policy struct's member initializer, the one place defaults are written.
// Adds "has N entries, at most M are allowed" under `field` when count > max.
bool check_count(ValidationErrors& errors, absl::string_view field, int64_t count, int64_t max);

void read_duration(ValidationErrors& errors, absl::string_view field, bool present,
                   const google::protobuf::Duration& d, absl::Duration lo, absl::Duration hi,
                   absl::Duration& into);
void read_range(ValidationErrors& errors, absl::string_view field, bool present, double value,
                double lo, double hi, double& into);
void read_open_closed(ValidationErrors& errors, absl::string_view field, bool present, double value,
                      double lo, double hi, double& into);
void read_range(ValidationErrors& errors, absl::string_view field, bool present, uint32_t value,
                uint64_t lo, uint64_t hi, uint32_t& into);

}  // namespace ufc::internal

#endif  // UFC_CONFIG_FIELD_CHECKS_H_
