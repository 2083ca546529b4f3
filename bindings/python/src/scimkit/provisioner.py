"""The provisioning client: a principal's directory attributes in, the minimal SCIM requests out, through a
Transport (see wit/scim.wit, `provisioner`)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Union

from wasmtime.component import Variant

from ._pool import Pool, config_text
from ._runtime import serving
from ._values import Err, Ok, field, record
from .mapper import Attributes, attributes_out, call
from .transport import HttpRequest, HttpResponse, Transport, TransportError

log = logging.getLogger("scimkit")


@dataclass
class Step:
    """One step: `action` (`search`, `create`, `patch`, `add-member`, …); `status` None when nothing was sent."""

    action: str
    method: str
    path: str
    status: Optional[int]
    detail: str


@dataclass
class Report:
    """`outcome`: `created`, `updated`, `unchanged`, `skipped` or `failed` (then `error` says why)."""

    outcome: str
    error: Optional[str]
    steps: List[Step]


class _TransportBridge:
    """Answers the engine's `send` from one Transport; never raises."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def send(self, req: Any) -> Any:
        request = HttpRequest(field(req, "method"), field(req, "path"), field(req, "query"),
                              list(field(req, "headers")), field(req, "body"))
        try:
            r = self.transport.send(request)
            if not isinstance(r, HttpResponse):
                raise TypeError(f"the transport returned {type(r).__name__}, not an HttpResponse")
            headers = [(str(k), str(v)) for k, v in r.headers]
            return Ok(record(status=int(r.status), headers=headers, body=bytes(r.body)))
        except TransportError as e:
            if e.kind == "timed-out":
                return Err(Variant("timed-out"))
            return Err(Variant(e.kind if e.kind == "unreachable" else "broken", e.detail or str(e)))
        except Exception as e:
            log.warning("scimkit transport: %s: %s", type(e).__name__, e)
            return Err(Variant("broken", f"{type(e).__name__}: {e}"))


class Provisioner:
    """The provisioning client for a set of services (JSON text or a mapping object: `{"services": {…}}`).
    Remembers per service whether its target takes PATCH. Calls are serialised. Raises ConfigError naming the
    offending key."""

    def __init__(self, config: Union[str, bytes, Mapping[str, Any]]) -> None:
        self._pool = Pool("provisioner", "provisioner", config_text(config), max_idle=1)
        self._lock = threading.Lock()

    def provision(self, service: str, attrs: Attributes, transport: Transport) -> Report:
        """Provisions one principal into one service's target, sending through `transport`. Never raises for a
        failure of the mapping, the transport or the target: the report says it."""
        with serving(_TransportBridge(transport)):
            r = call(self._pool, self._lock, "provision", service, attributes_out(attrs))
        outcome = field(r, "outcome")
        steps = [Step(field(s, "action"), field(s, "method"), field(s, "path"), field(s, "status"), field(s, "detail"))
                 for s in field(r, "steps")]
        return Report(outcome.tag, outcome.payload if outcome.tag == "failed" else None, steps)
