"""Load on the example: one `php -S` process, N sequential GET-by-id requests. Prints the server's RSS
after warm-up and at every tenth of the run, and the throughput. Usage: python3 bindings/php/tests/bench.py [N]
"""

import http.client
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
TOKEN = "bench"


def rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "SCIM_TOKEN": TOKEN, "SCIM_EXAMPLE_DB": os.path.join(data, "app.sqlite")}
        proc = subprocess.Popen(
            ["php", "-d", "ffi.enable=1", "-S", f"127.0.0.1:{port}", "bindings/php/example/index.php"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            status, body = request(port, "POST", "/scim/v2/Users", {"userName": "bjensen", "active": True})
            assert status == 201, body
            path = "/scim/v2/Users/" + json.loads(body)["id"]
            for _ in range(100):
                request(port, "GET", path)
            start_rss = rss_kib(proc.pid)
            samples = []
            started = time.perf_counter()
            for i in range(1, n + 1):
                status, body = request(port, "GET", path)
                if status != 200:
                    print(f"request {i}: {status} {body[:200]!r}")
                    return 1
                if i % max(1, n // 10) == 0:
                    samples.append(rss_kib(proc.pid))
            elapsed = time.perf_counter() - started
            end_rss = rss_kib(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    print(f"{n} GET /Users/<id>: {n / elapsed:.0f} requests/s, {elapsed / n * 1000:.2f} ms each")
    print(f"php -S RSS: {start_rss} KiB after warm-up, {end_rss} KiB after {n} requests")
    print("RSS every tenth, KiB: " + " ".join(map(str, samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
