"""What the application hears of every change, and its say before it (the `events` interface of wit/scim.wit).

Subclass `Hooks` and override what you need; every method does nothing by default. A change is a dict:
`resourceType`, `id` ('' before a create is stored), `operations` (a list of 'create', 'replace', 'patch',
'delete', 'members-added', 'members-removed', 'activated', 'deactivated'), `paths` (changed attribute paths),
`before` and `after` (SCIM resources or None; never a password), `membersAdded`, `membersRemoved` (ids) and
`membersCleared`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional, Union

from ._values import field, record

log = logging.getLogger("scimkit")


class Adjust:
    """Write this SCIM resource instead (validated as a PUT body; members and the password are kept)."""

    __slots__ = ("resource",)

    def __init__(self, resource: Dict[str, Any]) -> None:
        self.resource = resource


class Refuse:
    """Refuse the write: the client gets this RFC 7644 error."""

    __slots__ = ("status", "detail", "scim_type")

    def __init__(self, status: int, detail: str, scim_type: Optional[str] = None) -> None:
        self.status, self.detail, self.scim_type = status, detail, scim_type


Verdict = Union[None, Adjust, Refuse]


class Hooks:
    """Do-nothing hooks: every write is allowed and nothing is heard."""

    def check(self, change: Dict[str, Any]) -> Verdict:
        """Before every write: None allows it; `Hooks.adjust(...)` or `Hooks.refuse(...)` otherwise."""
        return None

    def changed(self, change: Dict[str, Any], version: str) -> None:
        """After every successful write, with the resource's new version ('' after a delete)."""

    @staticmethod
    def adjust(resource: Dict[str, Any]) -> Adjust:
        return Adjust(resource)

    @staticmethod
    def refuse(status: int, detail: str, scim_type: Optional[str] = None) -> Refuse:
        return Refuse(status, detail, scim_type)


def change_in(c: Any) -> Dict[str, Any]:
    """The engine's `change-event` as the dict the hooks get."""

    def image(name: str) -> Any:
        text = field(c, name)
        return None if text is None else json.loads(text)

    return {
        "resourceType": field(c, "resource_type"),
        "id": field(c, "id"),
        "operations": [str(o) for o in field(c, "operations")],
        "paths": list(field(c, "paths")),
        "before": image("before"),
        "after": image("after"),
        "membersAdded": list(field(c, "members_added")),
        "membersRemoved": list(field(c, "members_removed")),
        "membersCleared": bool(field(c, "members_cleared")),
    }


class HooksBridge:
    """Answers the engine's `events` imports from one Hooks. A hook that raises refuses the write with a 500 (the
    engine must get an answer, never an exception); a `changed` that raises is logged."""

    def __init__(self, hooks: Hooks) -> None:
        self.hooks = hooks

    def check(self, c: Any) -> Any:
        # `verdict`'s cases differ by type, so wasmtime-py takes None for `allow`, a str for `adjust` and a
        # record for `refuse`.
        try:
            verdict = self.hooks.check(change_in(c))
            if verdict is None:
                return None
            if isinstance(verdict, Adjust):
                return json.dumps(verdict.resource)
            if isinstance(verdict, Refuse):
                return record(status=int(verdict.status), scim_type=verdict.scim_type, detail=str(verdict.detail))
            raise TypeError(f"check returned {type(verdict).__name__}, not None, Adjust or Refuse")
        except Exception as e:
            log.error("scimkit hooks: check failed: %s: %s", type(e).__name__, e)
            return record(status=500, scim_type=None, detail="the application's check of this write failed")

    def stage(self, _c: Any) -> None:
        return None

    def changed(self, c: Any, version: str) -> None:
        try:
            self.hooks.changed(change_in(c), version)
        except Exception as e:
            log.error("scimkit hooks: changed failed: %s: %s", type(e).__name__, e)
