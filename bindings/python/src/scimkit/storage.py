"""What an application implements: rows in, rows out, in its own column names (the configuration's `mapping`).

No SCIM parsing, filtering or PATCH logic belongs here; the engine does all of it. Shapes and contracts are those
of `wit/scim.wit` (interface `storage`). Raise `StorageError` for the expected failures; any other exception
becomes a SCIM 500 and is logged, never shown to clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Protocol, Tuple

Row = Dict[str, Any]
"""A resource as the storage keeps it: a flat object in the mapping's column names (the SCIM body when the type
has no mapping)."""

Filter = Dict[str, Any]
"""A pushed-down filter as a tree: `{"op": "and"|"or", "args": [...]}`, `{"op": "not", "arg": ...}`,
`{"op": "pr", "path": p}`, `{"op": "match", "path": p, "arg": ...}` (an element match), or a comparison
`{"op": "eq"|"ne"|"co"|"sw"|"ew"|"gt"|"ge"|"lt"|"le", "path": p, "value": v,
"type": "null"|"boolean"|"integer"|"decimal"|"text"|"dateTime", "caseExact": bool}`. Paths are column names,
except the reserved `members.value` (see `SqlFilter.MEMBER_PATH`)."""

Applied = Literal["everything", "filter-only", "nothing"]


@dataclass
class Member:
    """One member of a group-like resource: its id, `User` or `Group`, and the display the client sent."""

    value: str
    type: Optional[str] = None
    display: Optional[str] = None


@dataclass
class Unique:
    """A value that must stay unique among the resources of one type (lower-cased when compared without case)."""

    attribute: str
    value: str


@dataclass
class Resource:
    """A resource as stored. `version` changes on every write; `members` only when asked for."""

    id: str
    version: str
    data: Row
    members: Optional[List[Member]] = None


@dataclass
class Change:
    """A conditional change to an existing resource, applied atomically or not at all."""

    resource_type: str
    id: str
    data: Optional[Row]
    unique: List[Unique] = field(default_factory=list)
    clear_members: bool = False
    remove_members: List[str] = field(default_factory=list)
    add_members: List[Member] = field(default_factory=list)
    if_version: Optional[str] = None


@dataclass
class Sort:
    path: str
    descending: bool = False
    case_exact: bool = False


@dataclass
class Query:
    resource_type: str
    filter: Optional[Filter] = None
    sort: Optional[Sort] = None
    start_index: int = 1
    count: int = 100
    without_members: bool = False


@dataclass
class Page:
    """`items` and how much of the query made them: `everything` (filter, sort, paging; `total` is the number
    of matches before paging), `filter-only` (all matches, any order) or `nothing` (a superset of the matches)."""

    items: List[Resource]
    applied: Applied = "nothing"
    total: Optional[int] = None


class StorageError(Exception):
    """An expected storage failure, which the engine turns into the matching SCIM error response."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail

    @classmethod
    def not_found(cls) -> "StorageError":
        return cls("not-found")

    @classmethod
    def conflict(cls, attribute: str) -> "StorageError":
        """`attribute` is the unique column whose value is taken (409 `uniqueness`)."""
        return cls("conflict", attribute)

    @classmethod
    def precondition_failed(cls) -> "StorageError":
        return cls("precondition-failed")

    @classmethod
    def unsupported(cls) -> "StorageError":
        return cls("unsupported")

    @classmethod
    def unavailable(cls, detail: str) -> "StorageError":
        """A temporary failure (503); the detail is logged, not shown to clients."""
        return cls("unavailable", detail)


class Storage(Protocol):
    def get(self, resource_type: str, id: str, with_members: bool) -> Optional[Resource]:
        """The resource, or None when it does not exist."""

    def create(self, resource_type: str, row: Row, unique: List[Unique], members: List[Member]) -> Resource:
        """Stores a new resource with a new id; `StorageError.conflict` when a unique value is taken."""

    def update(self, change: Change) -> Resource:
        """Applies `change`; `not_found`, `precondition_failed` (`if_version`), `conflict`."""

    def delete(self, resource_type: str, id: str, if_version: Optional[str]) -> None:
        """Removes the resource, its unique values and its memberships (in other resources too)."""

    def search(self, query: Query) -> Page:
        """One resource type. `members.value eq "id"` in the filter asks for the groups having that member:
        answer it from the membership table (`SqlFilter` does, given it) or answer `applied="nothing"`."""

    def members(self, resource_type: str, id: str, start_index: int, count: int) -> List[Member]:
        """One page of a resource's members, in a stable order."""


class ResolvesPrincipal(Protocol):
    """Optional, for `/Me`: the (resource type, id) of the authenticated principal, or None."""

    def resolve_principal(self, principal: str) -> Optional[Tuple[str, str]]: ...
