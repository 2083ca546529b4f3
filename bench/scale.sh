#!/usr/bin/env bash
# scimkit at scale: generates 1,000,000 users and groups of 0, 10,000 and 100,000 members into a data
# directory (once; kept between invocations), then measures through `scimkit serve` on 127.0.0.1:
# `filter=userName eq "…"`, `filter=emails.value co "user<n>@"` (the trigram index) and
# `emails[type eq "work" and value co "user<n>@"] and active eq true` latency (RUNS runs, 1 and 4 clients),
# and member-add latency at each group size.
#
#   bash bench/scale.sh [DATA_DIR]     (default /tmp/scimkit-1m; about 2.3 GB)
#
# Results: JSON lines in bench/results/scale.jsonl and a table on stdout. The server is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/scimkit-1m}
USERS=${USERS:-1000000}
RUNS=${RUNS:-3}
OUT=${OUT:-bench/results}
TOKEN=bench-token

cargo build --release --locked -p host-example -p scimkit-bench
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
if [ ! -f "$DATA/scimkit.sqlite3" ]; then
    "$BIN/scimgen" --data "$DATA" --users "$USERS" --sizes 0,10000,100000 | tee "$OUT/scale-generator.txt"
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

JSONL=$OUT/scale.jsonl
: > "$JSONL"
for run in $(seq 1 "$RUNS"); do
    for threads in 1 4; do
        timeout 300 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label "scimkit-${threads}c" --run "$run" \
            --phases ${SEARCHES:-filter,substring,complex} --users "$USERS" --seconds 5 --threads "$threads" --json "$JSONL"
    done
done
# Member adds: 200 users from the upper half (in no group) into each group, one PATCH each, one client.
timeout 600 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label scimkit-1c --run 1 \
    --phases memberadd --users "$USERS" --sizes ${SIZES:-0,10000,100000} --members ${MEMBERS:-200} --seconds 10 --threads 1 --json "$JSONL"
"$BIN/benchtable" "$JSONL" --reference scimkit-1c
