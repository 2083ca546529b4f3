"""GET /Users/<id> through scimkit.Provider in process, over the example's storage (its sqlite3 tables, in
memory): the per-request cost of the Python host, engine and storage included. Bounded in count and time.

Usage: python bindings/python/bench.py [REQUESTS] [--users N] [--groups G] [--threads T]
(run with the package installed, or with PYTHONPATH=bindings/python/src and the component copied next to it).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sqlite3
import sys
import time

from scimkit import Provider
from scimkit.example.config import config
from scimkit.example.storage import AppStorage

JSON = {"Content-Type": "application/scim+json"}
MAX_SECONDS = 120


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("requests", nargs="?", type=int, default=5000)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=0, help="group i has user i modulo the users as its member")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    storage = AppStorage(sqlite3.connect(":memory:", check_same_thread=False))
    storage.install()
    p = Provider(config("https://app.example/scim/v2"), storage)
    ids = []
    for i in range(args.users):
        body = {"userName": f"user{i}", "name": {"givenName": "Barbara", "familyName": f"Jensen{i}"},
                "emails": [{"type": "work", "value": f"user{i}@example.com"}], "title": "Tour guide"}
        r = p.handle("POST", "/Users", "", JSON, json.dumps(body))
        assert r.status == 201, r.text
        ids.append(r.json()["id"])
    for i in range(args.groups):
        group = {"displayName": f"group{i}", "members": [{"value": ids[i % args.users]}]}
        assert p.handle("POST", "/Groups", "", JSON, json.dumps(group)).status == 201

    deadline = time.monotonic() + MAX_SECONDS

    def run(seed: int, n: int) -> int:
        done = 0
        for done in range(n):
            if time.monotonic() > deadline:
                break
            r = p.handle("GET", "/Users/" + ids[(seed * 7919 + done) % len(ids)])
            if r.status != 200:
                raise AssertionError(r.text)
        return done + 1

    run(0, min(args.requests, 500))  # warm-up
    per_thread = args.requests // args.threads
    t0, cpu0 = time.perf_counter(), time.process_time()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        done = sum(pool.map(run, range(args.threads), [per_thread] * args.threads))
    s, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"python GET by id, {args.threads} thread(s), {args.users} users, {args.groups} groups: {done} requests "
          f"in {s:.2f} s, {done / s:.0f} requests/s, {s * 1e6 / done * args.threads:.0f} us each "
          f"({cpu * 1e6 / done:.0f} us of CPU each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
