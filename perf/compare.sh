#!/usr/bin/env bash
# perf/compare.sh — before/after comparison of two broker binaries on the same LoadGen scenario, run alternately
# (A, B, A, B, ...) so that machine noise hits both sides alike. Each run starts the binary on free ports with an
# empty temporary data dir, runs LoadGen, reads the broker's CPU time from /proc, stops it and removes the data.
# Prints one line per run (MB/s, p99 and max latency, broker and LoadGen CPU seconds) and the median MB/s per side.
#
# Usage: perf/compare.sh --a BIN [--b BIN] [--rounds N] [--a-env "K=V ..."] [--b-env "K=V ..."]
#                        [--loadgen DLL] [-- LOADGEN ARGS]
#        LoadGen args default to: produce --partitions 2 --record-size 1024 --acks 1 --warmup 2 --duration 8
#        (--bootstrap, --topic and --json are added here). --b defaults to --a (then compare environments).
# Example: perf/compare.sh --a /tmp/before/broker --b /tmp/after/broker --rounds 3
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
A="" B="" ROUNDS=3 A_ENV="" B_ENV="" LOADGEN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --a) A=$2; shift ;;
    --b) B=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --a-env) A_ENV=$2; shift ;;
    --b-env) B_ENV=$2; shift ;;
    --loadgen) LOADGEN=$2; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$A" ] || { echo "compare.sh: --a BIN is required" >&2; exit 2; }
B=${B:-$A}
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(produce --partitions 2 --record-size 1024 --acks 1 --warmup 2 --duration 8)
command -v jq >/dev/null || { echo "compare.sh: needs jq (apt-get install jq)" >&2; exit 2; }

if [ -z "$LOADGEN" ]; then
  (cd "$ROOT" && dotnet build perf/Broker.LoadGen -c Release --artifacts-path "${TMPDIR:-/tmp}/art-compare-loadgen" >/dev/null) \
    || { echo "compare.sh: LoadGen build failed" >&2; exit 1; }
  LOADGEN="${TMPDIR:-/tmp}/art-compare-loadgen/bin/Broker.LoadGen/release/loadgen.dll"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/broker-compare.XXXXXX")
BPID=""
cleanup() {
  [ -n "$BPID" ] && kill -KILL "$BPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

run_one() { # run_one SIDE BIN ENV ROUND
  local side=$1 bin=$2 envs=$3 round=$4 kport cport
  kport=$(free_port); cport=$(free_port)
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  cat > "$WORK/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$kport,CONTROLLER://127.0.0.1:$cport
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$WORK/data
admin.listeners=
http.proxy.listeners=
EOF
  # shellcheck disable=SC2086
  env $envs "$bin" start --config "$WORK/server.properties" > "$WORK/broker-$side-$round.log" 2>&1 &
  BPID=$!
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$kport") 2>/dev/null && break; sleep 0.1; done
  local t0 t1
  t0=$(awk '{print $14+$15}' "/proc/$BPID/stat")
  /usr/bin/time -f "%U %S" -o "$WORK/lgtime" dotnet "$LOADGEN" "${ARGS[@]}" --bootstrap "127.0.0.1:$kport" \
    --topic compare --json "$WORK/$side-$round.json" > /dev/null 2> "$WORK/loadgen-$side-$round.err" || true
  t1=$(awk '{print $14+$15}' "/proc/$BPID/stat")
  kill -TERM "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=""
  local j="$WORK/$side-$round.json" side_mbps
  side_mbps=$(jq -r '(.produce.mbPerSec // 0) + (.consume.mbPerSec // 0)' "$j" 2>/dev/null || echo 0)
  echo "$side_mbps" >> "$WORK/$side.mbps"
  printf '%s round %s  MB/s %8.1f  p99 %7.2f ms  max %8.1f ms  broker cpu %6.2f s  loadgen cpu %6.2f s  errors %s\n' \
    "$side" "$round" "$side_mbps" "$(jq -r '(.produceLatencyMs.p99 // .fetchRequestLatencyMs.p99 // 0)' "$j")" \
    "$(jq -r '(.produceLatencyMs.max // .fetchRequestLatencyMs.max // 0)' "$j")" \
    "$(echo "($t1 - $t0) / 100" | bc -l)" "$(awk '{print $1+$2}' "$WORK/lgtime")" "$(jq -r '.errorCount // "?"' "$j")"
}

echo "A: $A ${A_ENV:+($A_ENV)}"
echo "B: $B ${B_ENV:+($B_ENV)}"
echo "LoadGen: ${ARGS[*]}"
for round in $(seq 1 "$ROUNDS"); do
  run_one A "$A" "$A_ENV" "$round"
  run_one B "$B" "$B_ENV" "$round"
done
echo "median MB/s: A $(median < "$WORK/A.mbps")  B $(median < "$WORK/B.mbps")"
