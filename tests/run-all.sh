#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run). From the repository root:
#   bash tests/run-all.sh
# Steps:
#   1. installs what the real-client tests need when it is missing: Debian packages kcat, python3-confluent-kafka,
#      python3-kafka, python3-snappy/-lz4/-zstandard (kafka-python codecs), libsnappy1v5, liblz4-1, libzstd1,
#      nodejs/npm if absent; `npm ci` in tests/clients/node (skipped while package-lock.json is unchanged);
#   2. publishes the NativeAOT broker: dotnet publish src/Broker.Host -c Release -r linux-x64 -o artifacts/publish
#      (trim/AOT warnings IL2xxx/IL3xxx fail the run, other warnings are printed) and prints the binary size;
#   3. builds the solution once (plus any test project the solution does not list yet);
#   4. runs every tests/*/*.Tests.csproj with `dotnet test --no-build`, trx files in artifacts/test-results, env
#      BROKER_BIN = the published binary;
#   5. prints one line per project and, as the very last line, `tests: N passed, N failed`.
# Exit status 1 when any test failed, a project crashed or produced no trx, or a step above failed.
# Environment knobs: BROKER_ARTIFACTS (default <repo>/artifacts), SKIP_CLIENT_INSTALL=1, SKIP_PUBLISH=1 (reuse
# artifacts/publish/broker), TEST_FILTER (passed to dotnet test --filter), TEST_PROJECT_TIMEOUT (s, default 1800).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ART="${BROKER_ARTIFACTS:-$ROOT/artifacts}"
OBJ="$ART/obj"                 # --artifacts-path for every build: keeps bin/ and obj/ out of src/ and tests/
PUBLISH_DIR="$ART/publish"
RESULTS_DIR="$ART/test-results"
BROKER_BIN="$PUBLISH_DIR/broker"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DEBIAN_FRONTEND=noninteractive NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
mkdir -p "$ART" "$RESULTS_DIR"

PASSED=0
FAILED=0
PROBLEMS=()
problem() { PROBLEMS+=("$1"); FAILED=$((FAILED + 1)); echo "run-all: FAILURE: $1" >&2; }
step() { echo; echo "==== $* ($(date -u +%H:%M:%S))"; }
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# ------------------------------------------------------------------ 1. client dependencies
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else echo "run-all: need root (or sudo) to run: $*" >&2; return 1
  fi
}

APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  echo "apt-get update"
  as_root apt-get update -q >"$ART/apt-update.log" 2>&1 || { tail -20 "$ART/apt-update.log" >&2; return 1; }
  APT_UPDATED=1
}

# (no `cmd | grep -q` under pipefail: grep exiting early would SIGPIPE the writer and fail the pipeline)
apt_has_candidate() { local out; out="$(apt-cache policy "$1" 2>/dev/null)"; grep -q 'Candidate: [^(]' <<<"$out"; }
deb_installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == *"install ok installed"* ]]; }

