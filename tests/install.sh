#!/usr/bin/env bash
# Installs what the whole test suite needs, on Debian, as root or through sudo; what is there is left alone.
# Parts named in SCIMKIT_SKIP (comma-separated: php, java, python, node, browser, postgres, conformance) are not
# installed.
# The conformance run's Python packages go into a virtual environment of the project's own, target/venv.
# Exits non-zero when something needed is missing and cannot be installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

wanted() { [[ ",${SCIMKIT_SKIP:-}," != *",$1,"* ]]; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

packages=()
# Python runs helpers of the scripts (free ports, the PHP package's zip); curl checks served applications.
command -v python3 >/dev/null || packages+=(python3)
command -v curl >/dev/null || packages+=(curl)
if wanted java; then
    # JDK 17 for the Java binding and its jar; JUnit 5 (its console launcher) runs the binding's tests.
    command -v javac >/dev/null || packages+=(openjdk-17-jdk-headless)
    [ -f /usr/share/java/junit-platform-console-standalone.jar ] || packages+=(junit5)
fi
if wanted browser; then
    command -v chromedriver >/dev/null || packages+=(chromium chromium-driver)
fi
if wanted php; then
    # PHP with FFI (in php-cli), SQLite and php-cgi; PHPUnit for the package's tests; Composer (and PHP's zip
    # extension, which its artifact repository needs) to install the built package as an application would.
    command -v php >/dev/null || packages+=(php-cli)
    command -v php-cgi >/dev/null || packages+=(php-cgi)
    php_has() { command -v php >/dev/null && grep -qix "$1" <<<"$(php -m)"; }
    php_has pdo_sqlite || packages+=(php-sqlite3)
    php_has zip || packages+=(php-zip)
    command -v phpunit >/dev/null || packages+=(phpunit)
    command -v composer >/dev/null || packages+=(composer)
fi
if wanted postgres; then
    # The PostgreSQL backend's tests start their own throwaway cluster: only the binaries are needed.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
fi
if wanted conformance || wanted python; then
    python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
fi
if wanted node; then
    command -v node >/dev/null || packages+=(nodejs)
    command -v npm >/dev/null || packages+=(npm)
fi

if [ ${#packages[@]} -gt 0 ]; then
    echo "installing: ${packages[*]}"
    if ! as_root apt-get update -qq || ! as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
        echo "could not install ${packages[*]} (needs Debian's apt-get as root or through sudo);" \
            "install them, or opt out with SCIMKIT_SKIP (see README.md)" >&2
        exit 1
    fi
fi

if wanted php; then
    # The example application is served with plain `php -S`, which needs FFI enabled for the CLI server.
    ffi_ini="$(php -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')/99-scimkit-ffi.ini"
    [ -f "$ffi_ini" ] || echo 'ffi.enable=1' | as_root tee "$ffi_ini" >/dev/null \
        || { echo "could not write $ffi_ini (ffi.enable=1 for PHP's CLI server)" >&2; exit 1; }
fi

if wanted conformance; then
    venv=target/venv
    requirements=tests/conformance/requirements.txt
    # Installed again only when the requirements change.
    if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$venv/requirements.txt"
    fi
fi

if wanted node && ! node -e "require('node:sqlite')" 2>/dev/null; then
    # The Node example keeps its tables in node:sqlite (Node 22.13 and later); an older Node gets a newer one
    # beside the project, from npm, used by the Node part of the suite only.
    echo "installing Node 22 from npm into target/node (this Node has no node:sqlite)"
    npm install --silent --no-audit --no-fund --prefix target/node node@22 >/dev/null \
        || { echo "could not install Node 22 from npm (node:sqlite is needed by the Node tests)" >&2; exit 1; }
fi
