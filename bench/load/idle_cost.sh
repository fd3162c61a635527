#!/usr/bin/env bash
# What an idle weir costs: wake-ups per second (context switches of all its threads) and CPU
# time (perf stat task-clock, or /proc ticks without perf) over $IDLE_S seconds, after one
# proxied request leaves a pooled upstream connection open. Needs an HTTP server on
# $UPSTREAM_V1 and $UPSTREAM_V2 (e.g. the peers' upstream nginx) and a built weir.
#   UPSTREAM_V1=127.0.0.1:18081 UPSTREAM_V2=127.0.0.1:18082 bench/load/idle_cost.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${IDLE_S:=10}" "${LISTEN_PORT:=19041}" "${PROXY_WORKERS:=2}"
export UPSTREAM_V1 UPSTREAM_V2 LISTEN_PORT PROXY_WORKERS
setsid "$here/weir-peer.sh" >/dev/null 2>&1 </dev/null &
pid=$!
trap 'kill -INT -- -$pid 2>/dev/null && wait $pid 2>/dev/null; true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$LISTEN_PORT/" && break
  sleep 0.1
done
kill -0 "$pid" || { echo "weir did not start" >&2; exit 1; }
sleep 1  # let the request's deadlines and ticks settle
switches() { cat /proc/$pid/task/*/status | awk '/ctxt_switches/ { n += $2 } END { print n }'; }
ticks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
s0=$(switches); t0=$(ticks)
if command -v perf >/dev/null; then
  cpu=$(perf stat -x, -e task-clock -p "$pid" -- sleep "$IDLE_S" 2>&1 >/dev/null | awk -F, '/task-clock/ { printf "%.2f ms", $1 }')
else
  sleep "$IDLE_S"
  cpu="$(( ($(ticks) - t0) * 1000 / $(getconf CLK_TCK) )) ms (clock ticks)"
fi
s1=$(switches)
echo "weir, $PROXY_WORKERS workers, idle ${IDLE_S} s: $(( (s1 - s0) / IDLE_S )) wake-ups/s, CPU $cpu"
