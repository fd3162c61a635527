#pragma once

// RouteConfiguration (inline in an HttpConnectionManager, or from RDS) → routing::RouteTable.
// Translation checks what the protobuf schema cannot (required oneofs, enum values weir
// implements, data sources) under Envoy field paths; routing::RouteTable::Create then checks
// routing semantics (weights, regexes, domains) beneath the same path.

#include <memory>

#include "envoy/config/route/v3/route.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "routing/route_config.h"
#include "routing/route_table.h"
#include "routing/validation_errors.h"

namespace xds {

routing::RouteTableConfig TranslateRouteConfiguration(
    const envoy::config::route::v3::RouteConfiguration& proto, routing::ValidationErrors* errors);

// Translates and compiles; nullptr if any error was added.
std::shared_ptr<const routing::RouteTable> CompileRouteConfiguration(
    const envoy::config::route::v3::RouteConfiguration& proto, routing::ValidationErrors* errors);

routing::HeaderMatcherConfig TranslateHeaderMatcher(
    const envoy::config::route::v3::HeaderMatcher& proto, routing::ValidationErrors* errors);

}  // namespace xds
