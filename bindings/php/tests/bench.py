"""Load on the example: N GET-by-id requests to one server, a new PHP execution each. Prints the throughput,
and the server's RSS after warm-up and at every tenth of the run (the sum over its worker processes).

Usage: python3 bindings/php/tests/bench.py [N] [--clients K] [--fpm | --cgi] [--groups G] [--other-groups H]

- default: `php -S` (PHP_CLI_SERVER_WORKERS=K when K > 1), a new connection per request;
- --fpm: php-fpm (`php-fpm8.2` or `php-fpm`) with K static workers and pm.max_requests = 0, spoken to in
  FastCGI as a web server would;
- --cgi: one `php-cgi -b` process as the FastCGI server (PHP_FCGI_MAX_REQUESTS=0; --clients is ignored);
- --groups G: G groups, each with the user as a member, exist before the run (a User's `groups` is computed
  from them on every GET).
- --other-groups H: H more groups, each with another user as its member (what reading the user must not cost).
"""

import argparse
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
INDEX = ROOT / "bindings/php/example/index.php"
TOKEN = "bench"


def tree_rss_kib(pid: int) -> int:
    """VmRSS of the process and its children (php -S workers, php-fpm workers)."""
    total = 0
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    for child in pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += tree_rss_kib(int(child))
    return total


def http_request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/scim+json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode() + body)
        data = b"".join(iter(lambda: conn.recv(65536), b""))
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def fcgi_record(kind: int, content: bytes) -> bytes:
    return struct.pack(">BBHHBx", 1, kind, 1, len(content), 0) + content


def fcgi_pairs(params: dict[str, str]) -> bytes:
    out = b""
    for name, value in params.items():
        n, v = name.encode(), value.encode()
        out += bytes([len(n)]) if len(n) < 128 else struct.pack(">I", len(n) | 1 << 31)
        out += bytes([len(v)]) if len(v) < 128 else struct.pack(">I", len(v) | 1 << 31)
        out += n + v
    return out


def fcgi_request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One FastCGI responder request (BEGIN_REQUEST, PARAMS, STDIN), as nginx sends it."""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": path, "SCRIPT_FILENAME": str(INDEX), "SCRIPT_NAME": "/index.php",
              "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
              "CONTENT_TYPE": "application/scim+json", "CONTENT_LENGTH": str(len(body))}
    message = (fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, fcgi_pairs(params)) + fcgi_record(4, b"")
               + (fcgi_record(5, body) if body else b"") + fcgi_record(5, b""))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(message)
        data = b"".join(iter(lambda: conn.recv(65536), b""))
    stdout, at = b"", 0
    while at + 8 <= len(data):
        _, kind, _, length, padding = struct.unpack(">BBHHB", data[at:at + 7])
        if kind == 6:
            stdout += data[at + 8:at + 8 + length]
        at += 8 + length + padding
    head, _, payload = stdout.partition(b"\r\n\r\n")
    status = 200
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            status = int(line.split()[1])
    return status, payload


def start_server(port: int, clients: int, fpm: bool, cgi: bool, data: str, env: dict) -> subprocess.Popen:
    if cgi:
        env = {**env, "PHP_FCGI_CHILDREN": "0", "PHP_FCGI_MAX_REQUESTS": "0"}
        return subprocess.Popen(["php-cgi", "-d", "ffi.enable=1", "-b", f"127.0.0.1:{port}"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    if not fpm:
        if clients > 1:
            env = {**env, "PHP_CLI_SERVER_WORKERS": str(clients)}
        return subprocess.Popen(["php", "-d", "ffi.enable=1", "-S", f"127.0.0.1:{port}", str(INDEX)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    binary = shutil.which("php-fpm8.2") or shutil.which("php-fpm")
    if binary is None:
        sys.exit("no php-fpm (apt-get install php-fpm)")
    conf = pathlib.Path(data, "fpm.conf")
    conf.write_text(f"""[global]
error_log = {data}/fpm.log
daemonize = no
[bench]
listen = 127.0.0.1:{port}
pm = static
pm.max_children = {clients}
pm.max_requests = 0
clear_env = no
php_admin_value[ffi.enable] = 1
""" + ("user = root\n" if os.geteuid() == 0 else ""))
    root = ["-R"] if os.geteuid() == 0 else []
    return subprocess.Popen([binary, "-F", "-y", str(conf), *root], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def main() -> int:
    args = argparse.ArgumentParser()
    args.add_argument("n", type=int, nargs="?", default=100_000)
    args.add_argument("--clients", type=int, default=1)
    args.add_argument("--fpm", action="store_true")
    args.add_argument("--cgi", action="store_true")
    args.add_argument("--groups", type=int, default=0)
    args.add_argument("--other-groups", type=int, default=0)
    a = args.parse_args()
    if a.cgi:
        a.clients = 1
    request = fcgi_request if a.fpm or a.cgi else http_request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "SCIM_TOKEN": TOKEN, "SCIM_EXAMPLE_DB": os.path.join(data, "app.sqlite")}
        proc = start_server(port, a.clients, a.fpm, a.cgi, data, env)
        try:
            for _ in range(100):
                try:
                    status, body = request(port, "POST", "/scim/v2/Users", json.dumps({"userName": "bjensen"}).encode())
                    break
                except OSError:
                    time.sleep(0.1)
            assert status == 201, body
            user = json.loads(body)["id"]
            path = f"/scim/v2/Users/{user}"
            for g in range(a.groups):
                group = {"displayName": f"group {g}", "members": [{"value": user}]}
                assert request(port, "POST", "/scim/v2/Groups", json.dumps(group).encode())[0] == 201
            if a.other_groups:
                status, body = request(port, "POST", "/scim/v2/Users", json.dumps({"userName": "other"}).encode())
                assert status == 201, body
                other = json.loads(body)["id"]
            for g in range(a.other_groups):
                group = {"displayName": f"other group {g}", "members": [{"value": other}]}
                assert request(port, "POST", "/scim/v2/Groups", json.dumps(group).encode())[0] == 201
            for _ in range(200 * a.clients):
                request(port, "GET", path)
            start_rss, samples, failures = tree_rss_kib(proc.pid), [], []
            done, lock = [0], threading.Lock()

            def client(count: int) -> None:
                for _ in range(count):
                    status, body = request(port, "GET", path)
                    if status != 200:
                        failures.append(f"{status} {body[:200]!r}")
                        return
                    with lock:
                        done[0] += 1
                        if done[0] % max(1, a.n // 10) == 0:
                            samples.append(tree_rss_kib(proc.pid))

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(a.n // a.clients,)) for _ in range(a.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            end_rss = tree_rss_kib(proc.pid)
        finally:
            # The whole group: php -S leaves its workers running when only the first process is stopped.
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    if failures:
        print("failed: " + failures[0])
        return 1
    server = "php-cgi -b" if a.cgi else f"php-fpm, {a.clients} worker(s)" if a.fpm else f"php -S, {a.clients} worker(s)"
    groups = f", {a.groups} groups" if a.groups else ""
    groups += f", {a.other_groups} groups of another user" if a.other_groups else ""
    print(f"{done[0]} GET /Users/<id>{groups}, {a.clients} client(s), {server}: {done[0] / elapsed:.0f} requests/s, "
          f"{elapsed / done[0] * 1000:.2f} ms each")
    print(f"RSS: {start_rss} KiB after warm-up, {end_rss} KiB after {done[0]} requests")
    print("RSS every tenth, KiB: " + " ".join(map(str, samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
