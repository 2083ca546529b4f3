#!/usr/bin/env bash
# Tests the npm package as a user gets it: builds it from target/scimkit.wasm (bindings/node/build.sh), installs
# the tarball in a fresh directory, type-checks a use of its declarations, runs the node --test suite against the
# installed package, then the conformance run (scim2-tester) against its example server. Exits non-zero on any
# failure. The conformance run needs tests/conformance/requirements.txt (PYTHON names the interpreter).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bash "$here/build.sh"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
cd "$fresh"
npm init -y >/dev/null
npm pkg set type=module
npm install --no-audit --no-fund --loglevel=error "$root"/dist/out/scimkit-*.tgz
cp -r "$here/test" "$fresh/test"
"$here/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 \
    --skipLibCheck --types node --typeRoots "$here/node_modules/@types" test/types.ts
node --test test/*.test.js
SCIMKIT_NODE_DIR="$fresh" "${PYTHON:-python3}" "$root/tests/conformance/run.py" --node
