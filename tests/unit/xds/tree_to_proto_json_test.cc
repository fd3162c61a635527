// TreeReadOptions.apply_support_policy: weir's own config reading refuses fields it does not
// implement; the xDS server turns the policy off and passes every field of the subset through.

#include "xds/tree_to_proto_json.h"

#include "envoy/config/listener/v3/listener.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xds {
namespace {

constexpr char kApiListener[] = R"(
name: echo
api_listener:
  api_listener:
    "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
    stat_prefix: echo
no_such_field: 1
)";

std::vector<std::string> Errors(bool apply_support_policy) {
  absl::StatusOr<ConfigNode> tree = ParseYaml(kApiListener);
  EXPECT_TRUE(tree.ok());
  routing::ValidationErrors errors;
  TreeToProtoJson(*tree, *envoy::config::listener::v3::Listener::descriptor(),
                  {.apply_support_policy = apply_support_policy}, &errors);
  return errors.errors();
}

TEST(TreeToProtoJsonTest, TheSupportPolicyCanBeTurnedOffButUnknownFieldsStayErrors) {
  EXPECT_THAT(Errors(/*apply_support_policy=*/true),
              ::testing::ElementsAre(::testing::StartsWith("api_listener: field is not supported"),
                                     ::testing::StartsWith("no_such_field: unknown field")));
  EXPECT_THAT(Errors(/*apply_support_policy=*/false),
              ::testing::ElementsAre(::testing::StartsWith("no_such_field: unknown field")));
}

}  // namespace
}  // namespace xds