install_client_deps() {
  local need=() optional=() p
  command -v kcat >/dev/null || need+=(kcat)
  [ -x /usr/bin/python3 ] || need+=(python3)
  /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || need+=(python3-confluent-kafka)
  /usr/bin/python3 -c 'import kafka' 2>/dev/null || need+=(python3-kafka)
  for p in libsnappy1v5 liblz4-1 libzstd1; do
    deb_installed "$p" || need+=("$p")
  done
  /usr/bin/python3 -c 'import snappy' 2>/dev/null || optional+=(python3-snappy)
  /usr/bin/python3 -c 'import lz4.frame' 2>/dev/null || optional+=(python3-lz4)
  /usr/bin/python3 -c 'import zstandard' 2>/dev/null || optional+=(python3-zstandard)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  if [ ${#need[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ]; then
    apt_update_once || { problem "apt-get update failed (see $ART/apt-update.log)"; return 1; }
    for p in "${optional[@]}"; do
      if apt_has_candidate "$p"; then need+=("$p"); else echo "run-all: note: $p not available from apt; kafka-python skips that codec"; fi
    done
    if [ ${#need[@]} -eq 0 ]; then
      echo "nothing installable is missing"
    else
      echo "apt-get install ${need[*]}"
    fi
    if [ ${#need[@]} -gt 0 ] && ! as_root apt-get install -y -q --no-install-recommends "${need[@]}" >"$ART/apt-install.log" 2>&1; then
      tail -30 "$ART/apt-install.log" >&2
      problem "apt-get install ${need[*]} failed (see $ART/apt-install.log)"
      return 1
    fi
  else
    echo "Debian client packages already installed"
  fi
  /usr/bin/python3 -c 'import confluent_kafka, kafka; print("confluent-kafka", confluent_kafka.version()[0], "librdkafka", confluent_kafka.libversion()[0], "kafka-python", kafka.__version__)' ||
    { problem "python Kafka clients do not import under /usr/bin/python3"; return 1; }
  kcat -V 2>&1 | sed -n 4p

  local node_dir="$ROOT/tests/clients/node" stamp want
  stamp="$node_dir/node_modules/.run-all-stamp"
  want="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1) $(node --version)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "node client packages up to date"
  else
    echo "npm ci (tests/clients/node)"
    if (cd "$node_dir" && timeout 900 npm ci --no-audit --no-fund >"$ART/npm-ci.log" 2>&1); then
      echo "$want" >"$stamp"
    else
      tail -30 "$ART/npm-ci.log" >&2
      problem "npm ci in tests/clients/node failed (see $ART/npm-ci.log)"
      return 1
    fi
  fi
}

step "1. client dependencies"
if [ "${SKIP_CLIENT_INSTALL:-0}" = 1 ]; then
  echo "skipped (SKIP_CLIENT_INSTALL=1)"
else
  install_client_deps || true
fi

command -v dotnet >/dev/null || { problem "dotnet SDK not found on PATH"; echo "tests: $PASSED passed, $FAILED failed"; exit 1; }

# ------------------------------------------------------------------ 2. AOT publish
step "2. publish the NativeAOT broker"
if [ "${SKIP_PUBLISH:-0}" = 1 ] && [ -x "$BROKER_BIN" ]; then
  echo "skipped (SKIP_PUBLISH=1), using $BROKER_BIN"
else
  rm -f "$BROKER_BIN"
  set +e
  dotnet publish src/Broker.Host -c Release -r linux-x64 -o "$PUBLISH_DIR" --artifacts-path "$OBJ" \
    -nologo -clp:NoSummary >"$ART/publish.log" 2>&1
  rc=$?
  set -e
  warnings="$(grep -E ': warning [A-Z]+[0-9]+' "$ART/publish.log" | sed -E 's/ \[[^]]*\]$//' | sort -u || true)"
  if [ -n "$warnings" ]; then
    echo "publish warnings:"
    echo "$warnings" | sed 's/^/  /'
  fi
  if [ $rc -ne 0 ] || [ ! -x "$BROKER_BIN" ]; then
    grep -E ': error ' "$ART/publish.log" | sort -u | head -40 >&2 || true
    tail -20 "$ART/publish.log" >&2
    problem "dotnet publish src/Broker.Host failed (exit $rc; full log $ART/publish.log)"
  elif grep -qE 'warning IL[23][0-9]{3}' <<<"$warnings"; then
    problem "dotnet publish produced trim/AOT warnings (IL2xxx/IL3xxx): the native binary may misbehave"
  fi
fi
if [ -x "$BROKER_BIN" ]; then
  size=$(stat -c %s "$BROKER_BIN")
  echo "broker binary: $BROKER_BIN ($size bytes, $(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }'))"
  timeout 10 "$BROKER_BIN" --version 2>&1 | head -1 || true
fi

# ------------------------------------------------------------------ 3. build
step "3. build"
mapfile -t TEST_PROJECTS < <(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | sort |
  awk '/Integration/ { last = last $0 "\n"; next } { print } END { printf "%s", last }')
declare -A BUILT=()   # test project -> 1 when its build output is current
build() {  # project-or-solution: non-zero on failure, errors printed
  local log="$ART/build.$(basename "$1").log"
  echo "dotnet build $1"
  if dotnet build "$1" --artifacts-path "$OBJ" -nologo -clp:NoSummary -v:quiet >"$log" 2>&1; then return 0; fi
  grep -E ': (error|warning) ' "$log" | sed -E 's/ \[[^]]*\]$//' | sort -u | head -40 >&2 || true
  tail -3 "$log" >&2
  return 1
}
build_projects_one_by_one() {
  for proj in "${TEST_PROJECTS[@]}"; do
    [ -n "${BUILT[$proj]:-}" ] && continue
    if build "$proj"; then BUILT[$proj]=1; else problem "dotnet build $proj failed (log: $ART/build.$(basename "$proj").log)"; fi
  done
}
if [ -f Broker.sln ]; then
  if build Broker.sln; then
    listed="$(dotnet sln Broker.sln list 2>/dev/null | tr '\\' '/' || true)"
    for proj in "${TEST_PROJECTS[@]}"; do
      grep -qF "${proj#tests/}" <<<"$listed" && BUILT[$proj]=1
    done
  else
    echo "the solution build failed: building each test project on its own to run what does build"
  fi
else
  echo "no Broker.sln: building the test projects one by one"
fi
build_projects_one_by_one

# ------------------------------------------------------------------ 4. tests
step "4. tests"
rm -f "$RESULTS_DIR"/*.trx "$RESULTS_DIR"/*.log
SUMMARY_LINES=()
parse_trx() {  # trx file -> failed-test lines, then a last line "passed failed total executed"
  "$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = ET.parse(sys.argv[1]).getroot()
c = root.find("t:ResultSummary/t:Counters", ns)
get = lambda k: int(c.get(k, "0")) if c is not None else 0
failed = get("failed") + get("error") + get("timeout") + get("aborted")
for r in root.iterfind("t:Results/t:UnitTestResult", ns):
    if r.get("outcome") not in ("Passed", "NotExecuted"):
        msg = r.find("t:Output/t:ErrorInfo/t:Message", ns)
        text = (msg.text or "").strip().splitlines() if msg is not None else []
        print("    FAILED %s (%s)%s" % (r.get("testName"), r.get("duration"), (": " + text[0][:300]) if text else ""))
print(get("passed"), failed, get("total"), get("executed"))
EOF
}
for proj in "${TEST_PROJECTS[@]}"; do
  name="$(basename "$proj" .csproj)"
  if [ -z "${BUILT[$proj]:-}" ]; then
    SUMMARY_LINES+=("$name: NOT RUN (build failed)")
    continue
  fi
  echo "---- $name"
  args=(test "$proj" --no-build --artifacts-path "$OBJ" --logger "trx;LogFileName=$name.trx"
        --results-directory "$RESULTS_DIR" --blame-hang-timeout 15m --blame-hang-dump-type none -nologo)
  [ -n "${TEST_FILTER:-}" ] && args+=(--filter "$TEST_FILTER")
  set +e
  BROKER_BIN="$BROKER_BIN" BROKER_REPO_ROOT="$ROOT" timeout --kill-after=30 "${TEST_PROJECT_TIMEOUT:-1800}" \
    dotnet "${args[@]}" 2>&1 | tee "$RESULTS_DIR/$name.log" | grep -vE '^\s*$' | tail -n 60
  rc=${PIPESTATUS[0]}
  set -e
  trx="$RESULTS_DIR/$name.trx"
  if [ ! -f "$trx" ]; then
    why="no trx written (exit code $rc$([ $rc = 124 ] && echo ', killed by the time limit'))"
    FAILED=$((FAILED + 1))
    echo "run-all: FAILURE: $name: $why" >&2
    SUMMARY_LINES+=("$name: CRASHED, $why (log: $RESULTS_DIR/$name.log)")
    continue
  fi
  out="$(parse_trx "$trx")" || { problem "$name: unreadable trx $trx"; continue; }
  details="$(sed '$d' <<<"$out")"
  read -r p f total executed <<<"$(tail -n1 <<<"$out")"
  [ -n "$details" ] && echo "$details"
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  line="$name: $p passed, $f failed ($total total)"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    problem "$name: dotnet test exited with code $rc although no test failed (test host crash or time limit?)"
    line="$line, dotnet test exit code $rc"
  fi
  SUMMARY_LINES+=("$line")
done

# ------------------------------------------------------------------ 5. summary
echo
echo "==== summary"
for l in "${SUMMARY_LINES[@]}"; do echo "  $l"; done
for p in "${PROBLEMS[@]}"; do echo "  problem: $p"; done
echo "tests: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
