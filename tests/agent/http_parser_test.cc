// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The proxy's HTTP/1.1 parser: what it accepts, and every smuggling shape it refuses.

#include "agentd/http/http_parser.h"

#include <string>

#include "gtest/gtest.h"

namespace ufc_agent::http {
namespace {

struct Parsed {
  ParseStatus status;
  std::string error;
  RequestHead head;
};

Parsed request(const std::string& text) {
  Parsed p;
  std::string_view error;
  p.status = parse_request(text.data(), text.size(), Limits(), &p.head, &error);
  p.error = std::string(error);
  return p;
}

std::string error_of(const std::string& text) {
  Parsed p = request(text);
  return p.status == ParseStatus::kError ? p.error : "(no error)";
}

TEST(HttpParserTest, ParsesARequestHeadWithViewsIntoTheBuffer) {
  const std::string text =
      "POST /a/b?c=1 HTTP/1.1\r\nHost: x\r\nX-Ufc-Service-Name:  echo \r\n"
      "Content-Length: 5\r\n\r\nhello";
  Parsed p = request(text);
  ASSERT_EQ(p.status, ParseStatus::kDone) << p.error;
  EXPECT_EQ(p.head.method, "POST");
  EXPECT_EQ(p.head.target, "/a/b?c=1");
  EXPECT_EQ(p.head.minor_version, 1);
  EXPECT_EQ(p.head.find("x-ufc-service-name"), "echo");
  EXPECT_EQ(p.head.body, BodyKind::kLength);
  EXPECT_EQ(p.head.content_length, 5u);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(p.head.head_bytes, text.size() - 5);
  EXPECT_FALSE(p.head.idempotent());
}

TEST(HttpParserTest, IncompleteUntilTheBlankLine) {
  EXPECT_EQ(request("GET / HTTP/1.1\r\nHost: x\r\n").status, ParseStatus::kIncomplete);
  EXPECT_EQ(request("GET / HTTP/1.1\r\nHost: x\r\n\r").status, ParseStatus::kIncomplete);
}

TEST(HttpParserTest, ConnectionAndVersionDecideKeepAlive) {
  EXPECT_FALSE(request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(request("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(
      request("GET / HTTP/1.1\r\nHost: x\r\nConnection: te, keep-alive\r\n\r\n").head.keep_alive);
}

TEST(HttpParserTest, ChunkedRequest) {
  Parsed p = request("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kDone);
  EXPECT_EQ(p.head.body, BodyKind::kChunked);
}

// Request smuggling (CL.TE, TE.CL, TE.TE) and the other ambiguities: each is a 400.
TEST(HttpParserTest, RefusesEverySmugglingShape) {
  const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(error_of(get + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "conflicting_framing");
  EXPECT_EQ(error_of(get + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"),
            "conflicting_framing");
  EXPECT_EQ(error_of(get + "Content-Length: 4\r\nContent-Length: 4\r\n\r\n"),
            "duplicate_content_length");
  EXPECT_EQ(error_of(get + "Content-Length: 4, 4\r\n\r\n"), "bad_content_length");
  EXPECT_EQ(error_of(get + "Content-Length: +4\r\n\r\n"), "bad_content_length");
  EXPECT_EQ(error_of(get + "Content-Length: 99999999999999999999\r\n\r\n"), "bad_content_length");
  EXPECT_EQ(error_of(get + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "duplicate_transfer_encoding");
  EXPECT_EQ(error_of(get + "Transfer-Encoding: gzip, chunked\r\n\r\n"),
            "unsupported_transfer_encoding");
  EXPECT_EQ(error_of(get + "Transfer-Encoding: xchunked\r\n\r\n"), "unsupported_transfer_encoding");
  EXPECT_EQ(error_of(get + "Transfer-Encoding : chunked\r\n\r\n"), "bad_header_name");
  EXPECT_EQ(error_of(get + " Transfer-Encoding: chunked\r\n\r\n"), "obs_fold");
  EXPECT_EQ(error_of(get + "X: a\r\n folded\r\n\r\n"), "obs_fold");
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "transfer_encoding_in_http10");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"), "bad_line_ending");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n"), "bad_line_ending");
  EXPECT_EQ(error_of(get + "X: a\x01"
                           "b\r\n\r\n"),
            "bad_header_value");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), "missing_host");
  EXPECT_EQ(error_of(get + "Host: y\r\n\r\n"), "duplicate_host");
}

TEST(HttpParserTest, RefusesBadRequestLines) {
  EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), "bad_request_line");
  EXPECT_EQ(error_of("GET / HTTP/1.1 x\r\nHost: x\r\n\r\n"), "bad_request_line");
  EXPECT_EQ(error_of("GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n"), "bad_target");
  EXPECT_EQ(error_of("CONNECT a:443 HTTP/1.1\r\nHost: x\r\n\r\n"), "bad_target");
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), "bad_version");
  EXPECT_EQ(error_of("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), "bad_method");
  EXPECT_EQ(error_of("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "bad_line_ending");
}

TEST(HttpParserTest, EnforcesHeadLimits) {
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(Limits().max_head_bytes, 'a');
  EXPECT_EQ(error_of(big), "head_too_large");
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i) many += "X" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(error_of(many + "\r\n"), "too_many_headers");
}

TEST(HttpParserTest, ResponseBodyRules) {
  std::string held;  // the head's views point into it
  auto response = [&held](const std::string& text, std::string_view method, ResponseHead* head) {
    held = text;
    std::string_view error;
    return parse_response(held.data(), held.size(), Limits(), method, head, &error);
  };
  ResponseHead h;
  ASSERT_EQ(response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "GET", &h),
            ParseStatus::kDone);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.reason, "OK");
  EXPECT_EQ(h.body, BodyKind::kLength);
  ASSERT_EQ(response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "HEAD", &h),
            ParseStatus::kDone);
  EXPECT_EQ(h.body, BodyKind::kNone);
  ASSERT_EQ(response("HTTP/1.1 204 No Content\r\n\r\n", "GET", &h), ParseStatus::kDone);
  EXPECT_EQ(h.body, BodyKind::kNone);
  ASSERT_EQ(response("HTTP/1.0 200 OK\r\n\r\n", "GET", &h), ParseStatus::kDone);
  EXPECT_EQ(h.body, BodyKind::kUntilClose);
  EXPECT_FALSE(h.keep_alive);
  ASSERT_EQ(response("HTTP/1.1 503\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", &h),
            ParseStatus::kDone);
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.body, BodyKind::kChunked);
  EXPECT_EQ(response("HTTP/1.1 2000 OK\r\n\r\n", "GET", &h), ParseStatus::kError);
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                     "GET", &h),
            ParseStatus::kError);
}

