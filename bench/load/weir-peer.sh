#!/usr/bin/env bash
# PROXY_CMD for ../shared/bench/peers.sh (see bench/load/README.md): writes a weir config that
# matches the peers' setup (HTTP/1.1 on 127.0.0.1:$LISTEN_PORT, 90/10 weighted split between
# $UPSTREAM_V1 and $UPSTREAM_V2, keep-alive upstream pools, no access log) and runs weir in the
# foreground with $PROXY_WORKERS workers.
#
# WEIR_PEER_HEADERS picks which request headers weir adds upstream:
#   peers (default): only x-forwarded-proto, so the upstream gets what it gets from the HAProxy and
#                    nginx peers (which add none) plus 25 bytes: generate_request_id: false and
#                    the router's suppress_envoy_headers: true.
#   envoy:           Envoy's defaults, as a user's config would have them: also a generated
#                    x-request-id (UUID) and x-envoy-expected-rq-timeout-ms. haproxy-peer.sh with
#                    the same setting makes HAProxy add them too, for a like-for-like comparison.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
weir="${WEIR_BINARY:-$here/../../build/weir}"
request_id="" envoy_headers=""
case "${WEIR_PEER_HEADERS:-peers}" in
  peers)
    request_id="generate_request_id: false"
    envoy_headers="suppress_envoy_headers: true" ;;
  envoy) ;;
  *) echo "WEIR_PEER_HEADERS must be peers or envoy" >&2; exit 2 ;;
esac
cfg=$(mktemp "${TMPDIR:-/tmp}/weir-peer.XXXXXX.yaml")
v1_host=${UPSTREAM_V1%:*}; v1_port=${UPSTREAM_V1##*:}
v2_host=${UPSTREAM_V2%:*}; v2_port=${UPSTREAM_V2##*:}
# UPSTREAM_IDLE_TIMEOUT (e.g. 3s): close idle upstream connections after it (Envoy's default: 1 h).
idle=""
if [[ -n "${UPSTREAM_IDLE_TIMEOUT:-}" ]]; then
  idle="common_http_protocol_options: {idle_timeout: ${UPSTREAM_IDLE_TIMEOUT}}"
fi
cat >"$cfg" <<CFG
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
static_resources:
  listeners:
  - name: peer
    address: {socket_address: {address: 127.0.0.1, port_value: ${LISTEN_PORT}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: peer
          ${request_id}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route:
                  weighted_clusters:
                    clusters: [{name: v1, weight: 90}, {name: v2, weight: 10}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
              ${envoy_headers}
  clusters:
  - name: v1
    ${idle}
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: ${v1_host}, port_value: ${v1_port}}}}}]}]
  - name: v2
    ${idle}
    load_assignment:
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: ${v2_host}, port_value: ${v2_port}}}}}]}]
CFG
# WEIR_VALGRIND: a valgrind command line to run weir under (bench/load/callgrind_per_request.sh).
exec ${WEIR_VALGRIND:-} "$weir" -c "$cfg" --concurrency "${PROXY_WORKERS:-1}" --log-level warning
