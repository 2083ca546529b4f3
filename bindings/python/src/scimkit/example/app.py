"""The example's SCIM endpoint, independent of any web framework: `ScimApp.serve` takes a request and gives a
response; `ScimApp.wsgi` is the same as a WSGI application. Everything SCIM is the engine's; this module only
authenticates and hands over the request."""

from __future__ import annotations

import hmac
import json
from typing import Any, Callable, Iterable, List, Optional, Tuple
from urllib.parse import unquote

from ..provider import Provider
from ..storage import Storage
from .config import config

BASE_PATH = "/scim/v2"

Reply = Tuple[int, List[Tuple[str, str]], bytes]


def scim_error(status: int, detail: str, extra: Optional[List[Tuple[str, str]]] = None) -> Reply:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status), "detail": detail}
    return status, [("Content-Type", "application/scim+json"), *(extra or [])], json.dumps(body).encode()


class ScimApp:
    def __init__(self, storage: Storage, token: str, base_url: str) -> None:
        self.token = token
        self.provider = Provider(config(base_url.rstrip("/") + BASE_PATH), storage)

    def serve(self, method: str, target: str, headers: List[Tuple[str, str]], body: Optional[bytes]) -> Reply:
        """One HTTP request: `target` is the path and query as received."""
        raw_path, _, query = target.partition("?")
        path = unquote(raw_path)
        if path != BASE_PATH and not path.startswith(BASE_PATH + "/"):
            return scim_error(404, f"SCIM is served under {BASE_PATH}")
        given = next((v for k, v in headers if k.lower() == "authorization"), "")
        if not self.token or not hmac.compare_digest(f"Bearer {self.token}".encode(), given.encode()):
            return scim_error(401, "a valid bearer token is required", [("WWW-Authenticate", "Bearer")])
        r = self.provider.handle(method, path[len(BASE_PATH):] or "/", query, headers, body)
        return r.status, r.headers, r.body

    def wsgi(self, environ: Any, start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = [(k[5:].replace("_", "-").title(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else None
        target = environ.get("PATH_INFO", "/") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        status, out_headers, out = self.serve(environ["REQUEST_METHOD"], target, headers, body)
        start_response(f"{status} {_REASONS.get(status, 'Status')}", out_headers)
        return [out]


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 412: "Precondition Failed",
            413: "Payload Too Large", 500: "Internal Server Error", 501: "Not Implemented",
            503: "Service Unavailable"}
