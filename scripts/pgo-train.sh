#!/usr/bin/env bash
# Drives benchmark-shaped traffic through a weir binary: the training run of the profile-guided
# build (scripts/build.sh --pgo), and a ctest that keeps this script working.
#   scripts/pgo-train.sh WEIR_BINARY [SECONDS_PER_CASE]
# weir runs the peers benchmark's config (bench/load/weir-peer.sh: one worker, a 90/10 weighted
# route to two HTTP/1.1 keep-alive upstreams), the upstreams being a small Python server so that
# only the proxy's code is profiled. h2load then runs the HTTP/2 rows of bench/RESULTS.md (1, 16,
# 64 connections x 1 and 16 streams) and HTTP/1.1 keep-alive at 1 and 16 connections. Exits
# non-zero if any request fails or weir does not exit cleanly on SIGTERM (an instrumented binary
# writes its profile then).
set -euo pipefail
cd "$(dirname "$0")/.."
weir=$1
seconds=${2:-2}
work=$(mktemp -d /tmp/weir-pgo-train.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Two upstreams answering every request with a 3-byte body over keep-alive connections; the first
# line on stdout is their ports.
python3 -u - >"$work/upstream.out" 2>&1 <<'PY' &
import asyncio

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"

async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"content-length:" in head.lower():  # the training sends no bodies
                break
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()

async def main():
    servers = [await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024) for _ in range(2)]
    print(*[s.sockets[0].getsockname()[1] for s in servers])
    await asyncio.Event().wait()

asyncio.run(main())
PY
pids+=($!)
for _ in $(seq 100); do [ -s "$work/upstream.out" ] && break; sleep 0.1; done
read -r v1 v2 <"$work/upstream.out" || { echo "upstream did not start" >&2; cat "$work/upstream.out" >&2; exit 1; }
listen=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# WEIR_PEER_HEADERS=envoy: train the request path of Envoy's defaults (request IDs, Envoy headers),
# which users' configs run, not only the benchmark's trimmed one.
TMPDIR=$work WEIR_PEER_HEADERS=envoy WEIR_BINARY=$weir \
  UPSTREAM_V1=127.0.0.1:$v1 UPSTREAM_V2=127.0.0.1:$v2 \
  LISTEN_PORT=$listen PROXY_WORKERS=1 bench/load/weir-peer.sh >"$work/weir.log" 2>&1 &
weir_pid=$!
pids+=("$weir_pid")
url=http://127.0.0.1:$listen/
for _ in $(seq 100); do
  curl -fs -o /dev/null "$url" && break
  kill -0 "$weir_pid" 2>/dev/null || { cat "$work/weir.log" >&2; exit 1; }
  sleep 0.1
done

run() {  # run H2LOAD_ARGS...: one bounded h2load run that must complete every request
  local out line total succeeded
  out=$(h2load -t1 -D"$seconds" "$@" "$url" 2>&1) || true
  line=$(grep '^requests:' <<<"$out") || { echo "h2load $*: no result" >&2; echo "$out" >&2; exit 1; }
  read -r _ total _ _ _ _ _ succeeded _ <<<"$line"
  echo "h2load $*: $succeeded of $total requests succeeded"
  [ "$total" -gt 0 ] && [ "$succeeded" = "$total" ] || exit 1
}
for cm in 1x1 1x16 16x1 16x16 64x1 64x16; do run -c"${cm%x*}" -m"${cm#*x}"; done
for c in 1 16; do run --h1 -c"$c"; done

kill -TERM "$weir_pid"
status=0; wait "$weir_pid" || status=$?
[ "$status" = 0 ] || { echo "weir exited with $status" >&2; cat "$work/weir.log" >&2; exit 1; }
