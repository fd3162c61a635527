#!/usr/bin/env bash
# PROXY_CMD for ../shared/bench/peers.sh (see bench/load/README.md): HAProxy with the peer
# script's own HAProxy setup (HTTP/1.1 on 127.0.0.1:$LISTEN_PORT, h2c on $LISTEN_H2_PORT, 90/10
# weighted backend, keep-alive and connection reuse, no logging), optionally adding the request
# headers weir adds under Envoy's defaults. Run it as the harness's custom proxy to measure HAProxy
# doing the same per-request work as weir, in the same run as the other peers.
#
# WEIR_PEER_HEADERS (as for weir-peer.sh):
#   peers (default): the peer script's HAProxy, unchanged.
#   envoy:           also sets x-forwarded-proto, a generated x-request-id (UUID v4) and
#                    x-envoy-expected-rq-timeout-ms: 15000 on every request, and the upstream's
#                    response time as x-envoy-upstream-service-time on every response, as weir with
#                    Envoy's defaults does (the upstream then gets the same bytes from both).
set -euo pipefail
cfg=$(mktemp "${TMPDIR:-/tmp}/haproxy-peer.XXXXXX.cfg")
trap 'rm -f "$cfg"' EXIT
headers=""
case "${WEIR_PEER_HEADERS:-peers}" in
  peers) ;;
  envoy)
    headers="  http-request set-header x-forwarded-proto http
  http-request set-header x-request-id %[uuid]
  http-request set-header x-envoy-expected-rq-timeout-ms 15000
  http-response set-header x-envoy-upstream-service-time %Tr" ;;
  *) echo "WEIR_PEER_HEADERS must be peers or envoy" >&2; exit 2 ;;
esac
cat >"$cfg" <<CFG
global
  nbthread ${PROXY_WORKERS:-1}
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  http-reuse safe
frontend fe
  bind 127.0.0.1:${LISTEN_PORT}
  bind 127.0.0.1:${LISTEN_H2_PORT} proto h2
${headers}
  default_backend be
backend be
  balance roundrobin
  server v1 ${UPSTREAM_V1} weight 90
  server v2 ${UPSTREAM_V2} weight 10
CFG
haproxy -c -q -f "$cfg"
# Not exec: the trap removes the config when HAProxy exits (the peer script stops the group).
haproxy -db -f "$cfg"
