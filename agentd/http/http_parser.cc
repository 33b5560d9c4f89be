// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "agentd/http/http_parser.h"

#include <cstring>

namespace ufc_agent::http {
namespace {

// RFC 9110 5.6.2: tchar.
constexpr bool is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '!' ||
         c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' ||
         c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
}
struct CharTables {
  bool tchar[256];
  bool value[256];   // field-vchar, SP, HTAB, obs-text (RFC 9110 5.5)
  bool target[256];  // request-target: visible ASCII, no space (RFC 9112 3.2)
  constexpr CharTables() : tchar(), value(), target() {
    for (int c = 0; c < 256; ++c) {
      tchar[c] = is_tchar(static_cast<unsigned char>(c));
      value[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
      target[c] = c > 0x20 && c < 0x7f;
    }
  }
};
constexpr CharTables kChars;

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Finds the blank line ending the head; checks that every LF so far follows a CR (a bare
// LF is an error at once rather than a wait for the limit).
// Returns the head's length, 0 if incomplete, SIZE_MAX on a bare LF.
size_t find_head_end(const char* data, size_t n) {
  const char* p = data;
  const char* end = data + n;
  while (true) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (lf == nullptr) return 0;
    if (lf == data || lf[-1] != '\r') return SIZE_MAX;
    // "\r\n\r\n": the line that just ended was empty.
    if (lf - data >= 3 && lf[-2] == '\n' && lf[-3] == '\r') return (lf - data) + 1;
    // The very first line empty: a stray CRLF before a request (RFC 9112 2.2 allows
    // ignoring one; we don't, an empty request line is an error).
    if (lf - data == 1) return SIZE_MAX;
    p = lf + 1;
  }
}

// The head's length within the limit: kIncomplete until its blank line arrives.
ParseStatus locate_head(const char* data, size_t n, const Limits& limits, size_t* len,
                        std::string_view* error) {
  *len = find_head_end(data, n < limits.max_head_bytes ? n : limits.max_head_bytes);
  if (*len == SIZE_MAX) {
    *error = "bad_line_ending";
    return ParseStatus::kError;
  }
  if (*len == 0) {
    if (n >= limits.max_head_bytes) {
      *error = "head_too_large";
      return ParseStatus::kError;
    }
    return ParseStatus::kIncomplete;
  }
  return ParseStatus::kDone;
}

bool parse_version(std::string_view v, int* minor) {
  if (v == "HTTP/1.1") {
    *minor = 1;
  } else if (v == "HTTP/1.0") {
    *minor = 0;
  } else {
    return false;
  }
  return true;
}

// Content-Length: 1*DIGIT, bounded so that it never overflows.
bool parse_length(std::string_view v, uint64_t* out) {
  if (v.empty() || v.size() > 18) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

// Parses the header lines in [p, end) (each ending CRLF, the blank line excluded) into
// head->headers and the framing fields common to requests and responses.
bool parse_fields(const char* p, const char* end, const Limits& limits, MessageHead* head,
                  bool* saw_te, std::string_view* host, int* host_count, bool* expect,
                  std::string_view* error) {
  bool saw_length = false;
  bool close = false;
  bool keep_alive_token = false;
  while (p < end) {
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', end - p));
    // find_head_end() guaranteed CRLF endings; a CR not followed by LF is in a value.
    if (cr == nullptr || cr + 1 >= end || cr[1] != '\n') {
      *error = "bad_line_ending";
      return false;
    }
    std::string_view line(p, cr - p);
    p = cr + 2;
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      *error = "obs_fold";
      return false;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = "bad_header";
      return false;
    }
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name) {
      if (!kChars.tchar[c]) {  // also whitespace before the colon
        *error = "bad_header_name";
        return false;
      }
    }
    std::string_view value = line.substr(colon + 1);
    for (unsigned char c : value) {
      if (!kChars.value[c]) {
        *error = "bad_header_value";
        return false;
      }
    }
    value = trim_ows(value);
    if (head->headers.size() >= limits.max_headers) {
      *error = "too_many_headers";
      return false;
    }
    head->headers.push_back(Header{name, value});

    // Only the framing and connection fields matter here; compare the length first so
    // that most names cost one integer comparison.
    switch (name.size()) {
      case 4:
        if (iequals(name, "host")) {
          *host = value;
          ++*host_count;
        }
        break;
      case 6:
        if (iequals(name, "expect")) {
          *expect = iequals(value, "100-continue");
        }
        break;
      case 10:
        if (iequals(name, "connection")) {
          close = close || lists_token(value, "close");
          keep_alive_token = keep_alive_token || lists_token(value, "keep-alive");
        }
        break;
      case 14:
        if (iequals(name, "content-length")) {
          if (saw_length) {
            *error = "duplicate_content_length";
            return false;
          }
          saw_length = true;
          if (!parse_length(value, &head->content_length)) {
            *error = "bad_content_length";
            return false;
          }
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          if (*saw_te) {
            *error = "duplicate_transfer_encoding";
            return false;
          }
          *saw_te = true;
          if (!iequals(value, "chunked")) {
            *error = "unsupported_transfer_encoding";
            return false;
          }
        }
        break;
      default:
        break;
    }
  }
  if (saw_length && *saw_te) {
    *error = "conflicting_framing";  // CL + TE: the classic smuggling vector
    return false;
  }
  if (*saw_te && head->minor_version == 0) {
    *error = "transfer_encoding_in_http10";
    return false;
  }
  if (*saw_te) {
    head->body = BodyKind::kChunked;
  } else if (saw_length) {
    head->body = BodyKind::kLength;
  }
  head->keep_alive = close ? false : (head->minor_version == 1 || keep_alive_token);
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x != y) {
      if (x >= 'A' && x <= 'Z') x += 32;
      if (y >= 'A' && y <= 'Z') y += 32;
      if (x != y) return false;
    }
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = trim_ows(value.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view MessageHead::find(std::string_view name) const {
  for (const Header& h : headers) {
    if (h.name.size() == name.size() && iequals(h.name, name)) return h.value;
  }
  return {};
}

bool RequestHead::idempotent() const {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

bool is_hop_by_hop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return iequals(name, "te");
    case 7:
      return iequals(name, "upgrade");
    case 10:
      return iequals(name, "connection") || iequals(name, "keep-alive");
    case 16:
      return iequals(name, "proxy-connection");
    case 18:
      return iequals(name, "proxy-authenticate");
    case 19:
      return iequals(name, "proxy-authorization");
    default:
      return false;
  }
}

ParseStatus parse_request(const char* data, size_t n, const Limits& limits, RequestHead* head,
                          std::string_view* error) {
  size_t len = 0;
  if (const ParseStatus st = locate_head(data, n, limits, &len, error); st != ParseStatus::kDone) {
    return st;
  }
  head->headers.clear();
  head->body = BodyKind::kNone;
  head->content_length = 0;
  head->host = {};
  head->expect_continue = false;
  head->head_bytes = len;

  // request-line = method SP request-target SP HTTP-version CRLF
  const char* line_end = static_cast<const char*>(std::memchr(data, '\r', len));
  if (line_end[1] != '\n') {
    *error = "bad_request_line";
    return ParseStatus::kError;
  }
  std::string_view line(data, line_end - data);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 ||
      sp2 == sp1 + 1 || line.find(' ', sp2 + 1) != std::string_view::npos) {
    *error = "bad_request_line";
    return ParseStatus::kError;
  }
  head->method = line.substr(0, sp1);
  head->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (unsigned char c : head->method) {
    if (!kChars.tchar[c]) {
      *error = "bad_method";
      return ParseStatus::kError;
    }
  }
  for (unsigned char c : head->target) {
    if (!kChars.target[c]) {
      *error = "bad_target";
      return ParseStatus::kError;
    }
  }
  // origin-form only: "/path?query" (the proxy is not a forward proxy; absolute-form and
  // CONNECT would change what the request means, so they are refused).
  if (head->target.front() != '/' && !(head->target == "*" && head->method == "OPTIONS")) {
    *error = "bad_target";
    return ParseStatus::kError;
  }
  if (!parse_version(line.substr(sp2 + 1), &head->minor_version)) {
    *error = "bad_version";
    return ParseStatus::kError;
  }
  bool saw_te = false;
  int host_count = 0;
  if (!parse_fields(line_end + 2, data + len, limits, head, &saw_te, &head->host, &host_count,
                    &head->expect_continue, error)) {
    return ParseStatus::kError;
  }
  if (host_count > 1 || (host_count == 0 && head->minor_version == 1)) {
    *error = host_count > 1 ? "duplicate_host" : "missing_host";
    return ParseStatus::kError;
  }
  return ParseStatus::kDone;
}

