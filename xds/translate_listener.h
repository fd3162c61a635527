#pragma once

// Listener (+ its HttpConnectionManager network filter) → ListenerConfig, with errors under
// Envoy field paths. weir serves HTTP only: a listener needs exactly one filter chain whose only
// network filter is the HTTP connection manager, and its HTTP filters must end with the router.

#include <optional>

#include "envoy/config/listener/v3/listener.pb.h"
#include "routing/validation_errors.h"
#include "xds/listener_config.h"

namespace xds {

// nullopt if any error was added.
std::optional<ListenerConfig> TranslateListener(const envoy::config::listener::v3::Listener& proto,
                                                routing::ValidationErrors* errors);

}  // namespace xds
