#!/usr/bin/env bash
# Builds the broker as one NativeAOT binary and installs it:
#   PREFIX/bin/broker, PREFIX/etc/broker/server.properties, the data directory, and (optionally) a systemd unit.
# Safe to run again: an existing server.properties is kept (the new default goes to server.properties.new),
# a broker started in the background by an earlier run is stopped before its binary is replaced.
#
# Build prerequisites (checked below): the .NET 9 SDK (or newer) and a native linker for NativeAOT: clang or
# gcc, plus binutils (objcopy) and the C library headers (libc6-dev). zlib is not needed: the .NET 9 ILCompiler
# links its own copy. Runtime: libzstd1, liblz4-1 and libsnappy1v5 for compressed record batches.
set -euo pipefail

PREFIX=/usr/local
DATA_DIR=/var/lib/broker
SERVICE=1
START=0
DRY_RUN=0
BINARY=""
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ARTIFACTS="${BROKER_ARTIFACTS:-$REPO_DIR/artifacts}"
WAIT_SECONDS="${BROKER_START_WAIT:-30}"

usage() {
    cat <<'USAGE'
Usage: install.sh [--prefix DIR] [--data-dir DIR] [--no-service] [--start] [--dry-run] [--binary FILE]

  --prefix DIR     Install under DIR (default /usr/local): DIR/bin/broker, DIR/etc/broker/server.properties.
  --data-dir DIR   Data directory (default /var/lib/broker); written into log.dirs of a new server.properties.
  --no-service     Do not install the systemd unit.
  --start          Start the broker: via systemd when it is running, else in the background (nohup), logging
                   to DATA_DIR/broker.log, then wait until it accepts connections.
  --dry-run        Print the steps without doing anything.
  --binary FILE    Install this prebuilt broker binary instead of building one (no .NET SDK needed).
  -h, --help       Show this help.
USAGE
}

die() { echo "install.sh: error: $*" >&2; exit 1; }
note() { echo "==> $*"; }
# run CMD...: print the command; execute it unless --dry-run.
run() {
    echo "+ $*"
    if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "install.sh: error: $1 needs a value" >&2; usage >&2; exit 2; }; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) need_value "$@"; PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#*=}"; need_value --prefix "$PREFIX"; shift ;;
        --data-dir) need_value "$@"; DATA_DIR="$2"; shift 2 ;;
        --data-dir=*) DATA_DIR="${1#*=}"; need_value --data-dir "$DATA_DIR"; shift ;;
        --binary) need_value "$@"; BINARY="$2"; shift 2 ;;
        --binary=*) BINARY="${1#*=}"; need_value --binary "$BINARY"; shift ;;
        --no-service) SERVICE=0; shift ;;
        --start) START=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

# Absolute paths (the unit file and the pid file need them).
case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$(pwd)/$DATA_DIR" ;; esac
PREFIX="${PREFIX%/}"; DATA_DIR="${DATA_DIR%/}"
[ -n "$PREFIX" ] || PREFIX=/
case "$DATA_DIR" in *,*|*'|'*) die "--data-dir must not contain ',' or '|'" ;; esac

BIN_DIR="$PREFIX/bin"
CONF_DIR="$PREFIX/etc/broker"
CONF="$CONF_DIR/server.properties"
PID_FILE="$DATA_DIR/broker.pid"
LOG_FILE="$DATA_DIR/broker.log"
UNIT_DIR=/etc/systemd/system
IS_ROOT=0; [ "$(id -u)" -eq 0 ] && IS_ROOT=1
HAVE_APT=0; command -v apt-get >/dev/null 2>&1 && HAVE_APT=1
SYSTEMD_RUNNING=0; [ -d /run/systemd/system ] && SYSTEMD_RUNNING=1

[ "$DRY_RUN" -eq 1 ] && note "dry run: nothing will be changed"
note "prefix $PREFIX, data directory $DATA_DIR"

