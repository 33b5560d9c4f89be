// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/common/utf8.h: UTF-8 well-formedness, for config checks and for the JSON we emit.
//
// Well-formed means what RFC 3629 section 4 and Unicode's table 3-7 allow: no overlong
// forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray continuation
// bytes. JSON (RFC 8259 section 8.1) must be UTF-8, so a string that is not cannot be
// passed through into query() output.

#ifndef UFC_COMMON_UTF8_H_
#define UFC_COMMON_UTF8_H_

#include <cstddef>
#include <string_view>

namespace ufc::internal {

// utf8_sequence_length() returns the length (1..4) of the well-formed sequence that
// starts at s[0], or 0 when none does (s empty, a bad lead byte, a truncated or overlong
// sequence, a surrogate, or a code point above U+10FFFF). O(1).
size_t utf8_sequence_length(std::string_view s);

// utf8_invalid_at() returns the offset of the first byte that does not start a
// well-formed sequence, or std::string_view::npos when all of `s` is well-formed. O(n).
size_t utf8_invalid_at(std::string_view s);

}  // namespace ufc::internal

#endif  // UFC_COMMON_UTF8_H_
