#!/usr/bin/env bash
# GET /Users/{id} through each host's provider in process, in one run: Rust (the runtime), PHP (FFI over the
# native library), Java (JNI, the jar), Python (wasmtime-py, the wheel) and Node (jco, the package's sources).
# Each creates 1,000 users in its example's storage shape (PHP and Python: the example's SQLite tables in
# memory; Java and Node: the example's rows in memory; Rust: the runtime's memory store), warms up, then times
# REQUESTS GETs, ROUNDS times, printing requests/s, wall and CPU per request. Each run is bounded (2 minutes).
# Usage: bash bench/hosts.sh [REQUESTS] [ROUNDS]   (after `bash dist/build.sh`, which the suite runs)
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-20000}
rounds=${2:-3}
users=1000

cargo build --release --locked -p scimkit-bench --bin hostget >/dev/null
jar=$(ls dist/out/scimkit-java-*.jar)
wheel=$(ls dist/out/scimkit-*-py3-none-any.whl)
[ -d bindings/node/gen ] || bash bindings/node/build.sh >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
junit=/usr/share/java/junit-platform-console-standalone.jar
javac -d "$work/java" -cp "$jar:$junit" bindings/java/test/org/scimkit/test/{Bench,ProviderTest}.java
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel"

# Python pays about ten times the others per request: it gets a fifth of the requests, to stay bounded.
for round in $(seq "$rounds"); do
    echo "round $round"
    target/release/hostget "$requests" "$users"
    php -d ffi.enable=1 bindings/php/bench.php "$requests" "$users"
    java -cp "$work/java:$jar:$junit" org.scimkit.test.Bench "$requests" "$users" | sed -n 1p
    "$work/venv/bin/python" bindings/python/bench.py $((requests / 5)) --users "$users"
    node bindings/node/bench.js "$requests" "$users"
done
