#!/usr/bin/env bash
# Builds the distributables into dist/out/, from the release build of the native library (built when stale):
#   scimkit-php-VERSION.zip   the Composer package scimkit/scimkit: PHP sources, scimkit.h, the library under
#                             lib/<platform>/, the example application (example/index.php)
#   scimkit-java-VERSION.jar  the Java binding's classes, its example server, and the library as a resource
#                             (org/scimkit/native/<platform>/) with its SHA-256
#   scimkit-VERSION-py3-none-any.whl  the Python package with the component (bindings/python/build.sh)
#   scimkit-VERSION.tgz       the npm package, the component transpiled by jco (bindings/node/build.sh)
# The library is this machine's build: linux-x86_64. `dist/build.sh php|java|python|node ...` builds those.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "dist/build.sh packs this machine's build: linux-x86_64 only" >&2; exit 1; }
platform=linux-x86_64
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
# The same packages as the test command builds, so that both share one build (another set would resolve
# other features and compile wasmtime again).
cargo build --release --locked -p host-example -p scimkit-native
library=target/release/libscimkit_native.so

out=dist/out
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# PHP: the package as Composer installs it. Composer takes an artifact only with a version in composer.json.
build_php() {
    rm -f "$out"/scimkit-php-*.zip
    php=$work/php
    mkdir -p "$php/lib/$platform" "$php/include"
    cp -r bindings/php/src bindings/php/example bindings/php/bin bindings/php/autoload.php bindings/php/preload.php \
        bindings/php/README.md "$php/"
    cp bindings/native/include/scimkit.h "$php/include/"
    cp "$library" "$php/lib/$platform/"
    python3 - "$version" bindings/php/composer.json "$php/composer.json" <<'PY'
import json, sys
version, source, target = sys.argv[1:]
package = json.load(open(source))
package = {"name": package.pop("name"), "version": version, **package}
# The tests are not shipped; the example's classes are loaded by the package's autoload.php.
package.pop("autoload-dev", None)
package.pop("require-dev", None)
with open(target, "w") as f:
    json.dump(package, f, indent=4)
    f.write("\n")
PY
    python3 - "$php" "$out/scimkit-php-$version.zip" <<'PY'
import pathlib, sys, zipfile
root, target = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        z.write(f, f.relative_to(root))
PY
    ls -l "$out/scimkit-php-$version.zip"
}

# Java: one jar, usable as a module (Automatic-Module-Name) or on the class path.
build_java() {
    rm -f "$out"/scimkit-java-*.jar
    classes=$work/java
    javac --release 17 -d "$classes" $(find bindings/java/src bindings/java/example -name '*.java')
    resources=$classes/org/scimkit/native/$platform
    mkdir -p "$resources"
    cp "$library" "$resources/"
    sha256sum "$library" | cut -d ' ' -f 1 > "$resources/libscimkit_native.so.sha256"
    printf 'Automatic-Module-Name: org.scimkit\nImplementation-Title: scimkit\nImplementation-Version: %s\n' "$version" \
        > "$work/manifest"
    jar --create --file "$out/scimkit-java-$version.jar" --manifest "$work/manifest" -C "$classes" .
    ls -l "$out/scimkit-java-$version.jar"
}

for which in ${*:-php java python node}; do
    case $which in
    php | java) "build_$which" ;;
    python | node) bash "bindings/$which/build.sh" ;;
    *) echo "usage: dist/build.sh [php] [java] [python] [node]" >&2; exit 2 ;;
    esac
done
