#!/usr/bin/env bash
# perf/bench.sh — one benchmark run: the machine's limits (loopback TCP with iperf3, sequential write and fdatasync
# with fio in the broker's data directory) and the broker's figures (LoadGen produce / consume / e2e at 1 KiB and
# 100 B records, acks=1 and acks=-1) against a broker started here on free ports with a temporary data dir.
# Writes perf/results/<date>.md (LoadGen JSON per run next to it as <date>-<run>.json). See perf/README.md.
#
# Usage: perf/bench.sh [--quick] [--skip-machine] [--skip-broker] [--clients] [--broker PATH] [--out FILE]
#        --clients also drives the same produce/consume shapes with librdkafka (perf/rdkafka_bench.py, confluent-kafka)
#        and kcat, to cross-check the load generator's figures against real clients (a second table).
# Env:   BENCH_DURATION (s, default 8), BENCH_WARMUP (s, default 2), BENCH_PARTITIONS (default 2),
#        BENCH_E2E_RATE_1K / BENCH_E2E_RATE_100 (records/s of the moderate-load runs, default 10000 / 20000),
#        BENCH_DATA_DIR (parent of the temporary data dir, default /tmp).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATE=$(date +%Y-%m-%d)
OUT="$ROOT/perf/results/$DATE.md"
DUR=${BENCH_DURATION:-8}
WARM=${BENCH_WARMUP:-2}
PARTS=${BENCH_PARTITIONS:-2}
RATE_1K=${BENCH_E2E_RATE_1K:-10000}
RATE_100=${BENCH_E2E_RATE_100:-20000}
SKIP_MACHINE=0 SKIP_BROKER=0 CLIENTS=0 BROKER_BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DUR=3; WARM=1 ;;
    --skip-machine) SKIP_MACHINE=1 ;;
    --skip-broker) SKIP_BROKER=1 ;;
    --clients) CLIENTS=1 ;;
    --broker) BROKER_BIN=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

