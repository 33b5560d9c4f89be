// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/strings.h: bridging std::string_view (our API) and absl::string_view.
//
// Debian's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view is
// a distinct type and absl::StrCat & co. do not accept std::string_view directly.

#ifndef UFC_COMMON_STRINGS_H_
#define UFC_COMMON_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ufc::internal {

inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace ufc::internal

#endif  // UFC_COMMON_STRINGS_H_
