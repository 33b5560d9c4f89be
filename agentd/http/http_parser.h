// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// agentd/http/http_parser.h: a strict HTTP/1.1 message-head parser and a chunked-body
// framer, for the agent's proxy (RFC 9110, RFC 9112).
//
// A proxy that two parties parse differently is a request-smuggling hole, so this parser
// is deliberately strict where RFC 9112 allows leniency: bare LF line ends, whitespace
// before a header's colon, obs-fold, control characters in values, more than one
// Content-Length (even equal ones), Content-Length together with Transfer-Encoding, any
// Transfer-Encoding other than exactly "chunked", Transfer-Encoding on HTTP/1.0, and a
// missing or repeated Host are all errors (the proxy answers 400 and closes). Chunk sizes
// are hex with an overflow check; chunk extensions and trailers are bounded.
//
// Zero copy: a parsed head holds string_views into the caller's buffer, valid while the
// buffer is. Cost: one pass over the head; no allocation once a head's header vector has
// grown to the largest head seen.
// Thread-safety: none; each connection owns its heads and decoders.

#ifndef UFC_AGENTD_HTTP_HTTP_PARSER_H_
#define UFC_AGENTD_HTTP_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ufc_agent::http {

struct Limits {
  size_t max_head_bytes = 16384;    // request or response line + headers + CRLFCRLF
  size_t max_headers = 100;         // header fields in one head
  size_t max_chunk_line = 1024;     // a chunk-size line with its extensions
  size_t max_trailer_bytes = 8192;  // the trailer section of a chunked body
};

struct Header {
  std::string_view name;   // as sent (compare case-insensitively)
  std::string_view value;  // surrounding whitespace trimmed
};

// How the message's body is delimited.
enum class BodyKind : uint8_t {
  kNone,        // no body (a request without one; HEAD, 1xx, 204, 304 responses)
  kLength,      // Content-Length bytes
  kChunked,     // Transfer-Encoding: chunked
  kUntilClose,  // a response delimited by the connection's close
};

enum class ParseStatus : uint8_t { kIncomplete, kDone, kError };

// What both heads share.
struct MessageHead {
  int minor_version = 1;  // HTTP/1.<minor>: 0 or 1
  std::vector<Header> headers;
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;  // for kLength
  bool keep_alive = true;       // from the version and the Connection header
  size_t head_bytes = 0;        // bytes of the head, through the blank line
  // The value of the first header named `name` (case-insensitive), or "" if none.
  std::string_view find(std::string_view name) const;
};

struct RequestHead : MessageHead {
  std::string_view method;
  std::string_view target;
  std::string_view host;
  bool expect_continue = false;  // "Expect: 100-continue"
  bool idempotent() const;       // RFC 9110 9.2.2: GET HEAD OPTIONS TRACE PUT DELETE
};

struct ResponseHead : MessageHead {
  int status = 0;
  std::string_view reason;
};

// parse_request() parses the head at data[0..n). kIncomplete: the blank line has not
// arrived yet (and nothing so far is wrong); kError: `*error` names what is wrong (a
// short token such as "bad_header_name", "conflicting_framing", "head_too_large").
ParseStatus parse_request(const char* data, size_t n, const Limits& limits, RequestHead* head,
                          std::string_view* error);

// parse_response() likewise for a response to a request with `request_method` (a HEAD
// request's response has no body whatever its headers say).
ParseStatus parse_response(const char* data, size_t n, const Limits& limits,
                           std::string_view request_method, ResponseHead* head,
                           std::string_view* error);

// ASCII case-insensitive comparisons (header names, tokens).
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
// Whether the comma-separated list `value` (a Connection header) has `token`.
bool lists_token(std::string_view value, std::string_view token);

// Whether `name` is hop-by-hop (RFC 9110 7.6.1): it describes one connection and must not
// be forwarded: Connection, Keep-Alive, Proxy-Connection, TE, Upgrade,
// Proxy-Authenticate, Proxy-Authorization. (Transfer-Encoding is forwarded as is: the
// proxy relays chunked framing unchanged.)
bool is_hop_by_hop(std::string_view name);

// ChunkedFramer: finds where a chunked body ends, validating its framing on the way.
// The proxy relays chunked bodies as they are (framing included); an HTTP/1.0 peer that
// cannot read chunked gets the data only (`strip`).
class ChunkedFramer {
 public:
  explicit ChunkedFramer(const Limits& limits = Limits()) : limits_(limits) {}
  void reset() { *this = ChunkedFramer(limits_); }

  // feed() consumes bytes of the body from data[0..n) and returns how many belong to it
  // (less than n only once done() or on error). With `strip`, the chunk data of the
  // consumed bytes is moved to data[0..*produced) in place (framing removed); without it,
  // *produced equals the return value.
  size_t feed(char* data, size_t n, bool strip, size_t* produced);
  bool done() const { return state_ == State::kDone; }
  // Non-empty once the framing was wrong; nothing more is consumed then.
  std::string_view error() const { return error_; }

 private:
  enum class State : uint8_t {
    kSize,
    kExt,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailer,
    kTrailerLf,
    kEndLf,
    kDone,
    kError
  };
  size_t fail(std::string_view why, size_t consumed);

  Limits limits_;
  State state_ = State::kSize;
  uint64_t remaining_ = 0;  // data bytes left in the current chunk (or its size so far)
  int size_digits_ = 0;
  size_t line_bytes_ = 0;     // of the current chunk-size line
  size_t trailer_bytes_ = 0;  // of the trailer section
  bool ext_ws_only_ = true;   // only BWS since the size (before a ';')
  std::string_view error_;
};

}  // namespace ufc_agent::http

#endif  // UFC_AGENTD_HTTP_HTTP_PARSER_H_