WORK=$(mktemp -d "${BENCH_DATA_DIR:-/tmp}/broker-bench.XXXXXX")
DATA="$WORK/data"
RAW="$WORK/raw"          # logs and machine-tool JSON (temporary)
JSON_PREFIX="${OUT%.md}"  # LoadGen JSON results: <out>-<run>.json next to the report (git-ignored)
mkdir -p "$DATA" "$RAW" "$(dirname "$OUT")"
BROKER_PID="" IPERF_PID=""
stop_broker() {
  [ -z "$BROKER_PID" ] && return 0
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}
cleanup() {
  [ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null || true
  stop_broker
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

need() { # need COMMAND [PACKAGE]
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing ${2:-$1}"
  apt-get install -y "${2:-$1}" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "${2:-$1}" >/dev/null; }
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  echo "bench: no free port found" >&2; return 1
}
fmt() { awk -v x="$1" -v d="${2:-1}" 'BEGIN { if (x == "" || x == "null") print "–"; else printf "%.*f\n", d, x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0 || a == "null") print "–"; else printf "%.0f%%\n", 100 * a / b }'; }

need jq
NET_MBS="" DISK_MBS="" SYNC_P50="" SYNC_P99=""

# ---------------------------------------------------------------- machine limits
if [ "$SKIP_MACHINE" = 0 ]; then
  need iperf3
  need fio
  IPORT=$(free_port)
  iperf3 -s -B 127.0.0.1 -p "$IPORT" >/dev/null 2>&1 &
  IPERF_PID=$!
  log "loopback TCP bandwidth (iperf3, 5 s, 1 stream)"
  for try in 1 2 3 4 5; do # the server may need a moment to listen (no probing: it would count as a test)
    sleep 0.5
    iperf3 -c 127.0.0.1 -p "$IPORT" -t 5 -P 1 -J > "$RAW/iperf3.json" && break
  done
  kill "$IPERF_PID" 2>/dev/null || true
  wait "$IPERF_PID" 2>/dev/null || true
  IPERF_PID=""
  NET_MBS=$(jq '.end.sum_received.bits_per_second / 8 / 1e6' "$RAW/iperf3.json")

  log "sequential write bandwidth (fio, 1 GiB, buffered, fsync at the end) in $DATA"
  fio --name=seqwrite --directory="$DATA" --rw=write --bs=1m --size=1g --direct=0 --end_fsync=1 \
      --ioengine=psync --output-format=json > "$RAW/fio-seq.json"
  DISK_MBS=$(jq '.jobs[0].write.bw_bytes / 1e6' "$RAW/fio-seq.json")
  rm -f "$DATA"/seqwrite*

  log "fdatasync latency (fio, 4 KiB writes, fdatasync after each, 5 s)"
  fio --name=syncwrite --directory="$DATA" --rw=write --bs=4k --size=16m --fdatasync=1 --ioengine=psync \
      --runtime=5 --time_based --output-format=json > "$RAW/fio-sync.json"
  SYNC_P50=$(jq '.jobs[0].sync.lat_ns.percentile["50.000000"] / 1e6' "$RAW/fio-sync.json")
  SYNC_P99=$(jq '.jobs[0].sync.lat_ns.percentile["99.000000"] / 1e6' "$RAW/fio-sync.json")
  rm -f "$DATA"/syncwrite*
  log "limits: loopback $(fmt "$NET_MBS") MB/s, disk $(fmt "$DISK_MBS") MB/s, fdatasync p50 $(fmt "$SYNC_P50" 2) ms p99 $(fmt "$SYNC_P99" 2) ms"
fi

# ---------------------------------------------------------------- broker
start_broker() {
  PORT=$(free_port); CPORT=$(free_port)
  while [ "$CPORT" = "$PORT" ]; do CPORT=$(free_port); done
  mkdir -p "$DATA/broker"
  cat > "$WORK/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA/broker
admin.listeners=
http.proxy.listeners=
EOF
  "$BROKER_BIN" start --config "$WORK/server.properties" > "$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 300); do
    port_in_use "$PORT" && return 0
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "the broker did not start listening on 127.0.0.1:$PORT; its log:"
  tail -n 30 "$WORK/broker.log" >&2
  return 1
}

ROWS=()
NOTES=()
FAILURES=0
add_row() { # add_row SCENARIO LATENCY-KIND JSON SIDE HIST LIMIT-MBS LIMIT-NAME
  local name=$1 kind=$2 json=$3 side=$4 hist=$5 limit=$6 lname=$7
  local mbs rps p50 p99 p999 errs
  mbs=$(jq -r ".$side.mbPerSec // empty" "$json"); rps=$(jq -r ".$side.recordsPerSec // empty" "$json")
  p50=$(jq -r ".$hist.p50 // empty" "$json"); p99=$(jq -r ".$hist.p99 // empty" "$json"); p999=$(jq -r ".$hist.p999 // empty" "$json")
  errs=$(jq -r '.errorCount' "$json")
  local r="–"
  [ -n "$limit" ] && r="$(ratio "$mbs" "$limit") of $lname"
  ROWS+=("| $name | $kind | $(fmt "$mbs") | $(fmt "$rps" 0) | $(fmt "$p50" 2) | $(fmt "$p99" 2) | $(fmt "$p999" 2) | $r | $errs |")
}

run_loadgen() { # run_loadgen NAME SCENARIO [args...]: writes $JSON_PREFIX-NAME.json; never aborts the bench
  local name=$1; shift
  log "loadgen $name: $*"
  local json="$JSON_PREFIX-$name.json"
  rm -f "$json"
  if ! timeout $((${WARM%.*} + ${DUR%.*} + 60)) dotnet "$LOADGEN" "$@" --bootstrap "127.0.0.1:$PORT" --json "$json" \
        --label "$name" > "$RAW/$name.txt" 2> "$RAW/$name.err"; then
    FAILURES=$((FAILURES + 1))
    NOTES+=("- \`$name\`: $(tail -n 1 "$RAW/$name.err")")
    log "loadgen $name reported errors: $(tail -n 1 "$RAW/$name.err")"
  fi
  [ -s "$json" ]
}

CROSS_ROWS=()
cross_row() { # cross_row SCENARIO CLIENT MB/s RECORDS/s P50 P99 P999 ERRORS
  CROSS_ROWS+=("| $1 | $2 | $(fmt "$3") | $(fmt "$4" 0) | $(fmt "$5" 2) | $(fmt "$6" 2) | $(fmt "$7" 2) | $8 |")
}
cross_from_loadgen() { # cross_from_loadgen SCENARIO JSON SIDE HIST
  [ -s "$2" ] || return 0
  cross_row "$1" "loadgen" "$(jq -r ".$3.mbPerSec" "$2")" "$(jq -r ".$3.recordsPerSec" "$2")" \
    "$(jq -r ".$4.p50 // empty" "$2")" "$(jq -r ".$4.p99 // empty" "$2")" "$(jq -r ".$4.p999 // empty" "$2")" "$(jq -r '.errorCount' "$2")"
}
run_rdkafka() { # run_rdkafka NAME ARGS...: one JSON line in $RAW/NAME.json
  local name=$1; shift
  log "librdkafka $name: $*"
  timeout $((${WARM%.*} + ${DUR%.*} + 90)) /usr/bin/python3 "$ROOT/perf/rdkafka_bench.py" "$@" --bootstrap "127.0.0.1:$PORT" \
      --json "$RAW/$name.json" > /dev/null 2> "$RAW/$name.err" || log "librdkafka $name: $(tail -n 1 "$RAW/$name.err")"
}
run_client_crosscheck() {
  /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || need python3-confluent-kafka || true
  need kcat
  local j="$RAW/rdk-produce.json"
  cross_from_loadgen "produce 1 KiB acks=1 (send→ack)" "$JSON_PREFIX-produce-1024b-acks1.json" produce produceLatencyMs
  run_rdkafka rdk-produce produce --topic cross-rdk --partitions "$PARTS" --record-size 1024 --acks 1 --linger-ms 5 \
      --warmup "$WARM" --duration "$DUR"
  [ -s "$j" ] && cross_row "produce 1 KiB acks=1 (send→ack)" "librdkafka (confluent-kafka)" "$(jq .mbPerSec "$j")" \
      "$(jq .recordsPerSec "$j")" "$(jq .produceLatencyMs.p50 "$j")" "$(jq .produceLatencyMs.p99 "$j")" "$(jq .produceLatencyMs.p999 "$j")" "$(jq .errors "$j")"
  cross_from_loadgen "produce 1 KiB acks=1 @ $RATE_1K/s (intended send→ack)" "$JSON_PREFIX-e2e-1024b-acks1.json" produce produceLatencyMs
  j="$RAW/rdk-rate.json"
  run_rdkafka rdk-rate produce --topic cross-rdk-rate --partitions "$PARTS" --record-size 1024 --acks 1 --linger-ms 0 \
      --rate "$RATE_1K" --warmup "$WARM" --duration "$DUR"
  [ -s "$j" ] && cross_row "produce 1 KiB acks=1 @ $RATE_1K/s (intended send→ack)" "librdkafka (confluent-kafka)" "$(jq .mbPerSec "$j")" \
      "$(jq .recordsPerSec "$j")" "$(jq .produceLatencyMs.p50 "$j")" "$(jq .produceLatencyMs.p99 "$j")" "$(jq .produceLatencyMs.p999 "$j")" "$(jq .errors "$j")"
  cross_from_loadgen "consume 1 KiB from earliest" "$JSON_PREFIX-consume-1024b-acks1.json" consume fetchRequestLatencyMs
  j="$RAW/rdk-consume.json"
  run_rdkafka rdk-consume consume --topic bench-1024b-acks1 --duration 60
  [ -s "$j" ] && cross_row "consume 1 KiB from earliest" "librdkafka (confluent-kafka)" "$(jq .mbPerSec "$j")" \
      "$(jq .recordsPerSec "$j")" "" "" "" "$(jq .errors "$j")"
  # kcat: throughput only (no per-record latency); 1 KiB lines from a file, then the whole topic read back.
  local n=$((200000)) lines="$WORK/kcat-lines.txt" t0 t1
  awk -v n="$n" 'BEGIN { s = sprintf("%1023s", ""); gsub(/ /, "x", s); for (i = 0; i < n; i++) print s }' > "$lines"
  log "kcat produce: $n × 1 KiB"
  t0=$(date +%s.%N)
  if kcat -P -b "127.0.0.1:$PORT" -t cross-kcat -X linger.ms=5 -X acks=1 -l "$lines" 2> "$RAW/kcat-produce.err"; then
    t1=$(date +%s.%N)
    cross_row "produce 1 KiB acks=1 ($n records, whole run)" "kcat" "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { print n * 1023 / (b - a) / 1e6 }')" \
      "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')" "" "" "" 0
  fi
  log "kcat consume: cross-kcat from the beginning"
  t0=$(date +%s.%N)
  local got
  got=$(kcat -C -b "127.0.0.1:$PORT" -t cross-kcat -o beginning -e -q -f '%S\n' 2> "$RAW/kcat-consume.err" | wc -l)
  t1=$(date +%s.%N)
  cross_row "consume 1 KiB ($got records, whole run incl. start-up)" "kcat" "$(awk -v n="$got" -v a="$t0" -v b="$t1" 'BEGIN { print n * 1023 / (b - a) / 1e6 }')" \
    "$(awk -v n="$got" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')" "" "" "" "$([ "$got" = "$n" ] && echo 0 || echo "got $got of $n")"
  rm -f "$lines"
}

if [ "$SKIP_BROKER" = 0 ]; then
  command -v dotnet >/dev/null || { echo "bench: dotnet SDK not found" >&2; exit 1; }
  if [ -z "$BROKER_BIN" ]; then
    BROKER_BIN="$ROOT/artifacts/publish/broker"
    if [ ! -x "$BROKER_BIN" ] || [ -n "$(find "$ROOT/src" -name '*.cs' -newer "$BROKER_BIN" -print -quit)" ]; then
      log "publishing the broker (NativeAOT) to artifacts/publish"
      (cd "$ROOT" && dotnet publish src/Broker.Host -c Release -r linux-x64 -o artifacts/publish \
          --artifacts-path "${TMPDIR:-/tmp}/art-bench-publish" > "$WORK/publish.log" 2>&1) \
        || { tail -n 30 "$WORK/publish.log" >&2; exit 1; }
    fi
  fi
  log "building the load generator"
  (cd "$ROOT" && dotnet build perf/Broker.LoadGen -c Release --artifacts-path "${TMPDIR:-/tmp}/art-bench-loadgen" \
      > "$WORK/loadgen-build.log" 2>&1) || { tail -n 30 "$WORK/loadgen-build.log" >&2; exit 1; }
  LOADGEN="${TMPDIR:-/tmp}/art-bench-loadgen/bin/Broker.LoadGen/release/loadgen.dll"

  start_broker
  log "broker pid $BROKER_PID on 127.0.0.1:$PORT, data in $DATA/broker"
  for size in 1024 100; do
    label=$([ "$size" = 1024 ] && echo "1 KiB" || echo "100 B")
    rate=$([ "$size" = 1024 ] && echo "$RATE_1K" || echo "$RATE_100")
    for acks in 1 -1; do
      tag="${size}b-acks${acks/-1/all}"
      common=(--record-size "$size" --acks "$acks" --partitions "$PARTS")
      if run_loadgen "produce-$tag" produce "${common[@]}" --topic "bench-$tag" --warmup "$WARM" --duration "$DUR"; then
        add_row "produce $label acks=$acks" "send→ack per record" "$JSON_PREFIX-produce-$tag.json" produce produceLatencyMs "$DISK_MBS" "disk write"
      fi
      if run_loadgen "consume-$tag" consume "${common[@]}" --topic "bench-$tag" --warmup 0 --duration "$DUR"; then
        add_row "consume $label (from earliest)" "fetch request" "$JSON_PREFIX-consume-$tag.json" consume fetchRequestLatencyMs "$NET_MBS" "loopback"
      fi
      if run_loadgen "e2e-$tag" e2e "${common[@]}" --topic "bench-e2e-$tag" --rate "$rate" --linger-ms 0 \
            --warmup "$WARM" --duration "$DUR"; then
        add_row "produce $label acks=$acks @ $rate/s" "intended send→ack" "$JSON_PREFIX-e2e-$tag.json" produce produceLatencyMs "" ""
        add_row "e2e $label acks=$acks @ $rate/s" "intended send→fetched" "$JSON_PREFIX-e2e-$tag.json" consume e2eLatencyMs "" ""
      fi
    done
  done
  [ "$CLIENTS" = 1 ] && run_client_crosscheck
  stop_broker
fi

# ---------------------------------------------------------------- report
{
  echo "# Benchmark $DATE"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr);"\
       "data dir filesystem: $(df -hT "$DATA" | awk 'NR == 2 {print $2 " on " $1}'). Broker and load generator share the cores."
  echo
  echo "## Machine limits"
  echo
  echo "| limit | value |"
  echo "|---|---:|"
  echo "| loopback TCP, iperf3, 1 stream, 5 s | $(fmt "$NET_MBS") MB/s |"
  echo "| sequential write, fio 1 GiB buffered + fsync at end | $(fmt "$DISK_MBS") MB/s |"
  echo "| fdatasync after each 4 KiB write, p50 / p99 | $(fmt "$SYNC_P50" 2) / $(fmt "$SYNC_P99" 2) ms |"
  echo
  if [ "$SKIP_BROKER" = 0 ]; then
    echo "## Broker"
    echo
    echo "LoadGen: $PARTS partitions, 1 producer and 1 consumer connection, batches of 100 records, 5 requests in flight,"
    echo "${WARM} s warmup + ${DUR} s measured per run (consume: until caught up). MB/s = payload (values) in 10^6 B/s."
    echo "Rates marked @ are the moderate-load runs (e2e scenario, open model, linger 0)."
    echo
    echo "| scenario | latency measured | MB/s | records/s | p50 ms | p99 ms | p99.9 ms | vs machine limit | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---|---:|"
    for r in "${ROWS[@]}"; do echo "$r"; done
    echo
    if [ "$FAILURES" -gt 0 ]; then
      echo "**$FAILURES load generator run(s) reported errors:**"
      for n in "${NOTES[@]}"; do echo "$n"; done
      echo
    fi
    echo "LoadGen JSON per run: \`$(basename "$JSON_PREFIX")-<run>.json\` next to this file (not committed)."
    if [ "${#CROSS_ROWS[@]}" -gt 0 ]; then
      echo
      echo "## Cross-check with real clients"
      echo
      echo "The same shapes driven by librdkafka 2.0.2 (perf/rdkafka_bench.py through confluent-kafka: one producer,"
      echo "linger 5 ms unlimited / 0 ms at a rate; latency from the send time to the delivery report, seen at the next"
      echo "poll) and by kcat (wall time of the whole command). Same broker, same run."
      echo
      echo "| scenario | client | MB/s | records/s | p50 ms | p99 ms | p99.9 ms | errors |"
      echo "|---|---|---:|---:|---:|---:|---:|---|"
      for r in "${CROSS_ROWS[@]}"; do echo "$r"; done
    fi
  fi
} > "$OUT"
log "wrote $OUT"
cat "$OUT"
