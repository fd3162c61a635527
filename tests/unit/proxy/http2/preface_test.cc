#include "proxy/http2/preface.h"

#include <string>

#include "gtest/gtest.h"

namespace proxy::http2 {
namespace {

TEST(Http2PrefaceTest, EveryProperPrefixNeedsMore) {
  EXPECT_EQ(MatchClientPreface(""), PrefaceMatch::kNeedMore);
  for (size_t n = 1; n < kClientPreface.size(); ++n) {
    EXPECT_EQ(MatchClientPreface(kClientPreface.substr(0, n)), PrefaceMatch::kNeedMore) << n;
  }
}

TEST(Http2PrefaceTest, WholePrefaceWithOrWithoutFramesIsHttp2) {
  EXPECT_EQ(MatchClientPreface(kClientPreface), PrefaceMatch::kHttp2);
  const std::string with_settings =
      std::string(kClientPreface) + std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  EXPECT_EQ(MatchClientPreface(with_settings), PrefaceMatch::kHttp2);
}

TEST(Http2PrefaceTest, Http1IsRecognisedAtTheFirstDifferentByte) {
  EXPECT_EQ(MatchClientPreface("G"), PrefaceMatch::kNotHttp2);
  EXPECT_EQ(MatchClientPreface("GET / HTTP/1.1\r\n"), PrefaceMatch::kNotHttp2);
  EXPECT_EQ(MatchClientPreface("POST /x HTTP/1.1\r\n"), PrefaceMatch::kNotHttp2);  // "P" matches
  EXPECT_EQ(MatchClientPreface("PUT"), PrefaceMatch::kNotHttp2);
  // An HTTP/1.1 request with the PRI method differs at the version.
  EXPECT_EQ(MatchClientPreface("PRI * HTTP/1.1\r\n"), PrefaceMatch::kNotHttp2);
  // A near miss after the request line.
  EXPECT_EQ(MatchClientPreface("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"), PrefaceMatch::kNotHttp2);
}

TEST(Http2PrefaceTest, PartialMismatchIsDecidedEarly) {
  EXPECT_EQ(MatchClientPreface("PRI * HTTP/2.1"), PrefaceMatch::kNotHttp2);
  EXPECT_EQ(MatchClientPreface("PRI * HTTP/2.0\r"), PrefaceMatch::kNeedMore);
}

}  // namespace
}  // namespace proxy::http2
