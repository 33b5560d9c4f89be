// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// http_parser_fuzz: the proxy's HTTP/1.1 head parser and chunked framer on any bytes.
//
// Input: one byte of flags (which parser; the split step), then the message bytes.
// Invariants:
//   * parse_request / parse_response never read outside the input, and a parsed head's
//     views all lie inside it, within head_bytes <= the input size and the head limit;
//   * a head is found whole: every shorter prefix of a parsed head is incomplete (never an
//     error, never a different head), so the byte at which a head arrives cannot change
//     the verdict (what a proxy and its backend disagree on is how smuggling works);
//   * chunked + Content-Length is never accepted together; chunked is never HTTP/1.0;
//   * the chunked framer gives the same verdict, the same consumed count and the same
//     stripped data however the body is split, and never consumes past a done body.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "agentd/http/http_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace ufc::fuzz {
namespace {

using ufc_agent::http::ChunkedFramer;
using ufc_agent::http::Limits;
using ufc_agent::http::ParseStatus;

bool inside(std::string_view part, const std::string& whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_heads(const std::string& msg, bool response) {
  Limits limits;
  limits.max_head_bytes = 2048;  // small, so that the limit is reached often
  std::string_view error;
  ufc_agent::http::RequestHead req;
  ufc_agent::http::ResponseHead resp;
  const ParseStatus st =
      response
          ? ufc_agent::http::parse_response(msg.data(), msg.size(), limits, "GET", &resp, &error)
          : ufc_agent::http::parse_request(msg.data(), msg.size(), limits, &req, &error);
  const ufc_agent::http::MessageHead& head =
      response ? static_cast<const ufc_agent::http::MessageHead&>(resp) : req;
  if (st == ParseStatus::kError) UFC_FUZZ_CHECK(!error.empty(), msg);
  if (st != ParseStatus::kDone) return;
  UFC_FUZZ_CHECK(head.head_bytes <= msg.size() && head.head_bytes <= limits.max_head_bytes, msg);
  for (const auto& h : head.headers) {
    UFC_FUZZ_CHECK(inside(h.name, msg) && inside(h.value, msg), msg);
    UFC_FUZZ_CHECK(!h.name.empty(), msg);
  }
  if (!response) UFC_FUZZ_CHECK(inside(req.method, msg) && inside(req.target, msg), msg);
  if (head.body == ufc_agent::http::BodyKind::kChunked) {
    UFC_FUZZ_CHECK(head.find("content-length").empty() && head.minor_version == 1, msg);
  }
  // Every proper prefix of the head is incomplete.
  for (size_t n = 0; n < head.head_bytes; ++n) {
    std::string prefix = msg.substr(0, n);
    ufc_agent::http::RequestHead r2;
    ufc_agent::http::ResponseHead s2;
    std::string_view e2;
    const ParseStatus p =
        response
            ? ufc_agent::http::parse_response(prefix.data(), prefix.size(), limits, "GET", &s2, &e2)
            : ufc_agent::http::parse_request(prefix.data(), prefix.size(), limits, &r2, &e2);
    UFC_FUZZ_CHECK(p == ParseStatus::kIncomplete, msg);
  }
}

struct FrameResult {
  size_t consumed = 0;
  bool done = false;
  std::string error;
  std::string out;
};

FrameResult frame(const std::string& body, size_t step, bool strip) {
  Limits limits;
  limits.max_chunk_line = 64;
  limits.max_trailer_bytes = 128;
  ChunkedFramer f(limits);
  std::string data = body;
  FrameResult r;
  size_t at = 0;
  while (at < data.size() && !f.done() && f.error().empty()) {
    const size_t n = std::min(step, data.size() - at);
    size_t produced = 0;
    const size_t used = f.feed(data.data() + at, n, strip, &produced);
    UFC_FUZZ_CHECK(used <= n && produced <= used, body);
    if (f.error().empty()) r.out.append(data.data() + at, produced);
    at += used;
    if (used < n) {
      UFC_FUZZ_CHECK(f.done() || !f.error().empty(), body);
      break;
    }
  }
  r.consumed = at;
  r.done = f.done();
  r.error = std::string(f.error());
  return r;
}

void http_parser_one(std::string_view data) {
  if (data.empty()) return;
  const uint8_t flags = static_cast<uint8_t>(data[0]);
  const std::string msg(data.substr(1));
  if (msg.size() > 4096) return;
  switch (flags % 3) {
    case 0:
      check_heads(msg, false);
      break;
    case 1:
      check_heads(msg, true);
      break;
    default: {
      const FrameResult whole = frame(msg, msg.size() + 1, false);
      const size_t step = 1 + (flags >> 2) % 7;
      const FrameResult split = frame(msg, step, false);
      UFC_FUZZ_CHECK(whole.done == split.done && whole.error == split.error, msg);
      if (whole.error.empty()) {
        UFC_FUZZ_CHECK(whole.consumed == split.consumed && whole.out == split.out, msg);
        const FrameResult stripped = frame(msg, step, true);
        const FrameResult stripped_whole = frame(msg, msg.size() + 1, true);
        UFC_FUZZ_CHECK(stripped.out == stripped_whole.out, msg);
        UFC_FUZZ_CHECK(stripped.out.size() <= whole.out.size(), msg);
      }
      break;
    }
  }
}

}  // namespace
}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::http_parser_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
