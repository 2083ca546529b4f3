#!/usr/bin/env bash
# The whole test suite: unit tests, the component, end-to-end tests against the real server (on SQLite, then on
# PostgreSQL), the PHP and Java bindings and their distributables (dist/build.sh), conformance. It installs what
# it needs first (tests/install.sh).
# SCIMKIT_SKIP=php,java,python,node,browser,postgres,conformance opts out of those parts, each named in the output;
# nothing else is ever skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

parts=(php java python node browser postgres conformance)
skip=${SCIMKIT_SKIP:-}
for part in ${skip//,/ }; do
    [[ " ${parts[*]} " == *" $part "* ]] || { echo "SCIMKIT_SKIP: unknown part '$part' (parts: ${parts[*]})" >&2; exit 2; }
    echo "SKIPPED by SCIMKIT_SKIP: $part"
done
wanted() { [[ ",${SCIMKIT_SKIP:-}," != *",$1,"* ]]; }
# Tells the tests that they run as the whole suite: a missing tool fails instead of skipping.
export SCIMKIT_SUITE=1

# rustup does not install the targets named in rust-toolchain.toml for an installed toolchain.
rustup target add wasm32-wasip2 >/dev/null
bash tests/install.sh

# One release build serves everything: the server binary, the embedded component, the native library
# (target/release/libscimkit_native.so: the C ABI for C/PHP and the JNI entry points for Java) and the tests.
cargo build --release --locked -p host-example -p scimkit-native

# The distributables (dist/out/) from that build: the tests below use them as users get them.
dist=()
if wanted php; then dist+=(php); fi
if wanted java; then dist+=(java); fi
if wanted python; then dist+=(python); fi
if wanted node; then dist+=(node); fi
if [ ${#dist[@]} -gt 0 ]; then bash dist/build.sh "${dist[@]}"; fi
php_zip=$(ls "$PWD"/dist/out/scimkit-php-*.zip 2>/dev/null || true)
java_jar=$(ls "$PWD"/dist/out/scimkit-java-*.jar 2>/dev/null || true)
# The Java binding's JUnit suite (run by tests/tests/provision.rs) runs over the jar.
if wanted java; then export SCIMKIT_JAVA_JAR=$java_jar; fi

# A throwaway PostgreSQL cluster (tests/postgres.sh) for the PostgreSQL backend: its push-down check, the
# two-server test, and a second run of the end-to-end suite with every server on it. Always stopped.
if wanted postgres; then
    pg_dir=$(mktemp -d)
    trap 'bash tests/postgres.sh stop "$pg_dir"' EXIT
    SCIMKIT_TEST_POSTGRES=$(bash tests/postgres.sh start "$pg_dir")
    export SCIMKIT_TEST_POSTGRES
fi

cargo test --release --locked --workspace

if wanted postgres; then
    echo "The end-to-end tests again, every server on PostgreSQL:"
    SCIMKIT_E2E_ON_POSTGRES=1 cargo test --release --locked -p scimkit-e2e
fi

# The PHP package and its example application, in PHPUnit and under php-cgi; then the built package, installed
# by Composer into a fresh project.
if wanted php; then
    (cd bindings/php && phpunit)
    bash bindings/php/tests/cgi.sh
    bash tests/php-artifact.sh
fi

# The jar alone, as an application loads it.
if wanted java; then bash tests/java-artifact.sh; fi

# The Python wheel and the npm package, each installed fresh: pytest and node --test, then scim2-tester against
# their examples. The Node part runs on a Node with node:sqlite (tests/install.sh puts one in target/node when the
# system's has none).
if wanted python; then bash bindings/python/test.sh; fi
if wanted node; then
    if [ -x target/node/node_modules/.bin/node ]; then PATH="$PWD/target/node/node_modules/.bin:$PATH"; fi
    node -e "require('node:sqlite')" || { echo "the Node tests need node:sqlite (Node 22.13 or later)" >&2; exit 1; }
    PYTHON=$PWD/target/venv/bin/python bash bindings/node/test.sh
fi

# RFC conformance, checked by an independent client (installed in target/venv) against the server, and against
# the examples as their distributables hold them.
if wanted conformance; then
    python=target/venv/bin/python
    "$python" tests/conformance/run.py
    if wanted php; then "$python" tests/conformance/run.py --php "$php_zip"; fi
    if wanted java; then "$python" tests/conformance/run.py --java "$java_jar"; fi
fi