# apt_install PKG...: install the packages that are missing (root + apt-get only).
apt_install() {
    local missing=() p
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$IS_ROOT" -eq 1 ] && [ "$HAVE_APT" -eq 1 ]; then
        run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
            || { run apt-get update && run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
    else
        echo "install.sh: warning: missing packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})" >&2
        return 1
    fi
}

# ---- 1. build prerequisites -------------------------------------------------------------------------------
if [ -z "$BINARY" ]; then
    if ! command -v dotnet >/dev/null 2>&1; then
        msg="the .NET SDK ('dotnet') was not found. Install the .NET 9 SDK (https://dotnet.microsoft.com/download) or pass --binary FILE"
        [ "$DRY_RUN" -eq 1 ] && echo "install.sh: warning: $msg" >&2 || die "$msg"
    fi
    if ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
        note "no native linker (clang or gcc) found: NativeAOT needs one"
        if command -v dpkg >/dev/null 2>&1; then
            apt_install gcc libc6-dev binutils || die "install gcc, libc6-dev and binutils (or clang), then run again"
        else
            die "install gcc (or clang) and binutils, then run again"
        fi
    fi
    command -v objcopy >/dev/null 2>&1 || { command -v dpkg >/dev/null 2>&1 && apt_install binutils || true; }
fi

# ---- 2. runtime libraries for compressed batches ----------------------------------------------------------
if command -v dpkg >/dev/null 2>&1; then
    apt_install libzstd1 liblz4-1 libsnappy1v5 || echo "install.sh: warning: compressed (zstd/lz4/snappy) batches will be rejected until these are installed" >&2
fi

# ---- 3. build ---------------------------------------------------------------------------------------------
if [ -n "$BINARY" ]; then
    [ -f "$BINARY" ] || [ "$DRY_RUN" -eq 1 ] || die "--binary $BINARY: no such file"
    SRC_BIN="$BINARY"
else
    note "building the broker (NativeAOT, linux-x64); this takes a minute or two"
    run dotnet publish "$REPO_DIR/src/Broker.Host" -c Release -r linux-x64 -p:PublishAot=true \
        --artifacts-path "$ARTIFACTS" -o "$ARTIFACTS/publish"
    SRC_BIN="$ARTIFACTS/publish/broker"
    [ "$DRY_RUN" -eq 1 ] || [ -x "$SRC_BIN" ] || die "build did not produce $SRC_BIN"
fi

# ---- 4. stop a broker started in the background by an earlier run -----------------------------------------
stop_background() {
    [ -f "$PID_FILE" ] || return 0
    local pid; pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0\n' '  ' <"/proc/$pid/cmdline" | grep -q 'broker.* start'; then
        note "stopping the background broker (pid $pid)"
        run kill -TERM "$pid" || true
        if [ "$DRY_RUN" -eq 0 ]; then
            local i
            for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            if kill -0 "$pid" 2>/dev/null; then echo "install.sh: warning: pid $pid did not stop in 10 s; killing it" >&2; kill -KILL "$pid" || true; fi
        fi
    fi
    run rm -f "$PID_FILE"
}
stop_background

# ---- 5. service user --------------------------------------------------------------------------------------
RUN_USER=root; RUN_GROUP=root
if [ "$SERVICE" -eq 1 ] && [ "$IS_ROOT" -eq 1 ] && command -v useradd >/dev/null 2>&1; then
    if ! id -u broker >/dev/null 2>&1; then
        run useradd --system --user-group --no-create-home --home-dir "$DATA_DIR" --shell /usr/sbin/nologin broker
    fi
    RUN_USER=broker; RUN_GROUP=broker
fi

# ---- 6. files ---------------------------------------------------------------------------------------------
if [ "$DRY_RUN" -eq 0 ]; then
    mkdir -p "$BIN_DIR" "$CONF_DIR" 2>/dev/null && [ -w "$BIN_DIR" ] && [ -w "$CONF_DIR" ] \
        || die "cannot write to $BIN_DIR or $CONF_DIR: run as root or choose another --prefix (e.g. --prefix \$HOME/.local)"
    mkdir -p "$DATA_DIR" 2>/dev/null && [ -w "$DATA_DIR" ] \
        || die "cannot write to the data directory $DATA_DIR: run as root or choose another --data-dir"
fi
run mkdir -p "$BIN_DIR" "$CONF_DIR" "$DATA_DIR"
# Replace the binary by rename, so a running copy is never overwritten in place.
run install -m 0755 "$SRC_BIN" "$BIN_DIR/.broker.new"
run mv -f "$BIN_DIR/.broker.new" "$BIN_DIR/broker"

NEW_CONF="$(sed "s|^log.dirs=.*|log.dirs=$DATA_DIR|" "$REPO_DIR/packaging/server.properties")"
if [ -f "$CONF" ]; then
    if [ "$(cat "$CONF")" = "$NEW_CONF" ]; then
        note "$CONF is up to date"
    else
        note "keeping the existing $CONF; the new default is written to $CONF.new"
        echo "+ write $CONF.new"
        [ "$DRY_RUN" -eq 1 ] || { printf '%s\n' "$NEW_CONF" >"$CONF.new"; chmod 0644 "$CONF.new"; }
    fi
else
    echo "+ write $CONF"
    [ "$DRY_RUN" -eq 1 ] || { printf '%s\n' "$NEW_CONF" >"$CONF"; chmod 0644 "$CONF"; }
fi
if [ "$RUN_USER" != root ]; then run chown -R "$RUN_USER:$RUN_GROUP" "$DATA_DIR"; fi

# ---- 7. systemd unit --------------------------------------------------------------------------------------
UNIT_INSTALLED=0
if [ "$SERVICE" -eq 1 ]; then
    if [ -d "$UNIT_DIR" ] && [ "$IS_ROOT" -eq 1 ]; then
        echo "+ write $UNIT_DIR/broker.service"
        if [ "$DRY_RUN" -eq 0 ]; then
            sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@DATA_DIR@|$DATA_DIR|g" -e "s|@USER@|$RUN_USER|g" -e "s|@GROUP@|$RUN_GROUP|g" \
                "$REPO_DIR/packaging/broker.service" >"$UNIT_DIR/broker.service"
            chmod 0644 "$UNIT_DIR/broker.service"
        fi
        UNIT_INSTALLED=1
        if [ "$SYSTEMD_RUNNING" -eq 1 ]; then run systemctl daemon-reload
        else note "systemd is not running here: the unit is installed but not loaded"; fi
    else
        note "skipping the systemd unit ($UNIT_DIR missing or not running as root); use --no-service to silence this"
    fi
fi

# ---- 8. start ---------------------------------------------------------------------------------------------
# kafka_endpoint: host and port of the first non-controller listener in the installed configuration.
kafka_endpoint() {
    local eff listeners ctrl item name hostport host port
    eff="$("$BIN_DIR/broker" check-config --config "$CONF" 2>/dev/null)" || { echo "127.0.0.1 9092"; return; }
    listeners="$(printf '%s\n' "$eff" | sed -n 's/^listeners=//p')"
    ctrl=",$(printf '%s\n' "$eff" | sed -n 's/^controller.listener.names=//p'),"
    IFS=',' read -ra items <<<"$listeners"
    for item in "${items[@]}"; do
        name="${item%%://*}"; hostport="${item#*://}"
        case "$ctrl" in *",$name,"*) continue ;; esac
        port="${hostport##*:}"; host="${hostport%:*}"; host="${host#[}"; host="${host%]}"
        case "$host" in ""|0.0.0.0) host=127.0.0.1 ;; "::") host=::1 ;; esac
        echo "$host $port"; return
    done
    echo "127.0.0.1 9092"
}

