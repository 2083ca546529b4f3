#!/usr/bin/env bash
# The Java binding's tests in JUnit 5 (Debian's junit5: its console launcher), under -Xcheck:jni, over either the
# jar of dist/build.sh (its bundled library, nothing else on the class path) or the sources and a built library.
# Usage: run-tests.sh (dist/out/scimkit-java-*.jar | LIBRARY.so) MAPPING.toml [BASE_URL TOKEN PEOPLE.ldif]
# The last three name a running target for the provisioning runs (ProvisioningTest); without them those abort.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${SCIMKIT_JAVA_OUT:-$here/../../target/java}"
junit=/usr/share/java/junit-platform-console-standalone.jar
[ -f "$junit" ] || { echo "no $junit (apt-get install junit5)" >&2; exit 1; }
binding="$(readlink -f "$1")"; mapping="$(readlink -f "$2")"; shift 2
props=(-Dscimkit.test.mapping="$mapping")
if [ $# -ge 3 ]; then
    props+=(-Dscimkit.test.target="$1" -Dscimkit.test.token="$2" -Dscimkit.test.ldif="$(readlink -f "$3")")
fi

rm -rf "$out" && mkdir -p "$out"
if [[ "$binding" == *.jar ]]; then
    classpath="$out:$binding"
    javac -d "$out" -cp "$binding:$junit" $(find "$here/test" -name '*.java')
else
    classpath="$out"
    props+=(-Dscimkit.library="$binding")
    javac -d "$out" -cp "$junit" $(find "$here/src" "$here/example" "$here/test" -name '*.java')
fi
# libjsig (the JDK's signal chaining) keeps the JVM's SIGSEGV/SIGILL/SIGFPE handlers first and chains wasmtime's
# behind them, which is what -Xcheck:jni checks; see README.md, "Signal handlers".
jsig="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/libjsig.so"
[ -f "$jsig" ] || { echo "no $jsig in this JDK" >&2; exit 1; }
LD_PRELOAD="$jsig${LD_PRELOAD:+:$LD_PRELOAD}" exec java -Xcheck:jni "${props[@]}" -jar "$junit" \
    --class-path "$classpath" --scan-class-path "$out" --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests
