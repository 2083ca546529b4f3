"""The storage calls of the engine, answered by an application's Storage.

Every answer is checked and converted here, before it goes back: a host function must never raise, since the
engine would trap. Exceptions of the application become `other` (500) and are logged; `StorageError` becomes its
kind.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

from wasmtime.component import Variant

from ._values import Err, Ok, field, record
from .hooks import HooksBridge
from .storage import Change, Member, Page, Query, Resource, Sort, Storage, StorageError, Unique

log = logging.getLogger("scimkit")

_KINDS_WITH_DETAIL = {"conflict", "unavailable", "other"}
_LITERAL_TYPES = {"date-time": "dateTime"}


def _utf8(s: str) -> str:
    """Text that cannot cross as UTF-8 (a lone surrogate) fails here, as a storage error, not as a trap later."""
    if not s.isascii():
        s.encode("utf-8")
    return s


def _text(v: Any) -> str:
    """Ids and versions may be integer keys: they are text to the engine."""
    if isinstance(v, str):
        return _utf8(v)
    if v is None or isinstance(v, bool):
        raise TypeError(f"expected an id or version, got {v!r}")
    return str(v)


def _opt_text(v: Any) -> Optional[str]:
    return None if v is None else _text(v)


def members_in(ms: List[Any]) -> List[Member]:
    return [Member(field(m, "value"), field(m, "kind"), field(m, "display")) for m in ms]


def members_out(ms: Any) -> List[Any]:
    if not isinstance(ms, (list, tuple)):
        raise TypeError("members must be a list")
    out = []
    for m in ms:
        if isinstance(m, dict):
            m = Member(m["value"], m.get("type"), m.get("display"))
        out.append(record(value=_text(m.value), kind=_opt_text(m.type), display=_opt_text(m.display)))
    return out


def _row_in(data: str) -> Dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict):
        raise TypeError("the engine's row is not a JSON object")
    return value


def stored(r: Any) -> Any:
    if isinstance(r, dict):
        r = Resource(r["id"], r["version"], r["data"], r.get("members"))
    if not isinstance(r, Resource):
        raise TypeError(f"expected a Resource, got {type(r).__name__}")
    data = _utf8(r.data if isinstance(r.data, str) else json.dumps(r.data, ensure_ascii=False, separators=(",", ":")))
    members = None if r.members is None else members_out(r.members)
    return record(id=_text(r.id), version=_text(r.version), data=data, members=members)


def filter_tree(f: Any) -> Dict[str, Any]:
    """The engine's flat filter (children before parents, named by index) as a nested tree."""
    nodes = f.nodes

    def node(i: int, depth: int) -> Dict[str, Any]:
        if depth > 64 or not 0 <= i < len(nodes):
            raise ValueError("malformed filter from the engine")
        n = nodes[i]
        tag, p = n.tag, n.payload
        if tag == "all-of":
            return {"op": "and", "args": [node(c, depth + 1) for c in p]}
        if tag == "any-of":
            return {"op": "or", "args": [node(c, depth + 1) for c in p]}
        if tag == "negate":
            return {"op": "not", "arg": node(p, depth + 1)}
        if tag == "present":
            return {"op": "pr", "path": p}
        if tag == "element-match":
            return {"op": "match", "path": p[0], "arg": node(p[1], depth + 1)}
        value = field(p, "value")
        return {
            "op": field(p, "op"),
            "path": field(p, "path"),
            "value": value.payload,
            "type": _LITERAL_TYPES.get(value.tag, value.tag),
            "caseExact": field(p, "case_exact"),
        }

    return node(f.root, 0)


def query_in(q: Any) -> Query:
    f = field(q, "filter")
    s = field(q, "sort")
    return Query(
        resource_type=field(q, "resource_type"),
        filter=None if f is None else filter_tree(f),
        sort=None if s is None else Sort(field(s, "path"), field(s, "descending"), field(s, "case_exact")),
        start_index=field(q, "start_index"),
        count=field(q, "count"),
        without_members=field(q, "without_members"),
    )


def page_out(p: Any) -> Any:
    if isinstance(p, dict):
        p = Page(p["items"], p.get("applied", "nothing"), p.get("total"))
    if not isinstance(p, Page):
        raise TypeError(f"expected a Page, got {type(p).__name__}")
    if p.applied == "everything":
        if not isinstance(p.total, int) or isinstance(p.total, bool) or p.total < 0:
            raise TypeError("applied everything needs a total")
        applied = Variant("everything", p.total)
    elif p.applied == "filter-only":
        applied = Variant("filter-only")
    else:
        applied = Variant("nothing")
    return record(items=[stored(r) for r in p.items], applied=applied)


def storage_error(e: BaseException) -> Variant:
    if isinstance(e, StorageError) and e.kind in ("not-found", "precondition-failed", "unsupported"):
        return Variant(e.kind)
    if isinstance(e, StorageError) and e.kind in _KINDS_WITH_DETAIL:
        return Variant(e.kind, e.detail)
    log.error("scimkit storage: %s: %s", type(e).__name__, e, exc_info=not isinstance(e, StorageError))
    return Variant("other", f"{type(e).__name__}: {e}")


class StorageBridge:
    """Answers the engine's storage imports from one Storage."""

    def __init__(self, storage: Storage, hooks: Optional[HooksBridge] = None) -> None:
        self.storage = storage
        # The provider's `events` answers (see _runtime._hooked).
        self.hooks = hooks

    def _answer(self, call: Any) -> Any:
        try:
            return Ok(call())
        except Exception as e:  # the engine must get an answer, never an exception
            return Err(storage_error(e))

    def get(self, resource_type: str, id: str, with_members: bool) -> Any:
        def call() -> Any:
            r = self.storage.get(resource_type, id, with_members)
            return None if r is None else stored(r)

        return self._answer(call)

    def create(self, resource_type: str, data: str, unique: List[Any], members: List[Any]) -> Any:
        keys = [Unique(field(k, "attribute"), field(k, "value")) for k in unique]
        return self._answer(
            lambda: stored(self.storage.create(resource_type, _row_in(data), keys, members_in(members)))
        )

    def update(self, c: Any) -> Any:
        def call() -> Any:
            data = field(c, "data")
            change = Change(
                resource_type=field(c, "resource_type"),
                id=field(c, "id"),
                data=None if data is None else _row_in(data),
                unique=[Unique(field(k, "attribute"), field(k, "value")) for k in field(c, "unique")],
                clear_members=field(c, "clear_members"),
                remove_members=list(field(c, "remove_members")),
                add_members=members_in(field(c, "add_members")),
                if_version=field(c, "if_version"),
            )
            return stored(self.storage.update(change))

        return self._answer(call)

    def delete(self, resource_type: str, id: str, if_version: Optional[str]) -> Any:
        def call() -> None:
            self.storage.delete(resource_type, id, if_version)

        return self._answer(call)

    def search(self, q: Any) -> Any:
        return self._answer(lambda: page_out(self.storage.search(query_in(q))))

    def members(self, resource_type: str, id: str, start_index: int, count: int) -> Any:
        return self._answer(lambda: members_out(self.storage.members(resource_type, id, start_index, count)))

    def resolve_principal(self, principal: str) -> Any:
        def call() -> Any:
            resolve = getattr(self.storage, "resolve_principal", None)
            if resolve is None:
                raise StorageError.unsupported()
            found = resolve(principal)
            return None if found is None else (_text(found[0]), _text(found[1]))

        return self._answer(call)
