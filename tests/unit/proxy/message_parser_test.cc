// The HTTP/1.1 request parser on hand-written bytes: framing, limits, and the request-smuggling
// cases (reliability.md 3.A) that must be refused before anything reaches an upstream.

#include "proxy/http1/message_parser.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/beast/http/error.hpp"
#include "gtest/gtest.h"

namespace proxy::http1 {
namespace {

struct Parsed {
  bool ok = false;            // head parsed without error
  bool done = false;          // whole message parsed
  ParseError error = ParseError::kNone;
  std::string body;
  size_t consumed = 0;
};

Parsed ParseRequest(absl::string_view bytes, const ParseLimits& limits = {}) {
  MessageHead head;
  RequestParser parser(limits, &head);
  Parsed result;
  boost::beast::error_code ec;
  result.consumed = parser.Put(bytes, ec);
  for (absl::string_view piece : parser.Body()) result.body.append(piece.data(), piece.size());
  if (ec && ec != boost::beast::http::error::need_more) {
    result.error = parser.Classify(ec, bytes);
    return result;
  }
  result.ok = parser.is_header_done();
  result.done = parser.is_done();
  return result;
}

TEST(RequestParserTest, ParsesHeadAndLowerCasesNames) {
  MessageHead head;
  ParseLimits limits;
  RequestParser parser(limits, &head);
  boost::beast::error_code ec;
  const std::string bytes =
      "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Mixed-Case: Value\r\nx-two: 1\r\n"
      "X-Two: 2\r\n\r\n";
  EXPECT_EQ(parser.Put(bytes, ec), bytes.size());
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/a?b=1");
  EXPECT_EQ(head.version, 11);
  EXPECT_EQ(head.headers.Get("host"), "example.com");
  EXPECT_EQ(head.headers.Get("x-mixed-case"), "Value");
  EXPECT_EQ(head.headers.Count("x-two"), 2u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.chunked);
}

TEST(RequestParserTest, BodiesByContentLengthAndChunked) {
  Parsed cl = ParseRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_TRUE(cl.done);
  EXPECT_EQ(cl.body, "hello");
  Parsed chunked = ParseRequest(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
  EXPECT_TRUE(chunked.done);
  EXPECT_EQ(chunked.body, "hello world");
  Parsed partial = ParseRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhel");
  EXPECT_TRUE(partial.ok);
  EXPECT_FALSE(partial.done);
  EXPECT_EQ(partial.body, "hel");
}

TEST(RequestParserTest, IncompleteHeadNeedsMore) {
  Parsed parsed = ParseRequest("GET / HTTP/1.1\r\nHost: h\r\n");
  EXPECT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.error, ParseError::kNone);
  // Beast may consume the complete start line already (it is copied into the head).
  EXPECT_LE(parsed.consumed, 16u);
}

// Feeding a message one byte at a time, consuming what Put() reports (what the connection
// does), gives the same head and body as one Put.
TEST(RequestParserTest, ByteAtATime) {
  const std::string bytes =
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  MessageHead head;
  ParseLimits limits;
  RequestParser parser(limits, &head);
  std::string pending, body;
  for (char c : bytes) {
    pending.push_back(c);
    boost::beast::error_code ec;
    size_t n = parser.Put(pending, ec);
    ASSERT_TRUE(!ec || ec == boost::beast::http::error::need_more) << ec.message();
    for (absl::string_view piece : parser.Body()) body.append(piece.data(), piece.size());
    pending.erase(0, n);
    if (parser.is_done()) break;
  }
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(head.target, "/x");
  EXPECT_EQ(body, "abcde");
}

TEST(RequestParserTest, RefusesSmugglingVectors) {
  const std::string prefix = "POST / HTTP/1.1\r\nHost: h\r\n";
  const std::vector<std::string> bad = {
      // Content-Length together with chunked, both orders.
      prefix + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      prefix + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
      // Transfer codings other than a single final chunked.
      prefix + "Transfer-Encoding: gzip\r\n\r\n",
      prefix + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
      prefix + "Transfer-Encoding: xchunked\r\n\r\n",
      prefix + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      prefix + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      prefix + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
      // Conflicting or malformed Content-Length.
      prefix + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      prefix + "Content-Length: 1, 2\r\n\r\nab",
      prefix + "Content-Length: +5\r\n\r\nhello",
      prefix + "Content-Length: 0x10\r\n\r\n",
      prefix + "Content-Length: -1\r\n\r\n",
      prefix + "Content-Length: 18446744073709551616\r\n\r\n",
      // NUL and bare LF / CR.
      std::string("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n", 38),
      "GET / HTTP/1.1\nHost: h\n\n",
      "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
      // Empty header name, header without colon.
      "GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nnocolon\r\n\r\n",
      // Bad chunk framing.
      prefix + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      prefix + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
      // Transfer-Encoding on HTTP/1.0.
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      // Unsupported versions.
      "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
  };
  for (const std::string& request : bad) {
    Parsed parsed = ParseRequest(request);
    EXPECT_FALSE(parsed.done && parsed.error == ParseError::kNone)
        << "accepted: " << absl::CEscape(request);
    EXPECT_EQ(parsed.error, ParseError::kBadRequest) << absl::CEscape(request);
  }
}

TEST(RequestParserTest, IdenticalDuplicateContentLengthsCollapse) {
  Parsed parsed =
      ParseRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab");
  EXPECT_TRUE(parsed.done);
  EXPECT_EQ(parsed.body, "ab");
}

TEST(RequestParserTest, HeaderLimitsGive431AndLongRequestLines414) {
  ParseLimits limits{.max_header_bytes = 1024, .max_headers = 3, .max_request_line = 512};
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  EXPECT_EQ(ParseRequest(many, limits).error, ParseError::kHeadersTooLarge);
  std::string big = absl::StrCat("GET / HTTP/1.1\r\nHost: h\r\nX: ", std::string(2000, 'a'),
                                 "\r\n\r\n");
  EXPECT_EQ(ParseRequest(big, limits).error, ParseError::kHeadersTooLarge);
  std::string long_line =
      absl::StrCat("GET /", std::string(600, 'a'), " HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(ParseRequest(long_line, limits).error, ParseError::kUriTooLong);
  std::string endless_line = absl::StrCat("GET /", std::string(3000, 'a'));
  EXPECT_EQ(ParseRequest(endless_line, limits).error, ParseError::kUriTooLong);
}

TEST(RequestParserTest, KeepAliveByVersionAndConnectionHeader) {
  MessageHead head;
  ParseLimits limits;
  {
    RequestParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put("GET / HTTP/1.0\r\n\r\n", ec);
    EXPECT_FALSE(head.keep_alive);
  }
  {
    RequestParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ec);
    EXPECT_TRUE(head.keep_alive);
  }
  {
    RequestParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", ec);
    EXPECT_FALSE(head.keep_alive);
  }
}

}  // namespace
}  // namespace proxy::http1
