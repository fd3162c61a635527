#!/usr/bin/env bash
# burst_recovery.sh weir|haproxy [PAUSE_S] [RUNS]: a proxy's CPU per request at h2load 64 x 1
# fresh, and again after a 5 s burst of 64 x 16 streams and PAUSE_S (default 60) seconds idle.
# This is what separates weir from HAProxy at 64 x 1 in the peers' harness (bench/RESULTS.md, "Why
# 64 x 1 stays above HAProxy"). Layout as in ../shared/bench/peers.sh: the proxy alone on CPU 1,
# nginx upstreams and h2load on CPU 0; CPU-seconds per 100k requests from /proc/<pid>/stat over a
# 5 s run after a 2 s warm-up. Each measurement starts a new proxy process.
# Environment: WEIR_BINARY (default build/weir), UPSTREAM_IDLE_TIMEOUT (weir's clusters; e.g. 3s
# closes the burst's idle upstream connections before the second measurement, as HAProxy's
# pool-purge-delay does), H2LOAD_LOG (default /dev/null: where h2load writes per-request logs),
# WEIR_PEER_HEADERS (peers or envoy, for either proxy: see weir-peer.sh and haproxy-peer.sh).
set -euo pipefail
proxy=$1; pause=${2:-60}; runs=${3:-1}
here="$(cd "$(dirname "$0")" && pwd)"
for tool in h2load nginx taskset setsid curl "$proxy"; do
  [[ $tool == weir ]] || command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/burst-recovery.XXXXXX")
up1=18181; up2=18182; port=19041
cat >"$work/upstream.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/upstream.pid;
error_log $work/upstream.err warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $work/ub; proxy_temp_path $work/up; fastcgi_temp_path $work/uf;
  uwsgi_temp_path $work/uu; scgi_temp_path $work/us;
  server { listen 127.0.0.1:$up1 backlog=4096; location / { return 200 "v1\n"; } }
  server { listen 127.0.0.1:$up2 backlog=4096; location / { return 200 "v2\n"; } }
}
EOF
setsid taskset -c 0 nginx -e "$work/upstream.err" -c "$work/upstream.conf" \
  </dev/null >/dev/null 2>&1 &
upstream=$!
trap 'kill -TERM -- -$upstream 2>/dev/null || true; rm -rf "$work"' EXIT

load() {  # load CONNS STREAMS SECONDS [h2load args...]
  local c=$1 m=$2 d=$3; shift 3
  taskset -c 0 h2load -t1 -c"$c" -m"$m" -D"$d" "$@" "http://127.0.0.1:$port/" 2>/dev/null
}

ticks() {  # ticks PGID: user + system clock ticks of every process in the group
  local pid total=0 t
  for pid in $(pgrep -g "$1"); do
    t=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' \
        "/proc/$pid/stat" 2>/dev/null) || continue
    total=$((total + t))
  done
  echo "$total"
}

measure() {  # measure BURST(0|1): prints CPU-s per 100k requests of one new proxy process
  local pg script=$here/weir-peer.sh listen=(LISTEN_PORT="$port")
  if [[ $proxy == haproxy ]]; then
    # haproxy-peer.sh serves HTTP/1.1 on LISTEN_PORT and h2c on LISTEN_H2_PORT.
    script=$here/haproxy-peer.sh listen=(LISTEN_PORT=$((port + 1)) LISTEN_H2_PORT="$port")
  fi
  # TMPDIR: the peer scripts' config files go with the work directory.
  TMPDIR=$work UPSTREAM_V1=127.0.0.1:$up1 UPSTREAM_V2=127.0.0.1:$up2 \
    setsid env "${listen[@]}" taskset -c 1 "$script" </dev/null >"$work/proxy.out" 2>&1 &
  pg=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  if [[ $1 == 1 ]]; then load 64 16 5 >/dev/null; sleep "$pause"; fi
  load 64 1 2 >/dev/null
  local before after requests
  before=$(ticks "$pg")
  requests=$(load 64 1 5 --log-file="${H2LOAD_LOG:-/dev/null}" | awk '/^requests:/ { print $8 }')
  after=$(ticks "$pg")
  kill -TERM -- -"$pg" 2>/dev/null || true
  wait "$pg" 2>/dev/null || true
  awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.3f", t / hz / n * 1e5 }'
}

echo "$proxy, h2load 64 x 1, CPU-s per 100k requests: fresh, after a 64 x 16 burst and ${pause}s"
for run in $(seq "$runs"); do
  fresh=$(measure 0); warm=$(measure 1)
  echo "run $run: fresh $fresh  after $warm"
done
