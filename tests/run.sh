#!/usr/bin/env bash
# The whole test suite: unit tests, the component, end-to-end tests against the real server, conformance.
set -euo pipefail
cd "$(dirname "$0")/.."

# rustup does not install the targets named in rust-toolchain.toml for an installed toolchain.
rustup target add wasm32-wasip2 >/dev/null

# One release build serves everything: the server binary, the embedded component, and the tests.
cargo build --release --locked -p host-example -p scimkit-jni

# The Java binding's tests run inside the end-to-end tests (tests/tests/provision.rs), which need a JDK.
if ! command -v javac >/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "no JDK (javac): the Java binding tests need one (apt-get install openjdk-17-jdk-headless)" >&2
        exit 1
    fi
    echo "NOTICE: no JDK (javac): the Java binding tests will be skipped"
fi
cargo test --release --locked --workspace

# RFC conformance, checked by an independent client against the running server.
if python3 -c 'import scim2_tester' 2>/dev/null; then
    python3 tests/conformance/run.py
elif [ "${CI:-}" = "true" ]; then
    echo "scim2-tester is not installed (pip install -r tests/conformance/requirements.txt)" >&2
    exit 1
else
    echo "NOTICE: skipping conformance: pip install -r tests/conformance/requirements.txt"
fi
