// The HTTP/1.1 response parser on hand-written bytes: heads, every body framing, fed whole and a
// byte at a time, and the malformed or ambiguous responses a broken or hostile upstream could send
// (each must be an error, never a guess about where the body ends).

#include "proxy/http1/response_parser.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "boost/beast/http/error.hpp"
#include "gtest/gtest.h"

namespace proxy::http1 {
namespace {

using boost::beast::http::error;

struct Parsed {
  boost::beast::error_code ec;  // the first error other than need_more, if any
  bool header_done = false;
  bool done = false;
  std::string body;
  size_t consumed = 0;
};

// Feeds `bytes` in pieces of `step` bytes (0: all at once) the way the proxy does: unconsumed
// bytes stay buffered and are offered again with the next ones.
Parsed Parse(absl::string_view bytes, MessageHead* head, size_t step = 0,
             const ParseLimits& limits = {}, bool head_request = false) {
  ResponseParser parser(limits, head);
  parser.skip(head_request);
  Parsed result;
  std::string buffer;
  size_t offered = 0;
  while (offered < bytes.size() && !parser.is_done()) {
    const size_t n = step == 0 ? bytes.size() : std::min(step, bytes.size() - offered);
    buffer.append(bytes.data() + offered, n);
    offered += n;
    boost::beast::error_code ec;
    const size_t used = parser.Put(buffer, ec);
    for (absl::string_view piece : parser.Body()) result.body.append(piece.data(), piece.size());
    buffer.erase(0, used);
    result.consumed += used;
    if (ec && ec != error::need_more) {
      result.ec = ec;
      return result;
    }
    EXPECT_TRUE(parser.is_done() || ec == error::need_more) << "no progress signal";
  }
  result.header_done = parser.is_header_done();
  result.done = parser.is_done();
  return result;
}

TEST(ResponseParserTest, ParsesTheHeadAndLowerCasesNames) {
  MessageHead head;
  const std::string response =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/plain\r\n"
      "Content-Length: 3\r\nX-Mixed-CASE:  spaced value \t\r\n\r\nv1\n";
  Parsed parsed = Parse(response, &head);
  ASSERT_FALSE(parsed.ec) << parsed.ec.message();
  EXPECT_TRUE(parsed.done);
  EXPECT_EQ(parsed.body, "v1\n");
  EXPECT_EQ(parsed.consumed, response.size());
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.version, 11);
  EXPECT_EQ(head.content_length, 3u);
  EXPECT_FALSE(head.chunked);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.headers.size(), 4u);
  EXPECT_EQ(head.headers.Get("server"), "nginx/1.22.1");
  EXPECT_EQ(head.headers.Get("content-type"), "text/plain");
  EXPECT_EQ(head.headers.Get("x-mixed-case"), "spaced value");
}

TEST(ResponseParserTest, StatusFramingAndHeadRequests) {
  MessageHead head;
  ParseLimits limits;
  {
    ResponseParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\n\r\nabc", ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(head.status, 503);
    EXPECT_TRUE(parser.is_done());
    EXPECT_EQ(parser.Body().size(), 1u);
  }
  {
    // A response to HEAD carries Content-Length but no body.
    ResponseParser parser(limits, &head);
    parser.skip(true);
    boost::beast::error_code ec;
    parser.Put("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", ec);
    EXPECT_TRUE(parser.is_done());
    EXPECT_EQ(head.content_length, 1000u);
  }
  {
    // No length: the body runs until the connection closes.
    ResponseParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put("HTTP/1.1 200 OK\r\n\r\nsome", ec);
    EXPECT_EQ(ec, error::need_more);
    EXPECT_TRUE(parser.is_header_done());
    EXPECT_TRUE(parser.need_eof());
    EXPECT_FALSE(head.keep_alive);
    parser.PutEof(ec);
    EXPECT_FALSE(ec);
    EXPECT_TRUE(parser.is_done());
  }
  {
    // A hostile upstream: CL with chunked.
    ResponseParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ec);
    EXPECT_TRUE(ec);
    EXPECT_NE(ec, error::need_more);
  }
}

TEST(ResponseParserTest, EveryFramingWholeAndByteAtATime) {
  struct Case {
    std::string bytes;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", "hello world"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n1;name=value;flag\r\n \r\nA  \r\n0123456789\r\n0\r\n\r\n",
       "hello 0123456789"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\nx-checksum: 1234\r\nx-other: y\r\n\r\n",
       "abc"},
      {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok"},
  };
  for (const Case& c : cases) {
    for (size_t step : {0, 1, 2, 7}) {
      MessageHead head;
      Parsed parsed = Parse(c.bytes, &head, step);
      ASSERT_FALSE(parsed.ec) << parsed.ec.message() << " step " << step << " in "
                              << absl::CEscape(c.bytes);
      EXPECT_TRUE(parsed.done) << absl::CEscape(c.bytes) << " step " << step;
      EXPECT_EQ(parsed.body, c.body) << absl::CEscape(c.bytes) << " step " << step;
      EXPECT_EQ(parsed.consumed, c.bytes.size()) << absl::CEscape(c.bytes);
    }
  }
}

