#include "proxy/http2/header_translation.h"

#include "gtest/gtest.h"
#include "tests/unit/proxy/http2/http2_test_util.h"

namespace proxy::http2 {
namespace {

using testing::Headers;
using testing::MakeHeaders;
using testing::ToPairs;

TEST(Http2HeaderTranslationTest, H1HeadersDropHopByHopAndHost) {
  http::HeaderMap h1 = MakeHeaders({{"host", "example.com"},
                                    {"connection", "keep-alive, x-private"},
                                    {"keep-alive", "timeout=5"},
                                    {"proxy-connection", "keep-alive"},
                                    {"transfer-encoding", "chunked"},
                                    {"upgrade", "h2c"},
                                    {"x-private", "dropped: named by Connection"},
                                    {"te", "trailers"},
                                    {"content-type", "application/grpc"},
                                    {"cookie", "a=1; b=2"}});
  http::HeaderMap h2;
  H1HeadersToH2(h1, &h2);
  EXPECT_EQ(
      ToPairs(h2),
      (Headers{{"te", "trailers"}, {"content-type", "application/grpc"}, {"cookie", "a=1; b=2"}}));
}

TEST(Http2HeaderTranslationTest, TeOtherThanTrailersIsDropped) {
  http::HeaderMap h1 = MakeHeaders({{"te", "gzip, trailers"}, {"accept", "*/*"}});
  http::HeaderMap h2;
  H1HeadersToH2(h1, &h2);
  EXPECT_EQ(ToPairs(h2), (Headers{{"accept", "*/*"}}));
}

TEST(Http2HeaderTranslationTest, ResponseHeadersToH2) {
  http::HeaderMap h1 = MakeHeaders({{"content-length", "5"},
                                    {"connection", "close"},
                                    {"set-cookie", "a=1"},
                                    {"set-cookie", "b=2"}});
  http::HeaderMap h2;
  H1HeadersToH2(h1, &h2);
  EXPECT_EQ(ToPairs(h2),
            (Headers{{"content-length", "5"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}}));
}

TEST(Http2HeaderTranslationTest, RequestLineOriginForm) {
  http::HeaderMap h1 = MakeHeaders({{"host", "example.com:8080"}});
  RequestHeaders request = H1RequestToH2("GET", "/a/b?c=d", "http", h1);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.scheme, "http");
  EXPECT_EQ(request.authority, "example.com:8080");
  EXPECT_EQ(request.path, "/a/b?c=d");
}

TEST(Http2HeaderTranslationTest, RequestLineAbsoluteFormWinsOverHost) {
  http::HeaderMap h1 = MakeHeaders({{"host", "ignored"}});
  RequestHeaders request = H1RequestToH2("GET", "http://real.example/x", "http", h1);
  EXPECT_EQ(request.authority, "real.example");
  EXPECT_EQ(request.path, "/x");
}

TEST(Http2HeaderTranslationTest, RequestLineConnectAndOptions) {
  http::HeaderMap h1 = MakeHeaders({{"host", "proxy"}});
  RequestHeaders connect = H1RequestToH2("CONNECT", "upstream:443", "http", h1);
  EXPECT_EQ(connect.authority, "upstream:443");
  EXPECT_TRUE(connect.scheme.empty());
  EXPECT_TRUE(connect.path.empty());
  RequestHeaders options = H1RequestToH2("OPTIONS", "*", "https", h1);
  EXPECT_EQ(options.path, "*");
  EXPECT_EQ(options.scheme, "https");
}

TEST(Http2HeaderTranslationTest, H2ToH1AddsHostAndJoinsCookies) {
  http::HeaderMap h2 = MakeHeaders({{"accept", "*/*"},
                                    {"cookie", "a=1"},
                                    {"x-mid", "m"},
                                    {"cookie", "b=2"},
                                    {"cookie", "c=3"},
                                    {"host", "stale"}});
  http::HeaderMap h1;
  H2HeadersToH1("example.com", h2, &h1);
  EXPECT_EQ(ToPairs(h1), (Headers{{"host", "example.com"},
                                  {"accept", "*/*"},
                                  {"cookie", "a=1; b=2; c=3"},
                                  {"x-mid", "m"}}));
}

TEST(Http2HeaderTranslationTest, H2ToH1KeepsHostWithoutAuthority) {
  http::HeaderMap h2 = MakeHeaders({{"host", "from-header"}, {"cookie", "only=1"}});
  http::HeaderMap h1;
  H2HeadersToH1("", h2, &h1);
  EXPECT_EQ(ToPairs(h1), (Headers{{"host", "from-header"}, {"cookie", "only=1"}}));
}

}  // namespace
}  // namespace proxy::http2