ParseStatus parse_response(const char* data, size_t n, const Limits& limits,
                           std::string_view request_method, ResponseHead* head,
                           std::string_view* error) {
  size_t len = 0;
  if (const ParseStatus st = locate_head(data, n, limits, &len, error); st != ParseStatus::kDone) {
    return st;
  }
  head->headers.clear();
  head->body = BodyKind::kNone;
  head->content_length = 0;
  head->head_bytes = len;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
  const char* line_end = static_cast<const char*>(std::memchr(data, '\r', len));
  std::string_view line(data, line_end - data);
  if (line_end[1] != '\n' || line.size() < 12 || line[8] != ' ' ||
      !parse_version(line.substr(0, 8), &head->minor_version) || line[9] < '1' || line[9] > '5' ||
      line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' ||
      (line.size() > 12 && line[12] != ' ')) {
    *error = "bad_status_line";
    return ParseStatus::kError;
  }
  head->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  head->reason = line.size() > 13 ? line.substr(13) : std::string_view();
  bool saw_te = false;
  std::string_view host;
  int host_count = 0;
  bool expect = false;
  if (!parse_fields(line_end + 2, data + len, limits, head, &saw_te, &host, &host_count, &expect,
                    error)) {
    return ParseStatus::kError;
  }
  // RFC 9112 6.3: these responses have no body, whatever the headers say.
  if (request_method == "HEAD" || head->status < 200 || head->status == 204 ||
      head->status == 304) {
    head->body = BodyKind::kNone;
  } else if (head->body == BodyKind::kNone) {
    head->body = BodyKind::kUntilClose;
    head->keep_alive = false;
  }
  return ParseStatus::kDone;
}

