// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/source/removal_limits.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ufc::internal {
namespace {

// The first few names, sorted: enough to recognise the update, short for 10^5 services.
std::string some_names(std::vector<std::string>& names) {
  constexpr size_t kShown = 5;
  const size_t shown = std::min(names.size(), kShown);
  std::partial_sort(names.begin(), names.begin() + shown, names.end());
  std::string out = absl::StrJoin(names.begin(), names.begin() + shown, ", ");
  if (names.size() > shown) absl::StrAppend(&out, ", and ", names.size() - shown, " more");
  return out;
}

}  // namespace

absl::Status check_removal_limits(const RemovalLimits& limits, size_t configured,
                                  std::vector<std::string> removing) {
  constexpr const char* kWhere =
      " (ApplyOptions for apply(), ClientOptions::apply_defaults for config sources)";
  const size_t n = removing.size();
  if (n == 0 || configured == 0) return absl::OkStatus();
  if (n >= configured && !limits.allow_removing_all) {
    const std::string what = configured == 1
                                 ? std::string("the 1 configured service")
                                 : absl::StrCat("all ", configured, " configured services");
    return absl::FailedPreconditionError(absl::StrCat(
        "refused: this complete config would remove ", what, " (", some_names(removing),
        ") and lists none of them; nothing was changed. If that is meant, set "
        "allow_removing_all",
        kWhere));
  }
  // With share 1 this never refuses: n <= configured.
  if (static_cast<double>(n) > limits.max_removed_share * static_cast<double>(configured)) {
    return absl::FailedPreconditionError(
        absl::StrCat("refused: this complete config would remove ", n, " of the ", configured,
                     " configured services (", some_names(removing),
                     "), more than max_removed_share ", limits.max_removed_share,
                     " allows; nothing was changed. If that is meant, raise it", kWhere));
  }
  return absl::OkStatus();
}

absl::Status validate_removal_limits(const RemovalLimits& limits, const char* what) {
  const double share = limits.max_removed_share;
  if (std::isnan(share) || share < 0 || share > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": max_removed_share: must be in [0, 1], got ", share));
  }
  return absl::OkStatus();
}

}  // namespace ufc::internal