TEST(ResponseParserTest, AnIncompleteHeadIsNotConsumed) {
  MessageHead head;
  ResponseParser parser(ParseLimits{}, &head);
  boost::beast::error_code ec;
  EXPECT_EQ(parser.Put("HTTP/1.1 200 OK\r\nContent-Len", ec), 0u);
  EXPECT_EQ(ec, error::need_more);
  EXPECT_FALSE(parser.is_header_done());
  EXPECT_EQ(parser.Put("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r", ec), 0u);
  EXPECT_EQ(ec, error::need_more);
  const std::string whole_head = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n";
  EXPECT_EQ(parser.Put(whole_head, ec), whole_head.size());
  EXPECT_EQ(ec, error::need_more);  // the body has not come yet
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_EQ(parser.Put("x", ec), 1u);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_done());
}

TEST(ResponseParserTest, BytesAfterTheMessageAreLeftForTheCaller) {
  MessageHead head;
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  for (const std::string& message : {first, chunked}) {
    ResponseParser parser(ParseLimits{}, &head);
    boost::beast::error_code ec;
    EXPECT_EQ(parser.Put(message + "HTTP/1.1 200 OK\r\n", ec), message.size());
    EXPECT_FALSE(ec);
    EXPECT_TRUE(parser.is_done());
  }
}

TEST(ResponseParserTest, InterimAndBodylessStatusesEndAtTheHead) {
  for (absl::string_view status : {"100 Continue", "103 Early Hints", "204 No Content",
                                   "304 Not Modified"}) {
    MessageHead head;
    const std::string bytes =
        absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Length: 5\r\n\r\n");
    ResponseParser parser(ParseLimits{}, &head);
    boost::beast::error_code ec;
    // Whatever follows is the next response, not this one's body.
    EXPECT_EQ(parser.Put(bytes + "HTTP/1.1 200 OK\r\n", ec), bytes.size()) << status;
    EXPECT_FALSE(ec) << status;
    EXPECT_TRUE(parser.is_done()) << status;
    EXPECT_TRUE(parser.Body().empty()) << status;
  }
}

