"""RFC 7643/7644 conformance: scim2-tester against a real `scimkit serve` on a free loopback port, with
`--php` against the PHP example application (`php -S`, bindings/php/example) serving its own tables, or with
`--java` against the Java example application (bindings/java/example, the JDK's HTTP server) serving its rows
from memory, with `--python` against the Python package's example (`python -m scimkit.example`, its own
sqlite3 tables) run by `SCIMKIT_PYTHON` (default: this interpreter) from outside the repository, so that the
installed package is the one tested, or with `--node` against the Node example application (`scimkit-example`,
Node's HTTP server) serving its tables from SQLite (node:sqlite), or its rows from memory on a Node without it:
the package installed in $SCIMKIT_NODE_DIR, else bindings/node.

Every check must run and pass: the count of checks is asserted too, because scim2-tester silently skips
the CRUD and PATCH checks when discovery does not parse.
"""

import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "conformance-token"
MIN_CHECKS = int(os.environ.get("SCIMKIT_CONFORMANCE_MIN_CHECKS", "130"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = os.environ.get("SCIMKIT_BIN", str(ROOT / "target/release/scimkit"))
    proc = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data", data],
        env={**os.environ, "SCIM_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, f"http://127.0.0.1:{port}/scim/v2"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("scimkit did not start")


def start_php(data: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        ["php", "-d", "ffi.enable=1", "-S", f"127.0.0.1:{port}", "bindings/php/example/index.php"],
        cwd=ROOT,
        env={**os.environ, "SCIM_TOKEN": TOKEN, "SCIM_EXAMPLE_DB": os.path.join(data, "app.sqlite")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, listening(proc, port, 30, "php -S")


def listening(proc: subprocess.Popen, port: int, seconds: float, what: str) -> str:
    """The SCIM base of a server once its port accepts connections; stops it and exits if it never does."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}/scim/v2"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{what} did not start")


def start_java(data: str) -> tuple[subprocess.Popen, str]:
    classes = os.path.join(data, "classes")
    java = ROOT / "bindings/java"
    sources = [str(p) for d in ("src", "example") for p in (java / d).rglob("*.java")]
    subprocess.run(["javac", "-d", classes, *sources], check=True)
    port = free_port()
    library = os.environ.get("SCIMKIT_LIBRARY", str(ROOT / "target/release/libscimkit_native.so"))
    # Without libjsig on purpose: the Java tests run with it, this run shows the JVM works without it too.
    proc = subprocess.Popen(
        ["java", f"-Dscimkit.library={library}", "-cp", classes, "org.scimkit.example.ExampleServer", str(port)],
        env={**os.environ, "SCIM_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, listening(proc, port, 60, "the Java example")


def start_python(data: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    python = os.environ.get("SCIMKIT_PYTHON", sys.executable)
    proc = subprocess.Popen(
        [python, "-m", "scimkit.example", "--listen", f"127.0.0.1:{port}", "--db", os.path.join(data, "app.sqlite")],
        cwd=data,
        env={**os.environ, "SCIM_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, listening(proc, port, 60, "the Python example")


def start_node(data: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    installed = os.environ.get("SCIMKIT_NODE_DIR")
    # The installed command itself, which npx would run, rather than npx, which would leave it running when killed.
    if installed:
        command = [os.path.join(installed, "node_modules/.bin/scimkit-example")]
    else:
        command = ["node", "bindings/node/example/bin.js"]
    proc = subprocess.Popen(
        [*command, "--listen", f"127.0.0.1:{port}"],
        cwd=installed or ROOT,
        env={**os.environ, "SCIM_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, listening(proc, port, 30, "the Node example")


def main() -> int:
    args = sys.argv[1:]
    modes = {"--php": start_php, "--java": start_java, "--python": start_python, "--node": start_node}
    start = next((modes[a] for a in args if a in modes), start_server)
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(data)
        try:
            client = SyncSCIMClient(
                Client(base_url=base + "/", headers={"Authorization": "Bearer " + TOKEN}, timeout=30)
            )
            results = check_server(client, raise_exceptions=False)
        finally:
            proc.kill()
            proc.wait()
    failed = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    passed = [r for r in results if r.status == Status.SUCCESS]
    for r in results:
        mark = {Status.SUCCESS: "ok  "}.get(r.status, r.status.name[:4].lower())
        print(f"{mark} {r.title}" + (f" -- {r.reason}" if r.status != Status.SUCCESS and r.reason else ""))
    print(f"conformance: {len(passed)} passed, {len(failed)} failed, {len(results) - len(passed) - len(failed)} skipped")
    if len(results) < MIN_CHECKS:
        print(f"conformance: only {len(results)} checks ran; expected at least {MIN_CHECKS}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
