// Wire compatibility of weir's Envoy v3 proto subset: every field of every message we compile has
// the package, name, number, type and oneof of Envoy's (xds/proto/envoy_fields.tsv, printed from
// Envoy's descriptors), and fields we left out survive a binary round trip as unknown fields.

#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include "absl/strings/str_split.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace xds {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// "repeated X", "map<K, V>" or "X", as envoy_fields.tsv spells field types.
std::string TypeString(const FieldDescriptor& f) {
  auto name = [](const FieldDescriptor& field) -> std::string {
    if (field.message_type() != nullptr) return field.message_type()->full_name();
    if (field.enum_type() != nullptr) return field.enum_type()->full_name();
    return field.type_name();
  };
  if (f.is_map()) {
    return "map<" + name(*f.message_type()->map_key()) + ", " +
           name(*f.message_type()->map_value()) + ">";
  }
  return (f.is_repeated() ? "repeated " : "") + name(f);
}

TEST(ProtoSubsetTest, EveryFieldMatchesEnvoysDescriptor) {
  std::ifstream table(WEIR_PROTO_DIR "/envoy_fields.tsv");
  ASSERT_TRUE(table);
  std::string line;
  std::getline(table, line);
  std::map<std::pair<std::string, std::string>, std::tuple<int, std::string, std::string>> envoy;
  while (std::getline(table, line)) {
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    ASSERT_EQ(cells.size(), 5u) << line;
    envoy[{cells[0], cells[1]}] = {std::stoi(cells[2]), cells[3], cells[4]};
  }
  ASSERT_GT(envoy.size(), 600u);

  // Every row must exist in our compiled descriptors with the same number, type and oneof.
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  // Make sure the files are linked in (the pool loads them lazily).
  envoy::config::bootstrap::v3::Bootstrap::descriptor();
  envoy::service::discovery::v3::DiscoveryResponse::descriptor();
  int checked = 0;
  for (const auto& [key, value] : envoy) {
    const auto& [message, field_name] = key;
    const auto& [number, type, oneof] = value;
    const Descriptor* d = pool->FindMessageTypeByName(message);
    if (d == nullptr) continue;  // a message only reachable from admin/other files not linked
    const FieldDescriptor* f = d->FindFieldByName(field_name);
    ASSERT_NE(f, nullptr) << message << "." << field_name;
    EXPECT_EQ(f->number(), number) << message << "." << field_name;
    EXPECT_EQ(TypeString(*f), type) << message << "." << field_name;
    const std::string our_oneof =
        f->real_containing_oneof() != nullptr ? f->real_containing_oneof()->name() : "";
    EXPECT_EQ(our_oneof, oneof) << message << "." << field_name;
    ++checked;
  }
  EXPECT_GT(checked, 500);
  // And nothing in our messages that Envoy does not have.
  for (const char* name : {"envoy.config.cluster.v3.Cluster", "envoy.config.route.v3.RouteAction",
                           "envoy.service.discovery.v3.DiscoveryRequest"}) {
    const Descriptor* d = pool->FindMessageTypeByName(name);
    ASSERT_NE(d, nullptr);
    for (int i = 0; i < d->field_count(); ++i) {
      EXPECT_TRUE(envoy.count({name, d->field(i)->name()})) << name << "." << d->field(i)->name();
    }
  }
}

TEST(ProtoSubsetTest, WrappersStayMessagesOnTheWire) {
  // ClusterWeight.weight is UInt32Value: a length-delimited field 2 holding field 1 = 7.
  envoy::config::route::v3::WeightedCluster::ClusterWeight weight;
  weight.mutable_weight()->set_value(7);
  EXPECT_EQ(weight.SerializeAsString(), std::string("\x12\x02\x08\x07", 4));
}

TEST(ProtoSubsetTest, FieldsOutsideTheSubsetSurviveAsUnknownFields) {
  // Cluster field 49 (track_cluster_stats, not in the subset) as raw bytes, then name (1) = "a".
  const std::string wire = std::string("\x8a\x03\x02\x08\x01", 5) + std::string("\x0a\x01" "a", 3);
  envoy::config::cluster::v3::Cluster cluster;
  ASSERT_TRUE(cluster.ParseFromString(wire));
  EXPECT_EQ(cluster.name(), "a");
  EXPECT_EQ(cluster.SerializeAsString().size(), wire.size());
  EXPECT_NE(cluster.SerializeAsString().find(std::string("\x8a\x03\x02\x08\x01", 5)),
            std::string::npos);
}

TEST(ProtoSubsetTest, AdsServiceMethodPath) {
  // Nothing else references ads.pb.cc (the gRPC stubs use method names), so make the linker
  // keep it: the descriptor pool loads only the files that are linked in.
  const void* volatile keep = &descriptor_table_envoy_2fservice_2fdiscovery_2fv3_2fads_2eproto;
  ASSERT_NE(keep, nullptr);
  const auto* service = envoy::service::discovery::v3::AggregatedDiscoveryService::service_full_name();
  EXPECT_STREQ(service, "envoy.service.discovery.v3.AggregatedDiscoveryService");
  const google::protobuf::ServiceDescriptor* d =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  ASSERT_NE(d, nullptr);
  const google::protobuf::MethodDescriptor* m = d->FindMethodByName("StreamAggregatedResources");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->client_streaming());
  EXPECT_TRUE(m->server_streaming());
  EXPECT_EQ(m->input_type()->full_name(), "envoy.service.discovery.v3.DiscoveryRequest");
}

}  // namespace
}  // namespace xds