TEST(ResponseParserTest, KeepAliveByVersionAndConnectionField) {
  struct Case {
    const char* head;
    bool keep_alive;
  };
  for (const Case& c : std::vector<Case>{
           {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
           {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
           {"HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 0\r\n\r\n", false},
           {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
           {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", true},
           {"HTTP/1.1 200 OK\r\n\r\n", false},  // delimited by the close
       }) {
    MessageHead head;
    ResponseParser parser(ParseLimits{}, &head);
    boost::beast::error_code ec;
    parser.Put(c.head, ec);
    ASSERT_TRUE(!ec || ec == error::need_more) << c.head;
    EXPECT_EQ(head.keep_alive, c.keep_alive) << c.head;
  }
}

TEST(ResponseParserTest, AcceptsWhatIsUnambiguous) {
  for (const std::string& response : std::vector<std::string>{
           "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",  // no reason phrase
           "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 299 D\xc3\xa9j\xc3\xa0 vu\r\nContent-Length: 0\r\n\r\n",  // obs-text
           "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
           "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
           "HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX-Quote: a \"b\" {c}\r\nContent-Length: 0\r\n\r\n",
       }) {
    MessageHead head;
    Parsed parsed = Parse(response, &head);
    EXPECT_FALSE(parsed.ec) << parsed.ec.message() << " in " << absl::CEscape(response);
    EXPECT_TRUE(parsed.done) << absl::CEscape(response);
  }
}

TEST(ResponseParserTest, RefusesMalformedAndAmbiguousResponses) {
  const std::string ok_head = "HTTP/1.1 200 OK\r\n";
  const std::string chunked = ok_head + "Transfer-Encoding: chunked\r\n\r\n";
  for (const std::string& response : std::vector<std::string>{
           // Status lines.
           "HTTP/1.1 200 OK\nContent-Length: 0\n\n",  // bare LF
           "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
           "HTTP/2.0 200 OK\r\n\r\n",
           "HTTP/1.2 200 OK\r\n\r\n",
           "http/1.1 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 099 Low\r\n\r\n",
           "HTTP/1.1 2000 OK\r\n\r\n",
           "HTTP/1.1 200OK\r\n\r\n",
           "HTTP/1.1  200 OK\r\n\r\n",
           std::string("HTTP/1.1 200 O\x01K\r\n\r\n"),
           "\r\nHTTP/1.1 200 OK\r\n\r\n",
           // Fields.
           ok_head + "Content-Length : 0\r\n\r\n",  // whitespace before the colon
           ok_head + "X-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",  // obs-fold
           ok_head + ": no name\r\n\r\n",
           ok_head + "No colon\r\n\r\n",
           ok_head + "Bad\x7fName: x\r\n\r\n",
           ok_head + "X-Nul: a" + std::string(1, '\0') + "b\r\n\r\n",
           ok_head + "X-Cr: a\rb\r\n\r\n",
           ok_head + "X-Del: a\x7f\r\n\r\n",
           // Content-Length.
           ok_head + "Content-Length: abc\r\n\r\n",
           ok_head + "Content-Length: -1\r\n\r\n",
           ok_head + "Content-Length: +1\r\n\r\nx",
           ok_head + "Content-Length:\r\n\r\n",
           ok_head + "Content-Length: 3, 4\r\n\r\nabcd",
           ok_head + "Content-Length: 3,\r\n\r\nabc",
           ok_head + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
           ok_head + "Content-Length: 99999999999999999999\r\n\r\n",
           // Transfer-Encoding.
           ok_head + "Transfer-Encoding: gzip\r\n\r\n",
           ok_head + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
           ok_head + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
           ok_head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           ok_head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
           // Chunks.
           chunked + "zz\r\n",
           chunked + "\r\n",
           chunked + "-1\r\n",
           chunked + "3 junk\r\nabc\r\n0\r\n\r\n",
           chunked + "3;ext\x01\r\nabc\r\n0\r\n\r\n",
           chunked + "3\r\nabcX\r\n0\r\n\r\n",
           chunked + "3\r\nabc\n0\r\n\r\n",
           chunked + "3\nabc\r\n0\r\n\r\n",
           chunked + "fffffffffffffffffffff\r\n",
           chunked + "1;" + std::string(5000, 'x') + "\r\nx\r\n0\r\n\r\n",
           chunked + "0\r\nbad trailer\r\n\r\n",
           chunked + "0\r\nX-T: a\x01\r\n\r\n",
       }) {
    for (size_t step : {0, 1}) {
      MessageHead head;
      Parsed parsed = Parse(response, &head, step);
      EXPECT_TRUE(parsed.ec) << "accepted " << absl::CEscape(response) << " step " << step;
      EXPECT_FALSE(parsed.done) << absl::CEscape(response);
    }
  }
}

TEST(ResponseParserTest, HeadAndTrailerLimits) {
  ParseLimits limits{.max_header_bytes = 1024, .max_headers = 10};
  {
    // A head that never ends within the limit fails as soon as the limit is reached.
    MessageHead head;
    Parsed parsed =
        Parse("HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'a'), &head, 0, limits);
    EXPECT_EQ(parsed.ec, error::header_limit);
  }
  {
    MessageHead head;
    std::string fields;
    for (int i = 0; i < 11; ++i) absl::StrAppend(&fields, "X-", i, ": v\r\n");
    Parsed parsed = Parse("HTTP/1.1 200 OK\r\n" + fields + "Content-Length: 0\r\n\r\n", &head,
                          0, limits);
    EXPECT_EQ(parsed.ec, error::header_limit);
  }
  {
    // Trailers are dropped but counted: endless ones fail once over the head limit.
    MessageHead head;
    std::string trailers;
    for (int i = 0; i < 100; ++i) absl::StrAppend(&trailers, "X-T", i, ": ", i, "\r\n");
    Parsed parsed = Parse(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers + "\r\n", &head,
        3, limits);
    EXPECT_EQ(parsed.ec, error::header_limit);
    EXPECT_EQ(head.headers.Get("x-t1"), std::nullopt);
  }
}

TEST(ResponseParserTest, AnEndOfStreamCompletesOnlyACloseDelimitedBody) {
  ParseLimits limits;
  for (absl::string_view bytes :
       {"HTTP/1.1 200 OK\r\nContent-", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"}) {
    MessageHead head;
    ResponseParser parser(limits, &head);
    boost::beast::error_code ec;
    parser.Put(bytes, ec);
    EXPECT_EQ(ec, error::need_more);
    parser.PutEof(ec);
    EXPECT_EQ(ec, error::partial_message) << bytes;
    EXPECT_FALSE(parser.is_done());
  }
}

}  // namespace
}  // namespace proxy::http1
