"""`SCIM_TOKEN=t python -m scimkit.example --listen 127.0.0.1:8000 [--db FILE]`: the example application's
SCIM endpoint on the standard library's threading HTTP server, its rows in a sqlite3 file."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

from .app import Reply, ScimApp, scim_error
from .storage import AppStorage

MAX_BODY_BYTES = 1 << 20


def handler_for(app: ScimApp) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = self._length()
            if isinstance(length, tuple):
                reply = length
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length > 0 else None
                reply = app.serve(self.command, self.path, list(self.headers.items()), body)
            status, headers, out = reply
            self.send_response(status)
            for name, value in headers:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def _length(self) -> Union[int, Reply]:
            """The body's length, or the error answering a body this server does not read."""
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return scim_error(411, "send the body with a Content-Length")
            text = self.headers.get("Content-Length") or "0"
            if not text.isdigit():
                return scim_error(400, "Content-Length is not a number")
            if int(text) > MAX_BODY_BYTES:
                return scim_error(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
            return int(text)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scimkit.example")
    parser.add_argument("--listen", default="127.0.0.1:8000", help="HOST:PORT (default 127.0.0.1:8000)")
    parser.add_argument("--db", default=os.environ.get("SCIM_EXAMPLE_DB"), help="the sqlite3 file (a temporary one)")
    parser.add_argument("--base-url", help="the public URL before /scim/v2 (default http://LISTEN)")
    args = parser.parse_args()
    token = os.environ.get("SCIM_TOKEN", "")
    if not token:
        print("set SCIM_TOKEN to the bearer token clients must send", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    host, _, port = args.listen.rpartition(":")
    base_url = args.base_url or f"http://{args.listen}"
    if args.db:
        return serve(host, int(port), args.db, token, base_url)
    with tempfile.TemporaryDirectory(prefix="scimkit-example-") as scratch:
        return serve(host, int(port), os.path.join(scratch, "app.sqlite"), token, base_url)


def serve(host: str, port: int, db: str, token: str, base_url: str) -> int:
    storage = AppStorage.open(db)
    storage.install()
    server = ThreadingHTTPServer((host, port), handler_for(ScimApp(storage, token, base_url)))
    print(f"serving {base_url}/scim/v2 (rows in {db})", flush=True)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


def stop(_signal: int, _frame: Any) -> None:
    """SIGTERM ends the process as Ctrl-C does: the temporary database goes with it."""
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
