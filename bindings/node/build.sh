#!/usr/bin/env bash
# Builds the npm package `scimkit` into dist/out/scimkit-<version>.tgz: the component (target/scimkit.wasm, or
# $SCIMKIT_COMPONENT) transpiled by jco into an ES module with TypeScript declarations, and this package's
# sources. Needs Node and npm only: the component is built beforehand (cargo build --release -p scimkit-runtime).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
component="${SCIMKIT_COMPONENT:-$root/target/scimkit.wasm}"
out="$root/dist/out"
[ -f "$component" ] || { echo "no component at $component: cargo build --release --locked -p scimkit-runtime" >&2; exit 1; }
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
rm -rf gen
npx jco transpile "$component" --name scimkit --instantiation sync --out-dir gen --quiet
# jco's bindings read process.env.JCO_DEBUG on each of the dozens of log calls a component call makes, which
# costs a third of a request: read it once.
node - <<'JS'
const fs = require('node:fs');
const file = 'gen/scimkit.js';
const debug = /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/;
const js = fs.readFileSync(file, 'utf8');
if (!debug.test(js)) {
  console.error('build.sh: jco\'s debug log has changed shape; left as generated');
} else {
  fs.writeFileSync(file, js.replace(debug, 'const _debugLog = globalThis?.process?.env?.JCO_DEBUG ? (...args) => console.debug(...args) : () => {};'));
}
JS
mkdir -p "$out"
rm -f "$out"/scimkit-*.tgz
npm pack --pack-destination "$out" --loglevel=error >/dev/null
ls "$out"/scimkit-*.tgz
