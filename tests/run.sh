#!/usr/bin/env bash
# The whole test suite: unit tests, the component, end-to-end tests against the real server, conformance.
set -euo pipefail
cd "$(dirname "$0")/.."

# rustup does not install the targets named in rust-toolchain.toml for an installed toolchain.
rustup target add wasm32-wasip2 >/dev/null

# One release build serves everything: the server binary, the embedded component, the native library
# (target/release/libscimkit_native.so: the C ABI for C/PHP and the JNI entry points for Java) and the tests.
cargo build --release --locked -p host-example -p scimkit-native

# The Java binding's tests run inside the end-to-end tests (tests/tests/provision.rs), which need a JDK.
if ! command -v javac >/dev/null; then
    if [ "${CI:-}" = "true" ]; then
        echo "no JDK (javac): the Java binding tests need one (apt-get install openjdk-17-jdk-headless)" >&2
        exit 1
    fi
    echo "NOTICE: no JDK (javac): the Java binding tests will be skipped"
fi
# A check that needs a tool: skipped with a notice when the tool is missing, except under CI=true.
missing() {
    if [ "${CI:-}" = "true" ]; then
        echo "$1 is not installed ($2)" >&2
        exit 1
    fi
    echo "NOTICE: skipping $3: $2"
}

# A throwaway PostgreSQL cluster (tests/postgres.sh) for the PostgreSQL backend: its push-down check, the
# two-server test, and a second run of the end-to-end suite with every server on it. Always stopped.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    pg_dir=$(mktemp -d)
    trap 'bash tests/postgres.sh stop "$pg_dir"' EXIT
    SCIMKIT_TEST_POSTGRES=$(bash tests/postgres.sh start "$pg_dir")
    export SCIMKIT_TEST_POSTGRES
else
    missing postgresql "apt-get install postgresql" "the PostgreSQL backend's tests"
fi

cargo test --release --locked --workspace

if [ -n "${SCIMKIT_TEST_POSTGRES:-}" ]; then
    echo "The end-to-end tests again, every server on PostgreSQL:"
    SCIMKIT_E2E_ON_POSTGRES=1 cargo test --release --locked -p scimkit-e2e
fi

# The PHP package and its example application, in PHP's CLI and under php-cgi.
if command -v php >/dev/null && command -v php-cgi >/dev/null; then
    php bindings/php/tests/run.php
    bash bindings/php/tests/cgi.sh
else
    missing php "apt-get install php-cli php-sqlite3 php-cgi" "the PHP package tests"
fi

# RFC conformance, checked by an independent client against the running server.
if python3 -c 'import scim2_tester' 2>/dev/null; then
    python3 tests/conformance/run.py
    if command -v php >/dev/null; then
        python3 tests/conformance/run.py --php
    else
        missing php "apt-get install php-cli php-sqlite3" "conformance of the PHP example"
    fi
    if command -v javac >/dev/null; then
        python3 tests/conformance/run.py --java
    else
        missing javac "apt-get install openjdk-17-jdk-headless" "conformance of the Java example"
    fi
else
    missing scim2-tester "pip install -r tests/conformance/requirements.txt" "conformance"
fi