size_t ChunkedFramer::fail(std::string_view why, size_t consumed) {
  state_ = State::kError;
  error_ = why;
  return consumed;
}

size_t ChunkedFramer::feed(char* data, size_t n, bool strip, size_t* produced) {
  size_t i = 0;
  size_t out = 0;
  *produced = 0;  // on an error the body is abandoned: nothing of it is relayed
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (i < n) {
    const char c = data[i];
    switch (state_) {
      case State::kSize: {
        const int h = hex(c);
        if (h >= 0) {
          if (++size_digits_ > 15) return fail("chunk_size_overflow", i);
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(h);
        } else if (size_digits_ == 0) {
          return fail("bad_chunk_size", i);
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          ext_ws_only_ = c != ';';
          state_ = State::kExt;
        } else {
          return fail("bad_chunk_size", i);
        }
        if (++line_bytes_ > limits_.max_chunk_line) return fail("chunk_line_too_long", i);
        ++i;
        break;
      }
      case State::kExt:
        // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): skipped, but bounded and
        // free of control characters; whitespace after the size must lead to a ';'.
        if (c == '\r') {
          if (ext_ws_only_) return fail("bad_chunk_extension", i);
          state_ = State::kSizeLf;
        } else if (!kChars.value[static_cast<unsigned char>(c)]) {  // a CTL (LF included)
          return fail("bad_chunk_extension", i);
        } else if (c == ';') {
          ext_ws_only_ = false;
        } else if (ext_ws_only_ && c != ' ' && c != '\t') {
          return fail("bad_chunk_extension", i);
        }
        if (++line_bytes_ > limits_.max_chunk_line) return fail("chunk_line_too_long", i);
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail("bad_chunk_line_ending", i);
        ++i;
        line_bytes_ = 0;
        size_digits_ = 0;
        ext_ws_only_ = true;
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kData: {
        const size_t take = static_cast<size_t>(
            remaining_ < static_cast<uint64_t>(n - i) ? remaining_ : static_cast<uint64_t>(n - i));
        if (strip && out != i) std::memmove(data + out, data + i, take);
        out += take;
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail("bad_chunk_data_end", i);
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail("bad_chunk_data_end", i);
        ++i;
        state_ = State::kSize;
        break;
      case State::kTrailerStart:
        // Either the final CRLF, or a trailer field line.
        if (c == '\r') {
          state_ = State::kEndLf;
        } else if (c == ' ' || c == '\t' || c == '\n') {
          return fail("bad_trailer", i);
        } else {
          state_ = State::kTrailer;
        }
        if (++trailer_bytes_ > limits_.max_trailer_bytes) return fail("trailer_too_large", i);
        ++i;
        break;
      case State::kTrailer:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (!kChars.value[static_cast<unsigned char>(c)]) {  // a CTL (LF included)
          return fail("bad_trailer", i);
        }
        if (++trailer_bytes_ > limits_.max_trailer_bytes) return fail("trailer_too_large", i);
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail("bad_trailer", i);
        ++i;
        state_ = State::kTrailerStart;
        break;
      case State::kEndLf:
        if (c != '\n') return fail("bad_trailer", i);
        ++i;
        state_ = State::kDone;
        break;
      case State::kDone:
      case State::kError:
        *produced = strip ? out : i;
        return i;
    }
    if (state_ == State::kDone) break;
  }
  *produced = strip ? out : i;
  return i;
}

}  // namespace ufc_agent::http
