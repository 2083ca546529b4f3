#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), from the committed seeds plus the local corpus.
# Exits non-zero when a target crashes, panics, leaks or takes over 10 s on one input; the input is left
# in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# An explicit fuzz dir: without it the tool may resolve the project through the git common directory.
fuzz=(cargo +nightly fuzz)
for target in $("${fuzz[@]}" list --fuzz-dir "$PWD"); do
    mkdir -p "corpus/$target"
    "${fuzz[@]}" run --fuzz-dir "$PWD" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
done
