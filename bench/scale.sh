#!/usr/bin/env bash
# scimkit at scale, the figures of issue 24: on 1,000,000 users, the latency (p50/p99) of
# `filter=userName eq "user<n>"` (target p99 <= 5 ms) and `filter=emails.value co "user<n>@"` (the trigram
# index: milliseconds), through `scimkit serve` on 127.0.0.1, one client, RUNS runs of 5 s after a warm-up
# run; the load average of the machine before and after each run is recorded beside the figures.
# The database is generated once by `scimgen` (1,000,000 users, groups of 0, 10,000 and 100,000 members) into
# DATA_DIR and kept between invocations.
#
#   bash bench/scale.sh [DATA_DIR]     (default /tmp/scimkit-1m; about 2.6 GB; generating takes 10-30 min)
#
# SEARCHES (default filter,substring) adds `complex`; CLIENTS (default 1) adds e.g. 4; MEMBERADD=1 also
# measures member-add latency at each group size. Every step is bounded by `timeout`.
# Results: JSON lines in bench/results/scale.jsonl, the load averages in bench/results/scale-load.txt, and a
# table on stdout. The server is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/scimkit-1m}
USERS=${USERS:-1000000}
RUNS=${RUNS:-3}
OUT=${OUT:-bench/results}
TOKEN=bench-token

cargo build --release --locked -p host-example -p scimkit-bench
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
if [ ! -f "$DATA/generated" ]; then
    if [ -e "$DATA/scimkit.sqlite3" ]; then
        echo "$DATA holds a database whose generation did not finish (no $DATA/generated): remove it first" >&2
        exit 1
    fi
    timeout 5400 "$BIN/scimgen" --data "$DATA" --users "$USERS" --sizes 0,10000,100000 | tee "$OUT/scale-generator.txt"
    touch "$DATA/generated"
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
LOAD=$OUT/scale-load.txt
: > "$JSONL"
: > "$LOAD"
load() { echo "$1 $(cut -d' ' -f1-3 /proc/loadavg)" >> "$LOAD"; }
# Warm-up, not recorded: the first searches after start read the database's pages from disk.
timeout 120 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label warm-up \
    --phases "${SEARCHES:-filter,substring}" --users "$USERS" --seconds 2 --threads 1 > /dev/null
for run in $(seq 1 "$RUNS"); do
    for clients in ${CLIENTS:-1}; do
        load "run $run, $clients client(s), before:"
        timeout 300 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label "scimkit-${clients}c" --run "$run" \
            --phases "${SEARCHES:-filter,substring}" --users "$USERS" --seconds 5 --threads "$clients" --json "$JSONL" \
            --pid "$PID"
        load "run $run, $clients client(s), after: "
    done
done
if [ "${MEMBERADD:-0}" = 1 ]; then
    # Member adds: 200 users from the upper half (in no group) into each group, one PATCH each, one client.
    timeout 600 "$BIN/scimload" --base "$BASE" --token "$TOKEN" --label scimkit-1c --run 1 \
        --phases memberadd --users "$USERS" --sizes ${SIZES:-0,10000,100000} --members ${MEMBERS:-200} --seconds 10 \
        --threads 1 --json "$JSONL"
fi
"$BIN/benchtable" "$JSONL" --reference scimkit-1c
echo
echo "Load average (1, 5, 15 min) around each run:"
cat "$LOAD"
