// Mutated HTTP/1.1 messages into both parsers (requests from clients, responses from upstreams),
// seeded and bounded (a failure names its seed). Whatever arrives, a parser must give the same
// answer however the bytes are split across reads (a message boundary found in one split and not
// another is how smuggling starts), never consume more than it was given, and a complete message
// with a Content-Length must carry exactly that many body bytes.

#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "boost/beast/http/error.hpp"
#include "gtest/gtest.h"
#include "proxy/http1/message_parser.h"
#include "proxy/http1/response_parser.h"

namespace proxy::http1 {
namespace {

using boost::beast::http::error;

struct Outcome {
  bool failed = false;  // an error other than need_more
  bool done = false;
  bool header_done = false;
  std::string body;
  size_t consumed = 0;
  std::optional<uint64_t> content_length;
  int status = 0;

  // The same verdict; a message parsed without error must be the same message. (Where an error
  // is found may depend on the split: the connection closes either way.)
  friend bool operator==(const Outcome& a, const Outcome& b) {
    if (a.failed || b.failed) return a.failed == b.failed;
    return a.done == b.done && a.header_done == b.header_done && a.body == b.body &&
           a.consumed == b.consumed && a.content_length == b.content_length && a.status == b.status;
  }
  friend void PrintTo(const Outcome& o, std::ostream* out) {
    *out << "{failed " << o.failed << ", done " << o.done << ", header_done " << o.header_done
         << ", consumed " << o.consumed << ", status " << o.status << ", body " << o.body.size()
         << " bytes}";
  }
};

// Feeds `bytes` in pieces of the given sizes (the last repeated), buffering unconsumed bytes as
// the proxy does; then the peer's close.
template <typename Parser>
Outcome Parse(const std::string& bytes, const std::vector<size_t>& steps, bool head_request) {
  MessageHead head;
  const ParseLimits limits;  // RequestParser keeps a reference to it
  Parser parser(limits, &head);
  if (head_request) parser.skip(true);
  Outcome outcome;
  std::string buffer;
  size_t offered = 0;
  size_t step_index = 0;
  while (offered < bytes.size() && !parser.is_done()) {
    const size_t step = steps[std::min(step_index++, steps.size() - 1)];
    const size_t n = std::min(step, bytes.size() - offered);
    buffer.append(bytes, offered, n);
    offered += n;
    boost::beast::error_code ec;
    const size_t used = parser.Put(buffer, ec);
    EXPECT_LE(used, buffer.size());
    if (used > buffer.size()) return outcome;
    for (absl::string_view piece : parser.Body()) outcome.body.append(piece.data(), piece.size());
    buffer.erase(0, used);
    outcome.consumed += used;
    if (ec && ec != error::need_more) {
      outcome.failed = true;
      break;
    }
  }
  if (!outcome.failed && !parser.is_done()) {
    boost::beast::error_code ec;
    parser.PutEof(ec);
    outcome.failed = static_cast<bool>(ec);
  }
  outcome.done = parser.is_done();
  outcome.header_done = parser.is_header_done();
  outcome.content_length = head.content_length;
  outcome.status = head.status;
  return outcome;
}

std::vector<std::string> BaseResponses() {
  return {
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n"
      "0\r\nx-trailer: t\r\n\r\n",
      "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until the close",
      "HTTP/1.1 204 No Content\r\nDate: Tue, 24 Nov 2026 03:00:00 GMT\r\n\r\n",
      "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 99\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  };
}

std::string Mutate(const std::string& base, std::mt19937& rng) {
  static const std::vector<std::string> tokens = {"\r\n",
                                                  "\n",
                                                  "\r",
                                                  " ",
                                                  "\t",
                                                  ":",
                                                  ";",
                                                  "0",
                                                  "ffffffffffffffff",
                                                  "-1",
                                                  "Content-Length: 5\r\n",
                                                  "Transfer-Encoding: chunked\r\n",
                                                  "Transfer-Encoding: gzip, chunked\r\n",
                                                  "\r\n\r\n",
                                                  std::string(1, '\0'),
                                                  "\x7f",
                                                  "HTTP/1.1 200 OK\r\n",
                                                  "0\r\n\r\n",
                                                  " \r\n folded\r\n"};
  std::string bytes = base;
  const int mutations = 1 + static_cast<int>(rng() % 6);
  for (int m = 0; m < mutations; ++m) {
    const size_t at = rng() % (bytes.size() + 1);
    switch (rng() % 5) {
      case 0:
        if (at < bytes.size()) bytes[at] = static_cast<char>(rng() % 256);
        break;
      case 1:
        bytes.erase(at, 1 + rng() % 8);
        break;
      case 2:
        bytes.insert(at, tokens[rng() % tokens.size()]);
        break;
      case 3:
        bytes.insert(at, bytes.substr(rng() % (bytes.size() + 1), rng() % 32));
        break;
      case 4:
        bytes.resize(at);
        break;
    }
  }
  return bytes;
}

std::vector<std::string> BaseRequests() {
  return {
      "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
      "POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n"
      "0\r\nx-t: 1\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n",
  };
}

template <typename Parser>
void CheckSeeds(const std::vector<std::string>& bases, bool responses) {
  for (const std::string& base : bases) {  // unmutated, each parses to completion
    const Outcome whole = Parse<Parser>(base, {base.size()}, false);
    EXPECT_FALSE(whole.failed) << base;
    EXPECT_TRUE(whole.done) << base;
  }
  constexpr uint32_t kSeeds = 20000;
  for (uint32_t seed = 1; seed <= kSeeds && !::testing::Test::HasFailure(); ++seed) {
    std::mt19937 rng(seed);
    const std::string bytes = Mutate(bases[rng() % bases.size()], rng);
    const bool head_request = responses && rng() % 8 == 0;
    const Outcome whole = Parse<Parser>(bytes, {bytes.size() + 1}, head_request);
    std::vector<size_t> steps;
    for (int i = 0; i < 8; ++i) steps.push_back(1 + rng() % 16);
    const Outcome split = Parse<Parser>(bytes, steps, head_request);
    const Outcome bytewise = Parse<Parser>(bytes, {1}, head_request);
    EXPECT_EQ(whole, split) << "seed " << seed;
    EXPECT_EQ(whole, bytewise) << "seed " << seed;
    const bool bodiless_status =
        responses && (whole.status < 200 || whole.status == 204 || whole.status == 304);
    if (whole.done && !whole.failed && whole.content_length.has_value() && !head_request &&
        !bodiless_status) {
      EXPECT_EQ(whole.body.size(), *whole.content_length) << "seed " << seed;
    }
  }
}

TEST(Http1ParserFuzzTest, AnySplitOfAResponseGivesTheSameAnswer) {
  CheckSeeds<ResponseParser>(BaseResponses(), /*responses=*/true);
}

TEST(Http1ParserFuzzTest, AnySplitOfARequestGivesTheSameAnswer) {
  CheckSeeds<RequestParser>(BaseRequests(), /*responses=*/false);
}

}  // namespace
}  // namespace proxy::http1
