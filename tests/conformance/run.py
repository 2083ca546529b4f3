"""RFC 7643/7644 conformance: scim2-tester against a real `scimkit serve` on a free loopback port, with
`--php` against the PHP example application (`php -S`, bindings/php/example) serving its own tables, or with
`--java` against the Java example application (bindings/java/example, the JDK's HTTP server) serving its rows
from memory, with `--python` against the Python package's example (`python -m scimkit.example`, its own
sqlite3 tables) run by `SCIMKIT_PYTHON` (default: this interpreter) from outside the repository, so that the
installed package is the one tested, or with `--node` against the Node example application (`scimkit-example`,
Node's HTTP server) serving its tables from SQLite (node:sqlite), or its rows from memory on a Node without it:
the package installed in $SCIMKIT_NODE_DIR, else bindings/node.

`--php dist/out/scimkit-php-VERSION.zip` serves the example unpacked from the package instead, and `--java
dist/out/scimkit-java-VERSION.jar` the example in the jar: each as a user runs it, with the library the
artifact holds, nothing else on the class path and no Rust toolchain on PATH.

Without an example, the reference server is checked twice: with its default tenant under the `tolerant`
profile, then under `strict` (a `scimkit.toml` written into its data directory), which must pass as well.

Every check must run and pass: the count of checks is asserted too, because scim2-tester silently skips
the CRUD and PATCH checks when discovery does not parse.

Each server is then checked by scimkit's own checks (`scimkit selftest`) too, the reference server under each
profile: 0 failures each.
"""

import argparse
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

