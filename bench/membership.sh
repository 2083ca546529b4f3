#!/usr/bin/env bash
# Group membership at real-client scale, with the request Microsoft Entra ID sends (no query parameters), on
# SQLite and, when PostgreSQL is installed, on a throwaway PostgreSQL cluster (tests/postgres.sh):
#   - fills a new group with 100,000 members in PATCHes of 1,000 (total time, the server's peak RSS);
#   - reads that group once (time, bytes, the server's RSS after);
#   - adds 100 single members alternately to it and to a new empty group: the ratio of the medians and
#     whether every response was byte for byte the same.
#
#   bash bench/membership.sh [WORK_DIR]     (default: a new temporary directory, deleted at the end)
#
# Users are loaded with `scimkit import` of a `scimfile` output. Results: JSON lines in
# bench/results/membership.jsonl and a table on stdout. Servers and the cluster are stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-100000}
ADDS=${ADDS:-100}
OUT=${OUT:-bench/results}
TOKEN=bench-token
WORK=${1:-}
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d)
    CLEAN_WORK=1
fi

cargo build --release --locked -p host-example -p scimkit-bench
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
USERS_FILE=$WORK/users.jsonl
[ -f "$USERS_FILE" ] || "$BIN/scimfile" --users $((SIZE + 2 * ADDS)) -o "$USERS_FILE"

PID=
PG_DIR=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    if [ -n "$PG_DIR" ]; then bash tests/postgres.sh stop "$PG_DIR"; fi
    if [ -n "${CLEAN_WORK:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

JSONL=$OUT/membership.jsonl
: > "$JSONL"

# One database: import the users, serve, run the phase, stop the server.
run() {
    local label=$1 database=$2
    local data=$WORK/$label
    rm -rf "$data" && mkdir -p "$data"
    local started=$SECONDS
    "$BIN/scimkit" import "$USERS_FILE" --data "$data" --database "$database" --json > "$data/import.json"
    echo "$label: imported $((SIZE + 2 * ADDS)) users in $((SECONDS - started)) s"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    SCIM_TOKEN=$TOKEN RUST_LOG=warn "$BIN/scimkit" serve --listen "127.0.0.1:$port" --data "$data" --database "$database" --config bench/unthrottled.toml \
        > "$data/serve.log" 2>&1 &
    PID=$!
    local base="http://127.0.0.1:$port/scim/v2"
    for _ in $(seq 1 240); do
        curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$base/ServiceProviderConfig" && break
        kill -0 "$PID" || { echo "scimkit exited; see $data/serve.log" >&2; exit 1; }
        sleep 0.25
    done
    timeout 900 "$BIN/scimload" --base "$base" --token "$TOKEN" --label "$label" --phases entra \
        --sizes "$SIZE" --members "$ADDS" --chunk 1000 --pid "$PID" --json "$JSONL"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
}

run sqlite sqlite
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    PG_DIR=$(mktemp -d)
    PG_URL=$(bash tests/postgres.sh start "$PG_DIR")
    run postgres "$PG_URL/postgres"
else
    echo "NOTICE: PostgreSQL is not installed: its run is skipped"
fi
