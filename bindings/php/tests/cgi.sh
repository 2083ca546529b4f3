#!/usr/bin/env bash
# The FFI setups of bindings/php/README.md under php-cgi (the SAPI of php-fpm deployments): ffi.enable=1,
# and ffi.enable=preload with ffi.preload and opcache.preload. Without either, the example must answer a SCIM 500 that
# names the fix, not crash.
set -euo pipefail
cd "$(dirname "$0")/../../.."

db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT

request() {
    env -i PATH="$PATH" ${SCIMKIT_LIBRARY:+SCIMKIT_LIBRARY="$SCIMKIT_LIBRARY"} \
        ${SCIMKIT_COMPONENT:+SCIMKIT_COMPONENT="$SCIMKIT_COMPONENT"} SCIM_TOKEN=t SCIM_EXAMPLE_DB="$db/app.sqlite" REDIRECT_STATUS=200 REQUEST_METHOD=GET \
        SCRIPT_FILENAME="$PWD/bindings/php/example/index.php" REQUEST_URI=/scim/v2/ServiceProviderConfig \
        HTTP_AUTHORIZATION="Bearer t" HTTP_HOST=localhost php-cgi "$@"
}

check() {
    local name=$1 want=$2; shift 2
    local out; out=$(request "$@" 2>&1 || true)
    if grep -q -- "$want" <<<"$out"; then
        echo "ok   php-cgi $name"
    else
        echo "FAIL php-cgi $name: expected $want in:"; echo "$out" | head -20; exit 1
    fi
}

check "ffi.enable=1" '"patch"' -d ffi.enable=1
php bindings/php/bin/ffi-header.php "${SCIMKIT_LIBRARY:-$PWD/target/release/libscimkit_native.so}" > "$db/scimkit-ffi.h"
check "preload" '"patch"' -d ffi.enable=preload -d ffi.preload="$db/scimkit-ffi.h" -d opcache.enable=1 \
    -d opcache.preload="$PWD/bindings/php/preload.php" -d opcache.preload_user="$(id -un)"
check "without FFI" 'ffi.enable=1' -d ffi.enable=0
