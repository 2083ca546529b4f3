#!/usr/bin/env bash
# Side-by-side SCIM load comparison on this machine, in one run: scimkit (`scimkit serve`, release build,
# SQLite in a temporary data directory), a fixed-answer server on the same HTTP stack (hyper on tokio: the
# ceiling of the machine, the driver and the HTTP layer), and two peers from the registries: scim2-server (Python, PyPI) and scimmy with scimmy-routers
# (JavaScript, npm). The same driver (scimload) runs the same bounded phases against each, one server at a
# time, and the table gives each server's median throughput, scimkit's ratio to each, and each server's CPU
# time per request (its process's user and system time over the phase, from /proc), per phase.
#
#   bash bench/compare.sh            full comparison (peers included), results into bench/results/
#   bash bench/compare.sh --quick    a minute or two: scimkit against the ceiling only, results in a temp dir
#
# The full comparison also runs the write phases (seed: POST, patch: PATCH) against `scimkit+receiver`: scimkit
# whose tenant sends its change journal to a webhook receiver on 127.0.0.1 (the fixed-answer server), beside
# plain scimkit (which journals every change with no receiver): the journal's delivery overhead on writes.
#
# Settings (environment): RUNS, PHASE_SECONDS, USERS, MEMBERS, THREADS, PEERS (1/0), RECEIVER (1/0), OUT
# (results dir), PEERS_DIR (reuse a peers install between invocations). Everything listens on 127.0.0.1; every process
# started here is stopped by its PID on exit. Timings never fail this script; a broken harness does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-1} PHASE_SECONDS=${PHASE_SECONDS:-2} USERS=${USERS:-500} MEMBERS=${MEMBERS:-300} PEERS=${PEERS:-0}
    RECEIVER=${RECEIVER:-0}
else
    RUNS=${RUNS:-3} PHASE_SECONDS=${PHASE_SECONDS:-3} USERS=${USERS:-2000} MEMBERS=${MEMBERS:-2000} PEERS=${PEERS:-1}
    RECEIVER=${RECEIVER:-1}
fi
THREADS=${THREADS:-8}
TOKEN=bench-token

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scimkit-compare.XXXXXX")
if [ "$QUICK" = 1 ]; then OUT=${OUT:-$WORK/results}; else OUT=${OUT:-$ROOT/bench/results}; fi
PEERS_DIR=${PEERS_DIR:-$WORK/peers}
mkdir -p "$OUT" "$PEERS_DIR"
JSONL=$OUT/results.jsonl
: > "$JSONL"

