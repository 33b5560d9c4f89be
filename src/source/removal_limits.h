// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/source/removal_limits.h: how far one complete update may shrink the set of services.
//
// A complete update removes every configured service it does not list. A broken or
// hostile one (an empty config, {"services":[[]]} read by a lenient parser, a truncated
// snapshot from the control server) would take every caller of those services down, and
// since every client receives the same config, the fleet with it. So a complete update
// that removes all of the services, or more than a set share, is refused unless its
// sender said it means it (ufc::ApplyOptions, ClientOptions::apply_defaults).

#ifndef UFC_SOURCE_REMOVAL_LIMITS_H_
#define UFC_SOURCE_REMOVAL_LIMITS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/source/config_source.h"

namespace ufc::internal {

// check_removal_limits() judges a complete update that would remove `removing` (names)
// of the `configured` services. FAILED_PRECONDITION when it removes every one of them (at
// least one configured) and `limits.allow_removing_all` is false, or more than
// `limits.max_removed_share` x configured; the message says how many would go, which
// (the first few), and which option allows it. OK when nothing is removed.
// Cost: O(removing log removing), for the message only.
absl::Status check_removal_limits(const RemovalLimits& limits, size_t configured,
                                  std::vector<std::string> removing);

// INVALID_ARGUMENT (naming `what`, e.g. "ApplyOptions") unless max_removed_share is a
// number in [0, 1].
absl::Status validate_removal_limits(const RemovalLimits& limits, const char* what);

}  // namespace ufc::internal

#endif  // UFC_SOURCE_REMOVAL_LIMITS_H_
