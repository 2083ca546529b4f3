"""A SCIM service provider over an application's Storage."""

from __future__ import annotations

import json
import logging
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._bridge import StorageBridge
from ._pool import DEFAULT_MEMORY, Pool, config_text
from ._runtime import serving
from ._values import field, record
from .hooks import Hooks, HooksBridge
from .response import Response
from .storage import Storage

log = logging.getLogger("scimkit")

Headers = Union[Mapping[str, Union[str, Sequence[str]]], Iterable[Tuple[str, str]], None]

_SCIM_JSON = [("Content-Type", "application/scim+json")]


def _error(status: int, detail: str) -> Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status), "detail": detail}
    return Response(status, list(_SCIM_JSON), json.dumps(body).encode())


def _header_list(headers: Headers) -> List[Tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        out = []
        for name, value in headers.items():
            for v in [value] if isinstance(value, str) else value:
                out.append((str(name), str(v)))
        return out
    return [(str(k), str(v)) for k, v in headers]


class Provider:
    """Answers SCIM requests from `storage`, configured by `config` (baseUrl, mapping, … as in wit/scim.wit).

    Make one per application and keep it: it holds engine instances and reuses them across requests. Safe to use
    from several threads (each request takes an instance of its own). Raises `ConfigError` for a refused
    configuration.
    """

    def __init__(
        self,
        config: Union[str, bytes, Mapping[str, Any]],
        storage: Storage,
        max_idle: int = 8,
        max_memory_bytes: int = DEFAULT_MEMORY,
        hooks: Optional[Hooks] = None,
    ) -> None:
        """`max_idle`: instances kept between requests (one per concurrent request is made as needed);
        `max_memory_bytes`: the memory cap of each instance (a request past it answers 500); `hooks`: what the
        application says before each write and hears after it (see `Hooks`; default none)."""
        self._bridge = StorageBridge(storage, None if hooks is None else HooksBridge(hooks))
        self._pool = Pool("provider", "service-provider", config_text(config), max_idle, max_memory_bytes)

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Headers = None,
        body: Union[bytes, str, None] = None,
        principal: Optional[str] = None,
    ) -> Response:
        """Answers one request below the SCIM base (`path` like `/Users/42`; `query` still percent-encoded).
        Authentication is the caller's: `principal` is who it authenticated, for `/Me`. Never raises for a
        request: a trap or a failing engine is a SCIM 500, and the next request gets a fresh instance."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        req = record(
            method=method.upper(),
            path=path or "/",
            query=query.lstrip("?"),
            headers=_header_list(headers),
            body=body if body else None,
        )
        who = record(principal=principal)
        try:
            with serving(self._bridge):
                r = self._pool.call("handle", who, req)
        except Exception as e:  # a trap: the instance is gone, the request answers 500
            log.error("scimkit: the engine failed on %s %s: %s", method, path, e)
            return _error(500, "internal error")
        return Response(field(r, "status"), list(field(r, "headers")), bytes(field(r, "body")))
