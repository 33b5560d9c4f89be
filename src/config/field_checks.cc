// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/field_checks.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ufc::internal {

std::optional<absl::Duration> to_duration(const google::protobuf::Duration& d) {
  // google/protobuf/duration.proto: |seconds| <= 315576000000, |nanos| < 1e9, same sign.
  if (d.seconds() < -315576000000LL || d.seconds() > 315576000000LL) return std::nullopt;
  if (d.nanos() <= -1000000000 || d.nanos() >= 1000000000) return std::nullopt;
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) return std::nullopt;
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

bool check_duration(ValidationErrors& errors, absl::string_view field,
                    const google::protobuf::Duration& d, absl::Duration lo, absl::Duration hi) {
  ValidationErrors::Scope scope(errors, field);
  const std::optional<absl::Duration> v = to_duration(d);
  if (!v.has_value()) {
    errors.add("is not a valid duration (seconds and nanos disagree)");
    return false;
  }
  if (*v < lo || *v > hi) {
    errors.add(absl::StrCat("must be in [", absl::FormatDuration(lo), ", ",
                            absl::FormatDuration(hi), "], got ", absl::FormatDuration(*v)));
    return false;
  }
  return true;
}

bool check_range(ValidationErrors& errors, absl::string_view field, double value, double lo,
                 double hi) {
  if (std::isfinite(value) && value >= lo && value <= hi) return true;
  ValidationErrors::Scope scope(errors, field);
  errors.add(absl::StrCat("must be in [", lo, ", ", hi, "], got ", value));
  return false;
}

bool check_open_closed(ValidationErrors& errors, absl::string_view field, double value, double lo,
                       double hi) {
  if (std::isfinite(value) && value > lo && value <= hi) return true;
  ValidationErrors::Scope scope(errors, field);
  errors.add(absl::StrCat("must be in (", lo, ", ", hi, "], got ", value));
  return false;
}

bool check_range(ValidationErrors& errors, absl::string_view field, uint64_t value, uint64_t lo,
                 uint64_t hi) {
  if (value >= lo && value <= hi) return true;
  ValidationErrors::Scope scope(errors, field);
  errors.add(absl::StrCat("must be in [", lo, ", ", hi, "], got ", value));
  return false;
}

bool check_count(ValidationErrors& errors, absl::string_view field, int64_t count, int64_t max) {
  if (count <= max) return true;
  ValidationErrors::Scope scope(errors, field);
  errors.add(absl::StrCat("has ", count, " entries, at most ", max, " are allowed"));
  return false;
}

void read_duration(ValidationErrors& errors, absl::string_view field, bool present,
                   const google::protobuf::Duration& d, absl::Duration lo, absl::Duration hi,
                   absl::Duration& into) {
  if (present && check_duration(errors, field, d, lo, hi)) into = *to_duration(d);
}

void read_range(ValidationErrors& errors, absl::string_view field, bool present, double value,
                double lo, double hi, double& into) {
  if (present && check_range(errors, field, value, lo, hi)) into = value;
}

void read_open_closed(ValidationErrors& errors, absl::string_view field, bool present, double value,
                      double lo, double hi, double& into) {
  if (present && check_open_closed(errors, field, value, lo, hi)) into = value;
}

void read_range(ValidationErrors& errors, absl::string_view field, bool present, uint32_t value,
                uint64_t lo, uint64_t hi, uint32_t& into) {
  if (present && check_range(errors, field, uint64_t{value}, lo, hi)) into = value;
}

}  // namespace ufc::internal
