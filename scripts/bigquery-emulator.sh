#!/usr/bin/env bash
# A local BigQuery REST emulator for the tests: `install`, `start`, `stop`.
#
# The emulator is the PyPI package bqemulator (DuckDB-backed), installed into a virtualenv under
# target/ so nothing outside the work tree changes. `start` picks two free loopback ports, starts
# the emulator in the background under a time limit, waits for /readyz and prints the
# host:port to use as BIGQUERY_EMULATOR_HOST on stdout. `stop` ends the process it started, by
# the PID recorded in the state folder. Every step prints its reason on stderr when it fails,
# so a caller can report why the emulator tests were skipped.
#
#   scripts/bigquery-emulator.sh install
#   BIGQUERY_EMULATOR_HOST=$(scripts/bigquery-emulator.sh start)
#   scripts/bigquery-emulator.sh stop
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${BQEMU_VENV:-$ROOT/target/bqemulator-venv}"
STATE="${BQEMU_STATE:-$ROOT/target/bqemulator}"
# The emulator's own HOME: DuckDB looks for its extensions under $HOME/.duckdb.
EMULATOR_HOME="$STATE/home"
PROJECT="${BQEMU_PROJECT:-test-project}"
# The emulator is stopped by the time limit even if `stop` never runs (a killed CI job).
TIME_LIMIT="${BQEMU_TIME_LIMIT:-3600}"
DUCKDB_VERSION="1.5.5"

log() { echo "bigquery-emulator: $*" >&2; }

python_interpreter() {
    for candidate in python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    log "no python3 on PATH"
    return 1
}

install() {
    if [[ -x "$VENV/bin/bqemulator" && -f "$VENV/.installed-$DUCKDB_VERSION" ]]; then
        log "already installed in $VENV"
    else
        local python
        python="$(python_interpreter)"
        log "installing bqemulator into $VENV"
        "$python" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check \
            bqemulator "duckdb==$DUCKDB_VERSION" "duckdb-extension-spatial==$DUCKDB_VERSION" \
            "duckdb-extensions==$DUCKDB_VERSION" numpy >&2
        touch "$VENV/.installed-$DUCKDB_VERSION"
    fi
    # The emulator loads DuckDB's spatial extension at start-up; it is installed from the wheel
    # (no download at run time) under the HOME the emulator runs with.
    mkdir -p "$EMULATOR_HOME"
    HOME="$EMULATOR_HOME" "$VENV/bin/python" -c \
        'import duckdb, duckdb_extensions; duckdb_extensions.import_extension("spatial", con=duckdb.connect())'
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    if [[ ! -x "$VENV/bin/bqemulator" ]]; then
        log "not installed: run $0 install first"
        return 1
    fi
    stop_quietly
    mkdir -p "$STATE" "$EMULATOR_HOME"
    local rest_port grpc_port
    rest_port="$(free_port)"
    grpc_port="$(free_port)"
    while [[ "$grpc_port" == "$rest_port" ]]; do grpc_port="$(free_port)"; done
    (
        cd "$STATE"
        HOME="$EMULATOR_HOME" BQEMU_ENABLE_FORMAT_EXTENSIONS=false \
            exec timeout "$TIME_LIMIT" "$VENV/bin/bqemulator" start \
            --rest-host 127.0.0.1 --rest-port "$rest_port" \
            --grpc-host 127.0.0.1 --grpc-port "$grpc_port" --project "$PROJECT" \
            >"$STATE/emulator.log" 2>&1
    ) &
    local pid=$!
    echo "$pid" >"$STATE/pid"
    local deadline=$((SECONDS + ${BQEMU_START_TIMEOUT:-120}))
    until curl --silent --fail --max-time 2 "http://127.0.0.1:$rest_port/readyz" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "the emulator exited during start-up; its log:"
            tail -n 20 "$STATE/emulator.log" >&2 || true
            rm -f "$STATE/pid"
            return 1
        fi
        if ((SECONDS > deadline)); then
            log "the emulator was not ready within ${BQEMU_START_TIMEOUT:-120}s; its log:"
            tail -n 20 "$STATE/emulator.log" >&2 || true
            stop_quietly
            return 1
        fi
        sleep 0.5
    done
    echo "127.0.0.1:$rest_port" >"$STATE/host"
    log "ready on 127.0.0.1:$rest_port (pid $pid)"
    echo "127.0.0.1:$rest_port"
}

stop_quietly() {
    [[ -f "$STATE/pid" ]] || return 0
    local pid
    pid="$(cat "$STATE/pid")"
    # The recorded PID is the subshell that runs `timeout`; ending it and its children by PID
    # stops the emulator and nothing else.
    if kill -0 "$pid" 2>/dev/null; then
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/pid" "$STATE/host"
}

stop() {
    stop_quietly
    log "stopped"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 install|start|stop" >&2
        exit 2
        ;;
esac