std::string frame(const std::string& body, bool strip, size_t step, std::string* error,
                  size_t* consumed_total) {
  ChunkedFramer f;
  std::string data = body;
  std::string out;
  size_t at = 0;
  while (at < data.size() && !f.done() && f.error().empty()) {
    const size_t n = std::min(step, data.size() - at);
    size_t produced = 0;
    const size_t used = f.feed(data.data() + at, n, strip, &produced);
    out.append(data.data() + at, produced);
    at += used;
    if (used < n) break;
  }
  *error = std::string(f.error());
  *consumed_total = f.done() ? at : SIZE_MAX;
  return out;
}

TEST(ChunkedFramerTest, FindsTheEndAndStripsFramingInAnySplit) {
  const std::string body = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\nNEXT";
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    std::string error;
    size_t consumed = 0;
    EXPECT_EQ(frame(body, false, step, &error, &consumed), body.substr(0, body.size() - 4));
    EXPECT_EQ(error, "");
    EXPECT_EQ(consumed, body.size() - 4) << step;
    EXPECT_EQ(frame(body, true, step, &error, &consumed), "hello0123456789") << step;
  }
}

TEST(ChunkedFramerTest, RefusesBadFraming) {
  auto error = [](const std::string& body) {
    std::string e;
    size_t consumed = 0;
    frame(body, false, 1000, &e, &consumed);
    return e;
  };
  EXPECT_EQ(error("x\r\n"), "bad_chunk_size");
  EXPECT_EQ(error("-1\r\n"), "bad_chunk_size");
  EXPECT_EQ(error("1000000000000000\r\n"), "chunk_size_overflow");
  EXPECT_EQ(error("5\nhello\r\n"), "bad_chunk_size");
  EXPECT_EQ(error("5\r\nhelloX\r\n"), "bad_chunk_data_end");
  EXPECT_EQ(error("5 \r\nhello\r\n"), "bad_chunk_extension");
  EXPECT_EQ(error("5;" + std::string(2000, 'e') + "\r\n"), "chunk_line_too_long");
  EXPECT_EQ(error("0\r\nX: " + std::string(9000, 't')), "trailer_too_large");
  EXPECT_EQ(error("0\r\n\n"), "bad_trailer");
}

}  // namespace
}  // namespace ufc_agent::http
