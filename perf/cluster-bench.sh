#!/usr/bin/env bash
# perf/cluster-bench.sh — the cost of replication: LoadGen produce (1 KiB records, acks=all) against a topic with
# replication factor 1 and one with replication factor 3 (each measured at its leader) in a three-node cluster started here
# (nodes on 127.0.0.1-3, each its own process and temp data dir). Also a single-node run for reference.
# All processes share this machine's cores, so RF 3 pays for three brokers' CPU on the same cores; on separate
# machines the cost is a network round trip to the fastest follower instead.
#
# Usage: perf/cluster-bench.sh [--broker PATH] [--out FILE]
# Env:   BENCH_DURATION (s, default 8), BENCH_WARMUP (s, default 2), BENCH_PARTITIONS (default 1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/perf/results/$(date +%Y-%m-%d)-replication.md"
DUR=${BENCH_DURATION:-8}
WARM=${BENCH_WARMUP:-2}
PARTS=${BENCH_PARTITIONS:-1}
BROKER_BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) BROKER_BIN=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "cluster-bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "cluster-bench: $*" >&2; }

WORK=$(mktemp -d /tmp/broker-cluster-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$BROKER_BIN" ]; then
  log "publishing the broker"
  dotnet publish "$ROOT/src/Broker.Host" -c Release -r linux-x64 --artifacts-path "$WORK/art" -o "$WORK/bin" -nologo -v:quiet >/dev/null
  BROKER_BIN="$WORK/bin/broker"
fi
log "building the load generator"
dotnet build "$ROOT/perf/Broker.LoadGen" -c Release --artifacts-path "$WORK/art-lg" -nologo -v:quiet >/dev/null
LG="$WORK/art-lg/bin/Broker.LoadGen/release/loadgen.dll"

KPORT=29092 CPORT=29093
VOTERS="1@127.0.0.1:$CPORT,2@127.0.0.2:$CPORT,3@127.0.0.3:$CPORT"
start_node() { # start_node ID VOTERS
  local id=$1 voters=$2 dir="$WORK/node-$1"
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.$id:$KPORT,CONTROLLER://127.0.0.$id:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.$id:$KPORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
min.insync.replicas=1
admin.listeners=
http.proxy.listeners=
PROPS
  "$BROKER_BIN" start --config "$dir/server.properties" >"$dir/broker.log" 2>&1 &
  PIDS+=($!)
}
wait_ready() { # wait_ready HOST
  for _ in $(seq 1 100); do
    timeout 2 kcat -b "$1:$KPORT" -L -m 1 2>/dev/null | grep -q "brokers:" && return 0
    sleep 0.2
  done
  log "node $1 did not become ready"; exit 1
}
run() { # run LABEL RF: create the topic, find its leader, produce to it (LoadGen talks to one broker only)
  local topic="$1-$RANDOM" leader
  dotnet "$LG" produce --bootstrap "127.0.0.1:$KPORT" --topic "$topic" --partitions "$PARTS" --replication-factor "$2" \
    --warmup 0 --duration 1 >"$WORK/$1.create.txt" 2>&1 || true
  leader=$(kcat -b "127.0.0.1:$KPORT" -L -t "$topic" 2>/dev/null | sed -n 's/.*partition 0, leader \([0-9]*\),.*/\1/p' | head -1)
  [ -n "$leader" ] || { log "no leader for $topic"; cat "$WORK/$1.create.txt" >&2; exit 1; }
  log "produce: $1 (topic $topic, leader node $leader)"
  dotnet "$LG" produce --bootstrap "127.0.0.$leader:$KPORT" --topic "$topic" --record-size 1024 --acks -1 \
    --warmup "$WARM" --duration "$DUR" --label "$1" --json "$WORK/$1.json" >"$WORK/$1.txt" 2>&1 \
    || { cat "$WORK/$1.txt" >&2; exit 1; }
}

log "single node (reference)"
start_node 1 "1@127.0.0.1:$CPORT"; wait_ready 127.0.0.1
run single-rf1 1
for p in "${PIDS[@]}"; do kill -TERM "$p"; done; sleep 2; PIDS=()
rm -rf "$WORK/node-1"

log "three nodes"
for i in 1 2 3; do start_node "$i" "$VOTERS"; done
for i in 1 2 3; do wait_ready "127.0.0.$i"; done
sleep 2
run cluster-rf1 1
run cluster-rf3 3

{
  echo "# Replication cost, $(date +%Y-%m-%d)"
  echo
  echo "LoadGen produce, 1 KiB records, acks=all, $PARTS partition(s), ${DUR} s after ${WARM} s warm-up, one producer"
  echo "connection; three broker processes on 127.0.0.1-3 sharing the machine's $(nproc) cores."
  echo
  for l in single-rf1 cluster-rf1 cluster-rf3; do
    echo "## $l"; echo; echo '```'; cat "$WORK/$l.txt"; echo '```'; echo
  done
} > "$OUT"
log "wrote $OUT"
