#!/usr/bin/env bash
# Compiles the Java binding and its tests (JDK only) and runs them with -Xcheck:jni.
# Usage: run-tests.sh LIBRARY MAPPING.toml [BASE_URL TOKEN PEOPLE.ldif]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${SCIMKIT_JAVA_OUT:-$here/../../target/java}"
lib="$1"; shift
rm -rf "$out" && mkdir -p "$out"
javac -d "$out" $(find "$here/src" "$here/test" -name '*.java')
# No libjsig preload: wasmtime's handlers only claim faults inside wasm code and chain to the JVM's otherwise.
exec java -Xcheck:jni -Dscimkit.library="$lib" -cp "$out" org.scimkit.test.Tests "$@"