PIDS=()
cleanup() {
    local status=$?
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" != 0 ]; then
        echo "compare.sh failed; server logs:" >&2
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- build -------------------------------------------------------------------------------------------
cargo build --release --locked -p host-example -p scimkit-bench
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release

# --- peers -------------------------------------------------------------------------------------------
if [ "$PEERS" = 1 ]; then
    if [ ! -x "$PEERS_DIR/venv/bin/scim2-server" ]; then
        python3 -m venv "$PEERS_DIR/venv"
        "$PEERS_DIR/venv/bin/pip" install --quiet --disable-pip-version-check "scim2-server==0.8.3"
    fi
    if [ ! -d "$PEERS_DIR/scimmy/node_modules" ]; then
        mkdir -p "$PEERS_DIR/scimmy"
        cp bench/peers/scimmy/package.json bench/peers/scimmy/package-lock.json "$PEERS_DIR/scimmy/"
        (cd "$PEERS_DIR/scimmy" && npm ci --silent --no-audit --no-fund)
    fi
    cp bench/peers/scimmy/server.js "$PEERS_DIR/scimmy/"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until $1 answers 200 with the token, failing when process $2 dies or after 60 seconds.
wait_ready() {
    for _ in $(seq 1 240); do
        if curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$1"; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { echo "the server behind $1 exited" >&2; return 1; }
        sleep 0.25
    done
    echo "$1 did not answer within 60 s" >&2
    return 1
}

# Starts server $1 on a free port; sets BASE (its SCIM base URL) and PID.
start() {
    local port
    port=$(free_port)
    case "$1" in
        ceiling)
            "$BIN/ceiling" --listen "127.0.0.1:$port" --lifetime 3600 > "$WORK/ceiling.log" 2>&1 &
            PID=$! BASE="http://127.0.0.1:$port/scim/v2"
            ;;
        scimkit)
            # A fresh database each run; the compiled component is cached across runs.
            rm -f "$WORK/scimkit-data/scimkit.sqlite3"*
            SCIM_TOKEN=$TOKEN RUST_LOG=warn "$BIN/scimkit" serve --listen "127.0.0.1:$port" --data "$WORK/scimkit-data" \
                --config bench/unthrottled.toml > "$WORK/scimkit.log" 2>&1 &
            PID=$! BASE="http://127.0.0.1:$port/scim/v2"
            ;;
        scimkit+receiver)
            # The receiver: the fixed-answer server, which takes every POST (201, a webhook success).
            local receiver_port
            receiver_port=$(free_port)
            "$BIN/ceiling" --listen "127.0.0.1:$receiver_port" --lifetime 3600 > "$WORK/receiver.log" 2>&1 &
            RECEIVER_PID=$!
            PIDS+=("$RECEIVER_PID")
            { cat bench/unthrottled.toml; printf '[[tenant.events]]\nurl = "http://127.0.0.1:%s/events"\nsecret = "bench-webhook-secret-0123456789"\n' "$receiver_port"; } \
                > "$WORK/receiver.toml"
            rm -f "$WORK/scimkit-data/scimkit.sqlite3"*
            SCIM_TOKEN=$TOKEN RUST_LOG=warn "$BIN/scimkit" serve --listen "127.0.0.1:$port" --data "$WORK/scimkit-data" \
                --config "$WORK/receiver.toml" > "$WORK/scimkit-receiver.log" 2>&1 &
            PID=$! BASE="http://127.0.0.1:$port/scim/v2"
            ;;
        scim2-server)
            "$PEERS_DIR/venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$TOKEN" > "$WORK/scim2-server.log" 2>&1 &
            PID=$! BASE="http://127.0.0.1:$port/v2"
            ;;
        scimmy)
            node "$PEERS_DIR/scimmy/server.js" "$port" "$TOKEN" > "$WORK/scimmy.log" 2>&1 &
            PID=$! BASE="http://127.0.0.1:$port/scim/v2"
            ;;
    esac
    PIDS+=("$PID")
    wait_ready "$BASE/ServiceProviderConfig" "$PID"
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

SERVERS=(ceiling scimkit)
[ "$PEERS" = 1 ] && SERVERS+=(scim2-server scimmy)
[ "$RECEIVER" = 1 ] && SERVERS+=(scimkit+receiver)

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "settings: runs=$RUNS phase_seconds=$PHASE_SECONDS users=$USERS members=$MEMBERS threads=$THREADS servers=${SERVERS[*]}"
} | tee "$OUT/machine.txt"

for run in $(seq 1 "$RUNS"); do
    for server in "${SERVERS[@]}"; do
        start "$server"
        # Against a receiver, only the write phases: what delivery costs is on writes.
        phases=()
        if [ "$server" = scimkit+receiver ]; then phases=(--phases seed,patch); fi
        # A hard bound on top of the driver's own: no phase may hang the comparison.
        timeout 900 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label "$server" --run "$run" \
            --users "$USERS" --members "$MEMBERS" --seconds "$PHASE_SECONDS" --threads "$THREADS" --pid "$PID" --json "$JSONL" \
            "${phases[@]}"
        stop "$PID"
        if [ "$server" = scimkit+receiver ]; then stop "$RECEIVER_PID"; fi
    done
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

"$BIN/benchtable" "$JSONL" --reference scimkit --machine "$OUT/machine.txt" | tee "$OUT/table.md"
"$BIN/plot" "$JSONL" --out "$OUT"
[ "$QUICK" = 1 ] && echo "(quick mode: results are not kept)" || echo "results in $OUT"
