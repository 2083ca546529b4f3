"""Sending the provisioner's requests to its target."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from typing import List, Optional, Protocol, Tuple
from urllib.parse import urlsplit


@dataclass
class HttpRequest:
    """`path` is below the target's SCIM base; `query` is already percent-encoded."""

    method: str
    path: str
    query: str
    headers: List[Tuple[str, str]]
    body: Optional[bytes]


@dataclass
class HttpResponse:
    status: int
    headers: List[Tuple[str, str]]
    body: bytes


class TransportError(Exception):
    """Why a request got no HTTP response: `kind` is `unreachable`, `timed-out` or `broken`. An HTTP error status
    is a response, never this."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class Transport(Protocol):
    def send(self, request: HttpRequest) -> HttpResponse:
        """Raises TransportError (any other exception is taken as a broken exchange)."""


class HttpTransport:
    """A SCIM target over HTTP(S) with a bearer token, on `http.client`; never follows redirects."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0,
                 context: Optional[ssl.SSLContext] = None) -> None:
        url = urlsplit(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._base = url.path
        self._authorization = f"Bearer {token}"
        self._timeout = timeout
        self._context = context

    def send(self, request: HttpRequest) -> HttpResponse:
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._context)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        target = self._base + request.path + ("?" + request.query if request.query else "")
        headers = dict(request.headers)
        headers["Authorization"] = self._authorization
        try:
            try:
                conn.connect()
            except socket.timeout as e:
                raise TransportError("unreachable", f"connect: {e}") from e
            except OSError as e:
                raise TransportError("unreachable", str(e)) from e
            try:
                conn.request(request.method, target, body=request.body, headers=headers)
                r = conn.getresponse()
                return HttpResponse(r.status, r.getheaders(), r.read())
            except socket.timeout as e:
                raise TransportError("timed-out") from e
            except (OSError, http.client.HTTPException) as e:
                raise TransportError("broken", str(e)) from e
        finally:
            conn.close()
