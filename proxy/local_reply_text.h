#pragma once

// The bodies of Envoy's local replies, so existing runbooks and alerts recognise weir's.

#include "absl/strings/string_view.h"

namespace proxy::local_reply {

inline constexpr absl::string_view kNoHealthyUpstream = "no healthy upstream";
inline constexpr absl::string_view kConnectFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
inline constexpr absl::string_view kConnectTimeout =
    "upstream connect error or disconnect/reset before headers. reset reason: connection timeout";
inline constexpr absl::string_view kResetBeforeHeaders =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "termination";
inline constexpr absl::string_view kUpstreamProtocolError =
    "upstream connect error or disconnect/reset before headers. reset reason: protocol error";
inline constexpr absl::string_view kUpstreamTimeout = "upstream request timeout";

}  // namespace proxy::local_reply
