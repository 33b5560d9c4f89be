// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/config/validation_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ufc::internal {

ValidationErrors::Scope::Scope(ValidationErrors& errors, absl::string_view field)
    : errors_(errors) {
  errors_.path_.emplace_back(field);
}

ValidationErrors::Scope::~Scope() { errors_.path_.pop_back(); }

std::string ValidationErrors::path() const {
  std::string out;
  for (const std::string& field : path_) {
    if (!out.empty() && field[0] != '[') out += '.';
    out += field;
  }
  return out;
}

void ValidationErrors::add(absl::string_view message) {
  const std::string where = path();
  errors_.push_back(where.empty() ? std::string(message) : absl::StrCat(where, ": ", message));
}

absl::Status ValidationErrors::status() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors_, "; "));
}

}  // namespace ufc::internal