if [ "$START" -eq 1 ]; then
    if [ "$UNIT_INSTALLED" -eq 1 ] && [ "$SYSTEMD_RUNNING" -eq 1 ]; then
        if systemctl is-active --quiet broker; then run systemctl restart broker; else run systemctl enable --now broker; fi
        note "started with systemd: 'systemctl status broker', logs: 'journalctl -u broker'"
    elif [ "$DRY_RUN" -eq 1 ]; then
        echo "+ nohup $BIN_DIR/broker start --config $CONF >>$LOG_FILE 2>&1 &  (pid in $PID_FILE)"
        echo "+ wait up to ${WAIT_SECONDS}s for the Kafka listener to accept connections"
    else
        read -r host port <<<"$(kafka_endpoint)"
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            die "$host:$port already accepts connections: another broker (or other program) is running there; stop it first"
        fi
        note "starting the broker in the background (log: $LOG_FILE)"
        nohup "$BIN_DIR/broker" start --config "$CONF" >>"$LOG_FILE" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$PID_FILE"
        deadline=$((SECONDS + WAIT_SECONDS))
        until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "install.sh: error: the broker exited during start-up; last lines of $LOG_FILE:" >&2
                tail -n 20 "$LOG_FILE" >&2 || true
                rm -f "$PID_FILE"
                exit 1
            fi
            if [ "$SECONDS" -ge "$deadline" ]; then
                die "the broker (pid $pid) did not accept connections on $host:$port within ${WAIT_SECONDS}s; see $LOG_FILE"
            fi
            sleep 0.5
        done
        sleep 0.5
        kill -0 "$pid" 2>/dev/null || die "the broker exited right after opening $host:$port; see $LOG_FILE"
        note "broker running (pid $pid), accepting connections on $host:$port"
        note "stop it with: kill \$(cat $PID_FILE)"
    fi
fi

note "installed $BIN_DIR/broker (config $CONF, data $DATA_DIR)"
if [ "$START" -eq 0 ]; then
    if [ "$UNIT_INSTALLED" -eq 1 ]; then note "start it with: systemctl enable --now broker"
    else note "start it with: $BIN_DIR/broker start --config $CONF"; fi
fi
