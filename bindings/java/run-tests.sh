#!/usr/bin/env bash
# Compiles the Java binding, its example and its tests (JDK only) and runs them with -Xcheck:jni.
# Usage: run-tests.sh LIBRARY MAPPING.toml [BASE_URL TOKEN PEOPLE.ldif]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${SCIMKIT_JAVA_OUT:-$here/../../target/java}"
lib="$1"; shift
rm -rf "$out" && mkdir -p "$out"
javac -d "$out" $(find "$here/src" "$here/example" "$here/test" -name '*.java')
# libjsig (the JDK's signal chaining) keeps the JVM's SIGSEGV/SIGILL/SIGFPE handlers first and chains wasmtime's
# behind them, which is what -Xcheck:jni checks; see README.md, "Signal handlers".
jsig="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/libjsig.so"
[ -f "$jsig" ] || { echo "no $jsig in this JDK" >&2; exit 1; }
LD_PRELOAD="$jsig${LD_PRELOAD:+:$LD_PRELOAD}" exec java -Xcheck:jni -Dscimkit.library="$lib" -cp "$out" org.scimkit.test.Tests "$@"
