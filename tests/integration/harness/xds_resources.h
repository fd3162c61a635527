#pragma once

// Envoy v3 resources for xDS tests, built from their JSON form with protobuf's own JSON parser
// and returned serialized (the value of the Any that goes on the wire). Each builder covers the
// shapes the tests need; Serialize() takes any other JSON.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace weir_test {

// Serializes `json` as message `full_name` (e.g. "envoy.config.cluster.v3.Cluster"); aborts the
// test process with the parser's message if the JSON does not fit (a bug in the test).
std::string Serialize(const std::string& full_name, const std::string& json);

// An EDS cluster (endpoints over ADS). `extra` is spliced in as more JSON fields ("...,").
std::string EdsCluster(const std::string& name, const std::string& extra = "");
// A STATIC cluster with one endpoint 127.0.0.1:port.
std::string StaticCluster(const std::string& name, uint16_t port);
// A ClusterLoadAssignment with endpoints on 127.0.0.1 at `ports`.
std::string Endpoints(const std::string& cluster_name, const std::vector<uint16_t>& ports);
// A listener on 127.0.0.1:port (0: ephemeral) whose HCM (stat_prefix = name) takes its routes
// from RDS route configuration `route`; `hcm_extra` adds HCM fields ("\"server_name\":\"x\",").
std::string RdsListener(const std::string& name, uint16_t port, const std::string& route,
                        const std::string& hcm_extra = "");
// A route configuration: prefix "/" to weighted clusters, pinned by header x-canary-pin.
std::string WeightedRoute(const std::string& name,
                          const std::vector<std::pair<std::string, uint32_t>>& clusters);

}  // namespace weir_test
