"""The engine's pushed-down filter (column names under a mapping) as a parameterised SQLite WHERE clause.

Only the listed columns are ever written into SQL; values are always parameters. A part it cannot express (an
unknown column, an element match, a case-exact substring, text compared without case beyond ASCII, which SQLite's
LOWER does not fold) is left out so that the result is a superset: `exact` then says so, and the storage answers
`applied="nothing"` for the engine to narrow.

Membership is no column: `members.value eq "id"` (MEMBER_PATH; how the engine finds a User's groups, and what
clients send) arrives under that reserved path. Given the membership table, it becomes
`id IN (SELECT group FROM rel WHERE member = ?)`, and an `or` of such equalities one `member IN (…)`; without it,
the comparison is left out like an unknown column.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from .storage import Filter, Sort

_OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


class SqlFilter:
    MEMBER_PATH = "members.value"
    """The reserved path of a membership comparison."""

    def __init__(self, columns: Mapping[str, str], members: Optional[Mapping[str, str]] = None) -> None:
        """`columns`: column name from the engine -> SQL expression (a quoted column). `members`: the membership
        table of the searched type (SQL identifiers, never client input): `table` holds one row per membership,
        its `group` column the group's id and its `member` column the member's id; `id` is the searched table's
        id expression. Index `member` for a User's groups to be one lookup."""
        self.columns = dict(columns)
        self.members = dict(members) if members is not None else None
        self.sql = "1=1"
        self.params: List[Any] = []
        self.exact = True
        """Whether `sql` selects exactly the matches (else a superset)."""

    @classmethod
    def where(
        cls, filter: Optional[Filter], columns: Mapping[str, str], members: Optional[Mapping[str, str]] = None
    ) -> "SqlFilter":
        f = cls(columns, members)
        if filter is not None:
            f.sql = f._node(filter) or "1=1"
        return f

    def order_by(self, sort: Optional[Sort], tie_breaker: str) -> str:
        """`ORDER BY …` for the engine's sort key; an unlisted column sorts by `tie_breaker` and is not exact."""
        if sort is None:
            return f"ORDER BY {tie_breaker}"
        col = self.columns.get(sort.path)
        if col is None:
            self.exact = False
            return f"ORDER BY {tie_breaker}"
        expr = col if sort.case_exact else f"LOWER({col})"
        direction = "DESC" if sort.descending else "ASC"
        # Absent values last, as the engine orders them.
        return f"ORDER BY ({col} IS NULL) ASC, {expr} {direction}, {tie_breaker}"

    def _lost(self) -> Optional[str]:
        self.exact = False
        return None

    def _drop_from(self, params: int) -> Optional[str]:
        """Leaves out a part already translated in pieces: the parameters its pieces took go too."""
        del self.params[params:]
        return None

    def _column(self, path: str) -> Optional[str]:
        col = self.columns.get(path)
        return col if col is not None else self._lost()

    def _node(self, n: Filter) -> Optional[str]:
        op = n["op"]
        if op == "and":
            parts = [p for p in (self._node(a) for a in n["args"]) if p is not None]
            return "(" + " AND ".join(parts) + ")" if parts else None
        if op == "or":
            if n["args"] and all(self._is_membership(a) for a in n["args"]):
                return self._member_of(n["args"])
            params = len(self.params)
            ors = [self._node(a) for a in n["args"]]
            return self._drop_from(params) if None in ors else "(" + " OR ".join(ors) + ")"  # type: ignore
        if op == "not":
            params = len(self.params)
            outer, self.exact = self.exact, True
            inner = self._node(n["arg"])
            inner_exact = self.exact
            self.exact = outer and inner_exact
            return f"(NOT {inner})" if inner_exact and inner is not None else self._drop_from(params)
        if op == "pr":
            col = self._column(n["path"])
            return None if col is None else f"({col} IS NOT NULL AND {col} <> '')"
        if op == "match":
            return self._lost()
        return self._compare(n)

    def _is_membership(self, n: Any) -> bool:
        return (
            self.members is not None
            and isinstance(n, dict)
            and n.get("path") == self.MEMBER_PATH
            and n.get("op") == "eq"
            and n.get("type") == "text"
        )

    def _member_of(self, equalities: List[Dict[str, Any]]) -> str:
        """Groups holding any of the members: one subquery on the membership table. An id compared without case
        uses `=` too when it has no letters (numbers, most often), so that the member index serves it."""
        assert self.members is not None
        m = self.members
        plain: List[str] = []
        folded: List[str] = []
        for n in equalities:
            v = str(n["value"])
            (plain if n["caseExact"] or v.lower() == v.upper() else folded).append(v)
        conditions = []
        if plain:
            member = m["member"]
            conditions.append(f"{member} = ?" if len(plain) == 1 else f"{member} IN ({', '.join('?' * len(plain))})")
        conditions.extend(f"LOWER({m['member']}) = LOWER(?)" for _ in folded)
        self.params.extend(plain + folded)
        return f"{m['id']} IN (SELECT {m['group']} FROM {m['table']} WHERE {' OR '.join(conditions)})"

    def _compare(self, n: Dict[str, Any]) -> Optional[str]:
        if n["path"] == self.MEMBER_PATH:
            # Any other comparison of members is left to the engine.
            return self._member_of([n]) if self._is_membership(n) else self._lost()
        col = self._column(n["path"])
        if col is None:
            return None
        op, value, kind = n["op"], n["value"], n["type"]
        if kind == "null":
            return f"{col} IS NULL" if op == "eq" else f"{col} IS NOT NULL" if op == "ne" else self._lost()
        if isinstance(value, bool):
            value = int(value)
        text = kind == "text"
        ignore_case = text and not n["caseExact"]
        if ignore_case and not str(value).isascii():
            return self._lost()
        if op in _OPS:
            lhs, rhs = (f"LOWER({col})", "LOWER(?)") if ignore_case else (col, "?")
            self.params.append(value)
            sql = f"{lhs} {_OPS[op]} {rhs}"
            return f"({col} IS NULL OR {sql})" if op == "ne" else sql
        escaped = _escape_like(str(value))
        pattern = {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}.get(op)
        if pattern is None:
            return self._lost()
        if not ignore_case:
            # LIKE ignores case in SQLite: a superset the engine narrows.
            self.exact = False
        self.params.append(pattern)
        return f"LOWER({col}) LIKE LOWER(?) ESCAPE '!'" if ignore_case else f"{col} LIKE ? ESCAPE '!'"


def _escape_like(s: str) -> str:
    return s.replace("!", "!!").replace("%", "!%").replace("_", "!_")
