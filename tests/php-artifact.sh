#!/usr/bin/env bash
# The PHP package as an application gets it: Composer installs scimkit/scimkit from dist/out/ (an artifact
# repository, no registry) into a fresh project, with no Rust toolchain on PATH, and a one-file application
# serves /scim/v2 from it. Needs dist/build.sh's zip.
set -euo pipefail
cd "$(dirname "$0")/.."
zip=$(ls dist/out/scimkit-php-*.zip)
version=$(basename "$zip" .zip); version=${version#scimkit-php-}
artifacts=$PWD/dist/out

app=$(mktemp -d)
server=
cleanup() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$app"; }
trap cleanup EXIT
export PATH=/usr/local/bin:/usr/bin:/bin
if command -v cargo || command -v rustc; then echo "a Rust toolchain is on PATH ($PATH)" >&2; exit 1; fi
export COMPOSER_HOME=$app/.composer COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1
cd "$app"

cat > composer.json <<JSON
{
    "repositories": [{"type": "artifact", "url": "$artifacts"}, {"packagist.org": false}],
    "require": {"scimkit/scimkit": "$version"}
}
JSON
composer install --no-progress --quiet
echo "ok   composer installed scimkit/scimkit $version from $zip"

# The whole application: Composer's autoloader, the package's example tables on SQLite, its own bearer token.
cat > index.php <<'PHP'
<?php
require __DIR__ . '/vendor/autoload.php';
require __DIR__ . '/vendor/scimkit/scimkit/example/src/AppStorage.php';

if (!hash_equals('Bearer ' . getenv('SCIM_TOKEN'), $_SERVER['HTTP_AUTHORIZATION'] ?? '')) {
    http_response_code(401);
    return;
}
$fresh = !is_file(__DIR__ . '/app.sqlite');
$storage = new Scimkit\Example\AppStorage(new PDO('sqlite:' . __DIR__ . '/app.sqlite'));
if ($fresh) {
    $storage->install();
}
$config = (require __DIR__ . '/vendor/scimkit/scimkit/example/config.php')("http://{$_SERVER['HTTP_HOST']}/scim/v2");
(new Scimkit\Provider(null, null, $config, $storage))->serve('/scim/v2');
PHP

port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
SCIM_TOKEN=t php -d ffi.enable=1 -S "127.0.0.1:$port" index.php >"$app/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

base="http://127.0.0.1:$port/scim/v2"
check() {
    local name=$1 want=$2 token=$3; shift 3
    local got; got=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/scim+json' "$@")
    if [[ "$got" == *"$want"* ]]; then
        echo "ok   one-file application: $name"
    else
        echo "FAIL one-file application: $name: expected $want in: $got"; cat "$app/server.log"; exit 1
    fi
}
check "discovery" '"patch"' t "$base/ServiceProviderConfig"
check "create a user" '"userName":"bjensen"' t -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen"}' \
    "$base/Users"
check "filter" '"totalResults":1' t "$base/Users?filter=userName%20eq%20%22BJENSEN%22"
check "its own authentication" ' 401' wrong "$base/Users"
