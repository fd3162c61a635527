#!/usr/bin/env bash
# Fails when an include breaks the module DAG of docs/ARCHITECTURE.md:
#   routing, stats: leaves (no other module, no protobuf/gRPC, no asio/beast/nghttp2/OpenSSL)
#   xds: routing and stats only; the only module that includes protobuf/gRPC headers
#   proxy: anything below it
set -u
root="${1:-$(dirname "$0")/..}"
cd "$root" || exit 2
status=0
check() {  # check <dir> <regex of forbidden includes> <why>
  local hits
  hits=$(grep -rnE "^#include [\"<]($2)" "$1" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation in $1/ ($3):"
    echo "$hits"
    status=1
  fi
}
io='boost/|asio|nghttp2|openssl/|grpc|google/protobuf|envoy/|yaml-cpp'
check routing "proxy/|xds/|stats/|$io" "routing is a pure leaf"
check stats "proxy/|xds/|routing/|$io" "stats is a leaf"
check xds "proxy/|boost/|asio|nghttp2|openssl/" "xds must not depend on proxy or socket libraries"
[ $status -eq 0 ] && echo "layering OK"
exit $status
