#!/usr/bin/env bash
# Builds the Python package: dist/out/scimkit-<version>-py3-none-any.whl, holding target/scimkit.wasm (built first
# when missing). The wheel is pure Python plus the component; installing it needs wasmtime from PyPI, no Rust.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ ! -f target/scimkit.wasm ]; then
    cargo build --release --locked -p scimkit-runtime
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Built from a copy, so that the component never lands in the source tree.
cp -r bindings/python/pyproject.toml bindings/python/README.md bindings/python/src "$work/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
cp target/scimkit.wasm "$work/src/scimkit/scimkit.wasm"
mkdir -p dist/out
rm -f dist/out/scimkit-*-py3-none-any.whl
python3 -m pip wheel --quiet --no-deps --wheel-dir dist/out "$work"
ls dist/out/scimkit-*-py3-none-any.whl