from httpx2 import Client
from pydantic.fields import FieldInfo
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Mutability, ServiceProviderConfig
from scim2_tester import Status, check_server

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "conformance-token"
MIN_CHECKS = int(os.environ.get("SCIMKIT_CONFORMANCE_MIN_CHECKS", "130"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_strict_server(data: str, artifact: str) -> tuple[subprocess.Popen, str]:
    """The reference server whose default tenant answers under the `strict` profile."""
    with open(os.path.join(data, "scimkit.toml"), "w") as config:
        config.write('[[tenant]]\nname = "default"\nprofile = "strict"\n')
    return start_server(data, artifact)


def declare_interop_attribute() -> None:
    """Teaches the checker's ServiceProviderConfig model `interopProfileConformant` (a readOnly boolean, SCIM
    Interop Profile §4), which a conformant server must publish and which scim2-models does not declare; every
    other unknown attribute stays refused."""
    ServiceProviderConfig.model_fields["interop_profile_conformant"] = FieldInfo(
        annotation=bool | None,
        default=None,
        validation_alias="interopProfileConformant",
        serialization_alias="interopProfileConformant",
        metadata=[Mutability.read_only],
    )
    ServiceProviderConfig.model_rebuild(force=True)


def advertises_interop(client: SyncSCIMClient) -> list[str]:
    """Under `strict` the server claims the interop profile."""
    config = client.query(ServiceProviderConfig)
    if getattr(config, "interop_profile_conformant", None) is True:
        return []
    return ["ServiceProviderConfig lacks \"interopProfileConformant\": true"]


def start_server(data: str, _artifact: str) -> tuple[subprocess.Popen, str]:
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


def artifact_env() -> dict[str, str]:
    """The environment of a user of an artifact: no library or component named, no Rust toolchain on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("SCIMKIT_LIBRARY", "SCIMKIT_COMPONENT")}
    return {**env, "PATH": "/usr/local/bin:/usr/bin:/bin"}


def start_php(data: str, artifact: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SCIM_TOKEN": TOKEN, "SCIM_EXAMPLE_DB": os.path.join(data, "app.sqlite")}
    cwd = ROOT / "bindings/php"
    if artifact:
        cwd = pathlib.Path(data, "scimkit-php")
        zipfile.ZipFile(artifact).extractall(cwd)
        env = {**artifact_env(), "SCIM_TOKEN": TOKEN, "SCIM_EXAMPLE_DB": os.path.join(data, "app.sqlite")}
    proc = subprocess.Popen(
        ["php", "-d", "ffi.enable=1", "-S", f"127.0.0.1:{port}", "example/index.php"],
        cwd=cwd,
        env=env,
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


def start_java(data: str, artifact: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if artifact:
        command = ["java", "-cp", os.path.abspath(artifact)]
        env = {**artifact_env(), "SCIM_TOKEN": TOKEN}
    else:
        classes = os.path.join(data, "classes")
        java = ROOT / "bindings/java"
        sources = [str(p) for d in ("src", "example") for p in (java / d).rglob("*.java")]
        subprocess.run(["javac", "-d", classes, *sources], check=True)
        library = os.environ.get("SCIMKIT_LIBRARY", str(ROOT / "target/release/libscimkit_native.so"))
        command = ["java", f"-Dscimkit.library={library}", "-cp", classes]
        env = {**os.environ, "SCIM_TOKEN": TOKEN}
    # Without libjsig on purpose: the Java tests run with it, this run shows the JVM works without it too.
    proc = subprocess.Popen(
        [*command, "org.scimkit.example.ExampleServer", str(port)],
        cwd=data,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, listening(proc, port, 60, "the Java example")


def start_python(data: str, _artifact: str) -> tuple[subprocess.Popen, str]:
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


def start_node(data: str, _artifact: str) -> tuple[subprocess.Popen, str]:
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


def check(start, artifact: str, label: str, verify=None) -> int:
    """scim2-tester against the server `start` runs, then `verify(client)` (a list of failures) if given;
    prints each check and the counts; 1 when any failed."""
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(data, artifact)
        try:
            client = SyncSCIMClient(
                Client(base_url=base + "/", headers={"Authorization": "Bearer " + TOKEN}, timeout=30)
            )
            results = check_server(client, raise_exceptions=False)
            extra = verify(client) if verify else []
            if not selftest(base):
                extra.append(f"scimkit selftest{label} failed against {base} (its lines above)")
        finally:
            proc.kill()
            proc.wait()
    failed = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    passed = [r for r in results if r.status == Status.SUCCESS]
    for r in results:
        mark = {Status.SUCCESS: "ok  "}.get(r.status, r.status.name[:4].lower())
        print(f"{mark} {r.title}" + (f" -- {r.reason}" if r.status != Status.SUCCESS and r.reason else ""))
    for reason in extra:
        print(f"erro {reason}")
    skipped = len(results) - len(passed) - len(failed)
    print(f"conformance{label}: {len(passed)} passed, {len(failed)} failed, {skipped} skipped")
    if len(results) < MIN_CHECKS:
        print(f"conformance{label}: only {len(results)} checks ran; expected at least {MIN_CHECKS}")
        return 1
    return 1 if failed or extra else 0


def selftest(base: str) -> bool:
    """scimkit's own conformance checks against the SCIM server at `base`; true when none failed."""
    binary = os.environ.get("SCIMKIT_BIN", str(ROOT / "target/release/scimkit"))
    print(f"selftest: {base}", flush=True)
    env = {**os.environ, "SCIMKIT_TARGET_TOKEN": TOKEN}
    return subprocess.run([binary, "selftest", base], env=env, timeout=600).returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description="scim2-tester against scimkit or one of its examples")
    example = parser.add_mutually_exclusive_group()
    example.add_argument("--php", nargs="?", const="", metavar="ZIP", help="the PHP example, or the package's")
    example.add_argument("--java", nargs="?", const="", metavar="JAR", help="the Java example, or the jar's")
    example.add_argument("--python", action="store_true", help="the Python package's example (SCIMKIT_PYTHON)")
    example.add_argument("--node", action="store_true", help="the Node package's example (SCIMKIT_NODE_DIR)")
    args = parser.parse_args()
    if args.php is not None:
        return check(start_php, args.php, "")
    if args.java is not None:
        return check(start_java, args.java, "")
    if args.python:
        return check(start_python, "", "")
    if args.node:
        return check(start_node, "", "")
    tolerant = check(start_server, "", " (tolerant)")
    declare_interop_attribute()
    strict = check(start_strict_server, "", " (strict)", advertises_interop)
    return tolerant or strict


if __name__ == "__main__":
    sys.exit(main())
