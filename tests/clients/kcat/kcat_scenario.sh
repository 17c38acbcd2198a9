#!/usr/bin/env bash
# Real-client scenario with kcat (librdkafka CLI) against a Kafka-compatible broker.
#
# Usage:
#   kcat_scenario.sh --bootstrap 127.0.0.1:9092 --topic T [--mode roundtrip|verify|metadata]
#                    [--codecs none,gzip,snappy,lz4,zstd] [--count 200] [--partitions 3]
#                    [--work-dir DIR] [--no-create] [--timeout 60]
# Modes:
#   metadata   kcat -L -J: at least one broker is listed.
#   roundtrip  per codec: create topic T-<codec> (through confluent_scenario.py create-topic, since kcat cannot
#              create topics; --no-create relies on auto-creation), produce --count keyed messages with binary
#              keys/values from a file (kcat -P -K '\x1f' -D '\x1e' -X compression.codec=<codec> -X acks=all with
#              two headers), check the topic in kcat -L -J, consume with kcat -C -o beginning -e and a
#              length-prefixed -f format, and compare byte for byte. Inputs/expected sets stay in --work-dir.
#   verify     re-consume the topics of an earlier roundtrip (same --work-dir, --topic, --codecs) and compare
#              again, e.g. after a broker restart.
# Output: one JSON summary line on stdout; progress and errors on stderr. Exit 0 = all matched, 1 = mismatch or
# error, 2 = usage error. Every kcat call runs under `timeout`.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3
BOOTSTRAP="" TOPIC="" MODE=roundtrip CODECS="none,gzip,snappy,lz4,zstd" COUNT=200 PARTITIONS=3
WORK="" CREATE=1 TIMEOUT=60
HEADERS="h1=v1,trace=kcat"

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bootstrap) BOOTSTRAP="$2"; shift 2 ;;
    --topic) TOPIC="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --codecs) CODECS="$2"; shift 2 ;;
    --count) COUNT="$2"; shift 2 ;;
    --partitions) PARTITIONS="$2"; shift 2 ;;
    --work-dir) WORK="$2"; shift 2 ;;
    --no-create) CREATE=0; shift ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "kcat_scenario: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$BOOTSTRAP" ] && [ -n "$TOPIC" ] || { echo "kcat_scenario: --bootstrap and --topic are required" >&2; usage; }
[ "$CODECS" = all ] && CODECS="none,gzip,snappy,lz4,zstd"
command -v kcat >/dev/null || { echo '{"ok": false, "errors": ["kcat not installed (apt-get install kcat)"]}'; exit 1; }
if [ -z "$WORK" ]; then WORK="$(mktemp -d /tmp/kcat-scenario.XXXXXX)"; fi
mkdir -p "$WORK"

ERRORS=()
RESULTS=()
fail() { echo "kcat_scenario: ERROR: $*" >&2; ERRORS+=("$*"); }
log() { echo "kcat_scenario: $*" >&2; }

