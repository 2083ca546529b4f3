#!/usr/bin/env bash
# The jar as an application gets it: alone on the class path, no -D option, no Rust toolchain on PATH, it loads
# the library it holds and leaves no file behind; a jar whose library does not match its recorded SHA-256 is
# refused. Needs dist/build.sh's jar.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=$(readlink -f dist/out/scimkit-java-*.jar)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATH=/usr/local/bin:/usr/bin:/bin
if command -v cargo || command -v rustc; then echo "a Rust toolchain is on PATH ($PATH)" >&2; exit 1; fi
mkdir "$work/tmp"
# A program that reaches the engine: a mapping refused by it names its rule.
cat > "$work/Load.java" <<'JAVA'
public class Load {
    public static void main(String[] args) {
        try (var m = new org.scimkit.ScimMapper("{\"attributes\": [{\"target\": \"a..b\", \"from\": \"x\"}]}")) {
            System.out.println("accepted");
        } catch (org.scimkit.ScimException e) {
            System.out.println("engine: " + e.getMessage());
        }
    }
}
JAVA

out=$(cd "$work" && java -Djava.io.tmpdir="$work/tmp" -cp "$jar" Load.java 2>&1)
if [[ "$out" == "engine: "*"attributes[0]"* ]] && [ -z "$(ls -A "$work/tmp")" ]; then
    echo "ok   the jar loads the library it holds, then deletes the extracted file"
else
    echo "FAIL the jar's library: $out"; ls -la "$work/tmp"; exit 1
fi

# The same jar with one byte of its library changed, the recorded hash kept.
mkdir -p "$work/tampered" && cd "$work/tampered"
entry=$(jar --list --file "$jar" | grep '/libscimkit_native.so$')
cp "$jar" "$work/tampered.jar"
jar --extract --file "$jar" "$entry"
printf '\0' >> "$entry"
jar --update --file "$work/tampered.jar" "$entry"
out=$(cd "$work" && java -Djava.io.tmpdir="$work/tmp" -cp "$work/tampered.jar" Load.java 2>&1 || true)
if [[ "$out" == *"does not match its SHA-256"* ]] && [ -z "$(ls -A "$work/tmp")" ]; then
    echo "ok   a jar whose library does not match its SHA-256 is refused"
else
    echo "FAIL a tampered library was not refused: $out"; exit 1
fi
