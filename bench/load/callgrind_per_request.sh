#!/usr/bin/env bash
# User-space cost per proxied HTTP/2 request under callgrind's cache model: instructions, L1
# instruction and data misses, and how much distinct code a request runs (bench/RESULTS.md,
# "Why 64 × 1 stays above HAProxy"). Works for any h2c proxy: weir, HAProxy, nginx.
#   bench/load/callgrind_per_request.sh PORT COMMAND...
#   e.g. UPSTREAM_V1=127.0.0.1:18081 UPSTREAM_V2=127.0.0.1:18082 LISTEN_PORT=19031 \
#          bench/load/callgrind_per_request.sh 19031 bench/load/weir-peer.sh
#        bench/load/callgrind_per_request.sh 19002 haproxy -f haproxy.cfg
# COMMAND runs in the foreground under valgrind (weir-peer.sh honours WEIR_VALGRIND for this);
# the proxy must answer h2c on 127.0.0.1:PORT. Settings: CONNS (64), REQUESTS (20000), WARMUP
# (2000). Needs valgrind, h2load, python3.
set -euo pipefail
port=$1
shift
conns=${CONNS:-64}
requests=${REQUESTS:-20000}
work=$(mktemp -d /tmp/weir-callgrind.XXXXXX)
url=http://127.0.0.1:$port/

callgrind=(valgrind --tool=callgrind --cache-sim=yes --dump-instr=yes
           --callgrind-out-file="$work/out")
if [ "$(basename "$1")" = weir-peer.sh ]; then
  WEIR_VALGRIND="${callgrind[*]}" setsid "$@" >"$work/proxy.log" 2>&1 &
else
  setsid "${callgrind[@]}" "$@" >"$work/proxy.log" 2>&1 &
fi
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null || true; sleep 1; kill -KILL -- -$pid 2>/dev/null || true
      rm -rf "$work"' EXIT
for _ in $(seq 150); do
  curl -s -o /dev/null --http2-prior-knowledge "$url" && break
  sleep 0.2
done
h2load -t1 -c"$conns" -m1 -n"${WARMUP:-2000}" "$url" >/dev/null
valgrind_pid=$(pgrep -f -- "--callgrind-out-file=$work/out" | head -1)
callgrind_control -z "$valgrind_pid" >/dev/null 2>&1
h2load -t1 -c"$conns" -m1 -n"$requests" "$url" | grep '^requests:'
callgrind_control -d "$valgrind_pid" >/dev/null 2>&1

python3 - "$work" "$requests" <<'PY'
import collections, glob, re, sys
work, n = sys.argv[1], float(sys.argv[2])
path = sorted(glob.glob(work + "/out.*"))[-1]  # the dump taken after zeroing
names, events, totals = {}, None, None
lines_by_object = collections.defaultdict(set)
obj, address, skip = "?", 0, False

def name(text):
    m = re.match(r"\((\d+)\)(?: (.*))?", text)
    if not m:
        return text
    if m.group(2):
        names[m.group(1)] = m.group(2)
    return names.get(m.group(1), "?")

for line in open(path):
    if line.startswith("events:"):
        events = line.split()[1:]
        totals = [0] * len(events)
    elif line.startswith(("cob=", "cfi=", "cfl=", "cfn=")):
        name(line.split("=", 1)[1].strip())
    elif line.startswith("ob="):
        obj = name(line[3:].strip())
    elif line.startswith("calls="):
        skip = True  # the next cost line is the call's inclusive cost
    elif line[:1] in "0123456789+-*" and line.strip():
        parts = line.split()
        position = parts[0]
        if position.startswith("0x"):
            address = int(position, 16)
        elif position[0] in "+-":
            address += int(position[0] + str(int(position[1:], 0)))
        if skip:
            skip = False
            continue
        costs = [int(c) for c in parts[2:]]
        for i, c in enumerate(costs):
            totals[i] += c
        if costs and costs[0] >= 0.9 * n:
            lines_by_object[obj].add(address >> 6)

per = {e: t / n for e, t in zip(events, totals)}
print("per request: instructions %.0f, L1i misses %.0f, L1d read misses %.0f, "
      "L1d write misses %.0f" % (per["Ir"], per["I1mr"], per["D1mr"], per["D1mw"]))
total = sum(len(s) for s in lines_by_object.values())
print("code run at least 0.9 times per request: %.1f KB" % (total * 64 / 1024))
for o, s in sorted(lines_by_object.items(), key=lambda kv: -len(kv[1]))[:6]:
    print("  %6.1f KB  %s" % (len(s) * 64 / 1024, o))
PY
