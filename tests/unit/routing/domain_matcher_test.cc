// Virtual host selection (Envoy's RouteMatcher::findVirtualHost) through RouteTable.

#include "routing/domain_matcher.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "routing/route_table.h"
#include "tests/unit/routing/test_builders.h"

namespace routing {
namespace {

using testing::MakeVirtualHost;

RouteTableConfig DomainTableConfig(bool ignore_port) {
  RouteTableConfig config;
  config.name = "domains";
  config.ignore_port_in_host_matching = ignore_port;
  config.virtual_hosts = {
      MakeVirtualHost("exact",
                      {"example.com", "Mixed.Case.COM", "example.com:8080", "www.foo.com"}),
      MakeVirtualHost("ipv6", {"[::1]"}),
      MakeVirtualHost("ipv6_port", {"[::1]:9090"}),
      MakeVirtualHost("suffix_long", {"*-bar.foo.com"}),
      MakeVirtualHost("suffix_short", {"*.foo.com"}),
      MakeVirtualHost("suffix_example", {"*.example.com"}),
      MakeVirtualHost("suffix_port", {"*.ports.com:8443"}),
      MakeVirtualHost("prefix_long", {"foo.bar.*"}),
      MakeVirtualHost("prefix_short", {"foo.*"}),
      MakeVirtualHost("prefix_example", {"example.*"}),
      MakeVirtualHost("default", {"*"}),
  };
  return config;
}

struct DomainCase {
  std::string authority;
  std::string want;  // virtual host name; "" = none
};

void ExpectDomains(const RouteTableConfig& config, const std::vector<DomainCase>& cases) {
  absl::StatusOr<std::shared_ptr<const RouteTable>> table = RouteTable::Create(config);
  ASSERT_TRUE(table.ok()) << table.status();
  for (const DomainCase& c : cases) {
    const VirtualHost* vhost = (*table)->FindVirtualHost(c.authority);
    EXPECT_EQ(vhost == nullptr ? "" : vhost->name(), c.want) << "authority " << c.authority;
  }
}

TEST(RoutingDomainTest, WithoutPortStripping) {
  ExpectDomains(DomainTableConfig(/*ignore_port=*/false),
                {
                    {"example.com", "exact"},
                    {"EXAMPLE.COM", "exact"},       // host lower-cased
                    {"mixed.case.com", "exact"},    // domain lower-cased
                    {"www.foo.com", "exact"},       // exact beats a matching suffix wildcard
                    {"example.com:8080", "exact"},  // a port matches a domain written with it
                    {"example.com:80", "prefix_example"},  // prefix wildcards see the port too
                    {"a.example.com", "suffix_example"},
                    {"a.example.com:80", "default"},   // "*.example.com" does not cover a port
                    {"x-bar.foo.com", "suffix_long"},  // the longest suffix wins
                    {"y.bar.foo.com", "suffix_short"},
                    {"-bar.foo.com", "suffix_short"},   // "*-bar.foo.com" needs a non-empty '*'
                    {".foo.com", "default"},            // "*.foo.com" needs a non-empty '*'
                    {"foo.x.foo.com", "suffix_short"},  // suffixes before prefixes
                    {"foo.com", "prefix_short"},        // "*.foo.com" does not match "foo.com"
                    {"foo.bar.baz", "prefix_long"},     // the longest prefix wins
                    {"foo.baz", "prefix_short"},
                    {"FOO.BAZ", "prefix_short"},
                    {"foo.", "default"},  // "foo.*" needs a non-empty '*'
                    {"a.ports.com:8443", "suffix_port"},
                    {"a.ports.com", "default"},
                    {"[::1]", "ipv6"},
                    {"[::1]:9090", "ipv6_port"},
                    {"[::1]:8080", "default"},
                    {"unknown.org", "default"},
                    {"", "default"},
                });
}

TEST(RoutingDomainTest, WithPortStripping) {
  ExpectDomains(DomainTableConfig(/*ignore_port=*/true),
                {
                    {"example.com:8080", "exact"},
                    {"example.com:80", "exact"},
                    {"EXAMPLE.COM:443", "exact"},
                    {"example.com:", "exact"},  // an empty port is still stripped (as Envoy)
                    {"a.example.com:80", "suffix_example"},
                    {"a.ports.com:8443", "default"},  // the stripped host no longer has the port
                    {"foo.bar.baz:1", "prefix_long"},
                    {"[::1]:8080", "ipv6"},  // the port follows the ']'
                    {"[::1]", "ipv6"},       // colons inside the brackets are not a port
                    {":80", "default"},
                });
}

TEST(RoutingDomainTest, NoDefaultMeansNoVirtualHost) {
  RouteTableConfig config;
  config.virtual_hosts = {MakeVirtualHost("only", {"only.com", "*.only.com"})};
  ExpectDomains(config, {{"only.com", "only"}, {"a.only.com", "only"}, {"other.com", ""}});
}

TEST(RoutingDomainTest, OnlyDefault) {
  RouteTableConfig config;
  config.virtual_hosts = {MakeVirtualHost("all", {"*"})};
  ExpectDomains(config, {{"anything", "all"}, {"", "all"}, {"[::1]:80", "all"}});
}

TEST(RoutingDomainTest, StarInTheMiddleIsLiteralWithWarning) {
  RouteTableConfig config;
  config.virtual_hosts = {MakeVirtualHost("odd", {"a*b.com"}), MakeVirtualHost("d", {"*"})};
  ValidationErrors errors;
  std::shared_ptr<const RouteTable> table = RouteTable::Create(config, &errors);
  ASSERT_NE(table, nullptr);
  EXPECT_TRUE(errors.errors().empty());
  EXPECT_EQ(errors.warnings(),
            std::vector<std::string>{
                "virtual_hosts[0].domains[0]: domain \"a*b.com\": '*' is a wildcard only as the "
                "first or last character; elsewhere it is matched literally"});
  EXPECT_EQ(table->FindVirtualHost("a*b.com")->name(), "odd");
  EXPECT_EQ(table->FindVirtualHost("axb.com")->name(), "d");
}

TEST(RoutingDomainTest, HostPortStart) {
  EXPECT_EQ(HostPortStart("example.com"), absl::string_view::npos);
  EXPECT_EQ(HostPortStart("example.com:80"), 11u);
  EXPECT_EQ(HostPortStart("[::1]"), absl::string_view::npos);
  EXPECT_EQ(HostPortStart("[::1]:80"), 5u);
  EXPECT_EQ(HostPortStart("[fe80::1%25eth0]:443"), 16u);
}

}  // namespace
}  // namespace routing
