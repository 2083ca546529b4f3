#!/usr/bin/env bash
# Cursor paging (RFC 9865) against index paging at depth: generates USERS users (100,000 by default) into a
# data directory (once; kept between invocations), serves it on 127.0.0.1 and times 100-user pages at the start
# and at the last page's offset, by cursor and by startIndex (scimload phase `cursor`; RUNS runs, one client).
#
#   bash bench/cursor.sh [DATA_DIR]     (default /tmp/scimkit-cursor)
#
# Results: JSON lines in bench/results/cursor.jsonl and a table on stdout. The server is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/scimkit-cursor}
USERS=${USERS:-100000}
RUNS=${RUNS:-3}
OUT=${OUT:-bench/results}
TOKEN=bench-token

cargo build --release --locked -p host-example -p scimkit-bench
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
if [ ! -f "$DATA/scimkit.sqlite3" ]; then
    "$BIN/scimgen" --data "$DATA" --users "$USERS" --sizes 0
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIM_TOKEN=$TOKEN RUST_LOG=warn "$BIN/scimkit" serve --listen "127.0.0.1:$PORT" --data "$DATA" --config bench/unthrottled.toml > "$DATA/serve.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true' EXIT
BASE="http://127.0.0.1:$PORT/scim/v2"
for _ in $(seq 1 240); do
    curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/ServiceProviderConfig" && break
    kill -0 "$PID" || { echo "scimkit exited; see $DATA/serve.log" >&2; exit 1; }
    sleep 0.25
done

JSONL=$OUT/cursor.jsonl
: > "$JSONL"
for run in $(seq 1 "$RUNS"); do
    timeout 600 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label scimkit-1c --run "$run" \
        --phases cursor --users "$USERS" --seconds "${SECONDS_PER_PHASE:-5}" --threads 1 --json "$JSONL"
done
"$BIN/benchtable" "$JSONL" --reference scimkit-1c