summary() {
  local ok=true
  [ ${#ERRORS[@]} -eq 0 ] || ok=false
  "$PY" - "$MODE" "$ok" "$WORK" "${#RESULTS[@]}" "${RESULTS[@]}" "${ERRORS[@]}" <<'EOF'
import json, sys
mode, ok, work, n = sys.argv[1], sys.argv[2] == "true", sys.argv[3], int(sys.argv[4])
results = [json.loads(r) for r in sys.argv[5:5 + n]]
errors = sys.argv[5 + n:]
print(json.dumps({"scenario": mode, "client": "kcat", "ok": ok, "work_dir": work, "results": results,
                  "errors": errors}, sort_keys=True))
EOF
  [ "$ok" = true ]
  exit $?
}

KCAT_COMMON=(-b "$BOOTSTRAP" -X socket.timeout.ms=10000 -X broker.address.family=v4)

metadata_check() {  # [topic partitions]
  local json="$WORK/metadata.json" out
  if ! timeout "$TIMEOUT" kcat "${KCAT_COMMON[@]}" -L -J -m 10 ${1:+-t "$1"} >"$json" 2>"$WORK/metadata.err"; then
    fail "kcat -L -J failed: $(tail -c 500 "$WORK/metadata.err")"
    return 1
  fi
  if ! out=$("$PY" "$HERE/kcat_data.py" metadata --json "$json" ${1:+--topic "$1" --partitions "$2"}); then
    fail "metadata check: $out"
    return 1
  fi
  RESULTS+=("$out")
}

wait_topic() {  # topic partitions: metadata until the topic shows up with leaders (bounded)
  local end=$((SECONDS + TIMEOUT))
  while [ $SECONDS -lt $end ]; do
    if timeout 15 kcat "${KCAT_COMMON[@]}" -L -J -m 5 -t "$1" >"$WORK/wait.json" 2>/dev/null &&
       "$PY" "$HERE/kcat_data.py" metadata --json "$WORK/wait.json" --topic "$1" --partitions "$2" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.3
  done
  return 1
}

consume_and_check() {  # topic codec
  local topic="$1" codec="$2" out
  if ! timeout "$TIMEOUT" kcat "${KCAT_COMMON[@]}" -C -t "$topic" -o beginning -e -q -X check.crcs=true \
      -f '%p %o %K %S %T %h\n%k%s\n' >"$WORK/$topic.out" 2>"$WORK/$topic.consume.err"; then
    fail "$codec: kcat -C failed or timed out: $(tail -c 500 "$WORK/$topic.consume.err")"
    return 1
  fi
  if ! out=$("$PY" "$HERE/kcat_data.py" check --expected "$WORK/$topic.expected" --output "$WORK/$topic.out" \
      --topic "$topic" --headers "$HEADERS" --partitions "$PARTITIONS"); then
    fail "$codec: consumed data does not match: $out"
    return 1
  fi
  RESULTS+=("$out")
  log "$codec: $out"
}

roundtrip_codec() {  # codec
  local codec="$1" topic="$TOPIC-$1" seed out
  seed=$(( $(printf '%s' "$topic" | cksum | cut -d' ' -f1) % 100000 ))
  if [ "$CREATE" = 1 ]; then
    if ! out=$("$PY" "$HERE/../python/confluent_scenario.py" create-topic --bootstrap "$BOOTSTRAP" --topic "$topic" \
        --partitions "$PARTITIONS" --timeout "$TIMEOUT" 2>"$WORK/$topic.create.err"); then
      fail "$codec: create topic $topic failed: $out $(tail -c 500 "$WORK/$topic.create.err")"
      return 1
    fi
  fi
  "$PY" "$HERE/kcat_data.py" gen --count "$COUNT" --seed "$seed" --topic "$topic" \
      --input "$WORK/$topic.in" --expected "$WORK/$topic.expected" >/dev/null || { fail "$codec: gen failed"; return 1; }
  local hdr_args=() h
  IFS=, read -r -a hs <<<"$HEADERS"
  for h in "${hs[@]}"; do hdr_args+=(-H "$h"); done
  if ! timeout "$TIMEOUT" kcat "${KCAT_COMMON[@]}" -P -t "$topic" -K '\x1f' -D '\x1e' \
      -X compression.codec="$codec" -X acks=all -X message.timeout.ms=$((TIMEOUT * 1000)) -X linger.ms=5 \
      "${hdr_args[@]}" <"$WORK/$topic.in" 2>"$WORK/$topic.produce.err"; then
    fail "$codec: kcat -P failed or timed out: $(tail -c 500 "$WORK/$topic.produce.err")"
    return 1
  fi
  if grep -qi 'fail\|error' "$WORK/$topic.produce.err"; then
    fail "$codec: kcat -P reported: $(grep -i 'fail\|error' "$WORK/$topic.produce.err" | head -5)"
    return 1
  fi
  if [ "$CREATE" = 1 ]; then
    metadata_check "$topic" "$PARTITIONS" || return 1
  elif ! wait_topic "$topic" 0; then
    fail "$codec: topic $topic never appeared in metadata"
    return 1
  fi
  consume_and_check "$topic" "$codec"
}

IFS=, read -r -a CODEC_LIST <<<"$CODECS"
case "$MODE" in
  metadata)
    metadata_check ;;
  roundtrip)
    metadata_check || summary
    for c in "${CODEC_LIST[@]}"; do
      roundtrip_codec "$c"
      # A topic that cannot be created will not be creatable for the next codec either: stop early.
      if [ ${#ERRORS[@]} -gt 0 ] && [[ "${ERRORS[-1]}" == *"create topic"* ]]; then break; fi
    done ;;
  verify)
    for c in "${CODEC_LIST[@]}"; do
      if [ ! -f "$WORK/$TOPIC-$c.expected" ]; then fail "$c: no expected set $WORK/$TOPIC-$c.expected"; continue; fi
      consume_and_check "$TOPIC-$c" "$c"
    done ;;
  *) echo "kcat_scenario: unknown mode $MODE" >&2; usage ;;
esac
summary
