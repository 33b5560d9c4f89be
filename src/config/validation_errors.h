// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/validation_errors.h: collects every config error with its field path.

#ifndef UFC_CONFIG_VALIDATION_ERRORS_H_
#define UFC_CONFIG_VALIDATION_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ufc::internal {

// ValidationErrors: a field-path stack plus the errors found so far, in the style of
// gRPC's ValidationErrors. Validators push a Scope per field they descend into and call
// add() for each problem; status() joins them all:
//   "services[1].endpoints[3].weight: must be >= 0, got -1; services[2].name: must not
//   be empty".
// Thread-safety: none; one validation at a time.
class ValidationErrors {
 public:
  // Scope: descends into `field` ("name", "endpoints", or an index "[3]") for its lifetime.
  class Scope {
   public:
    Scope(ValidationErrors& errors, absl::string_view field);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ValidationErrors& errors_;
  };

  // Records `message` against the current field path.
  void add(absl::string_view message);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  std::string path() const;

  // OK when there are no errors, else INVALID_ARGUMENT with all of them.
  absl::Status status() const;

 private:
  std::vector<std::string> path_;
  std::vector<std::string> errors_;
};

}  // namespace ufc::internal

#endif  // UFC_CONFIG_VALIDATION_ERRORS_H_
