"""The example application's storage: reads and writes its own rows (user, usergroup, usergroup_rel_user) in its
own column names. It knows nothing of SCIM beyond the Storage contract."""

from __future__ import annotations

import sqlite3
import threading
from importlib import resources
from typing import Any, Callable, Dict, List, Optional, TypeVar

from ..sql_filter import SqlFilter
from ..storage import Change, Member, Page, Query, Resource, Row, StorageError, Unique

T = TypeVar("T")

# Per resource type: table, writable columns, the unique column kept in canonical form, the membership table.
TYPES: Dict[str, Dict[str, Any]] = {
    "User": {
        "table": "user",
        "columns": ["username", "firstname", "lastname", "email", "phone", "official_code", "language", "active",
                    "created_at", "updated_at", "scim_extra"],
        "unique": {"username": "username_canonical"},
    },
    "Group": {
        "table": "usergroup",
        "columns": ["name", "external_id", "created_at", "updated_at", "scim_extra"],
        "unique": {"name": "name_canonical"},
        # Filters on members are answered from the membership table (see SqlFilter).
        "members": {"table": "usergroup_rel_user", "group": "usergroup_id", "member": "user_id", "id": "id"},
    },
}


def _type(resource_type: str) -> Dict[str, Any]:
    t = TYPES.get(resource_type)
    if t is None:
        raise StorageError.unsupported()
    return t


class AppStorage:
    """One sqlite3 connection, used by one thread at a time."""

    def __init__(self, db: sqlite3.Connection) -> None:
        db.isolation_level = None  # transactions are explicit (write)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        self.db = db
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str) -> "AppStorage":
        return cls(sqlite3.connect(path, timeout=10, check_same_thread=False))

    def install(self) -> None:
        """Creates the tables when missing."""
        self.db.executescript((resources.files(__package__) / "schema.sql").read_text())

    def _row(self, table: str, id: str) -> Optional[Dict[str, Any]]:
        r = self.db.execute(f"SELECT * FROM {table} WHERE id = ?", (id,)).fetchone()
        return None if r is None else dict(r)

    def _resource(self, t: Dict[str, Any], row: Dict[str, Any], members: Optional[List[Member]]) -> Resource:
        data = {c: row[c] for c in t["columns"] if c in row}
        return Resource(str(row["id"]), str(row["revision"]), data, members)

    def _values(self, t: Dict[str, Any], row: Row, unique: List[Unique]) -> Dict[str, Any]:
        """The row's known columns, and each unique column's canonical copy."""
        values = {c: v for c, v in row.items() if c in t["columns"]}
        for key in unique:
            if key.attribute in t["unique"]:
                values[t["unique"][key.attribute]] = key.value
        return values

    def get(self, resource_type: str, id: str, with_members: bool) -> Optional[Resource]:
        t = _type(resource_type)
        with self._lock:
            row = self._row(t["table"], id)
            if row is None:
                return None
            members = self._group_members(id) if with_members and resource_type == "Group" else None
            return self._resource(t, row, members)

    def create(self, resource_type: str, row: Row, unique: List[Unique], members: List[Member]) -> Resource:
        t = _type(resource_type)
        values = {**self._values(t, row, unique), "revision": 1}
        if resource_type == "User":
            if values.get("active") is None:
                values["active"] = 1
        else:
            values.pop("active", None)

        def insert() -> Resource:
            cols = list(values)
            cur = self.db.execute(
                f"INSERT INTO {t['table']} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [values[c] for c in cols],
            )
            id = str(cur.lastrowid)
            if resource_type == "Group":
                self._add_members(id, members)
            return self._resource(t, self._row(t["table"], id) or {}, None)

        return self._write(insert, t)

    def update(self, c: Change) -> Resource:
        t = _type(c.resource_type)

        def change() -> Resource:
            current = self._row(t["table"], c.id)
            if current is None:
                raise StorageError.not_found()
            if c.if_version is not None and c.if_version != str(current["revision"]):
                raise StorageError.precondition_failed()
            values = {} if c.data is None else self._values(t, c.data, c.unique)
            values["revision"] = current["revision"] + 1
            assignments = ", ".join(f"{col} = ?" for col in values)
            self.db.execute(f"UPDATE {t['table']} SET {assignments} WHERE id = ?", [*values.values(), c.id])
            if c.resource_type == "Group":
                if c.clear_members:
                    self.db.execute("DELETE FROM usergroup_rel_user WHERE usergroup_id = ?", (c.id,))
                self.db.executemany(
                    "DELETE FROM usergroup_rel_user WHERE usergroup_id = ? AND user_id = ?",
                    [(c.id, user) for user in c.remove_members],
                )
                self._add_members(c.id, c.add_members)
            return self._resource(t, self._row(t["table"], c.id) or {}, None)

        return self._write(change, t)

    def delete(self, resource_type: str, id: str, if_version: Optional[str]) -> None:
        t = _type(resource_type)

        def remove() -> None:
            current = self._row(t["table"], id)
            if current is None:
                raise StorageError.not_found()
            if if_version is not None and if_version != str(current["revision"]):
                raise StorageError.precondition_failed()
            if resource_type == "User":
                # The groups that lose a member change too.
                self.db.execute(
                    "UPDATE usergroup SET revision = revision + 1 WHERE id IN "
                    "(SELECT usergroup_id FROM usergroup_rel_user WHERE user_id = ?)",
                    (id,),
                )
            self.db.execute(f"DELETE FROM {t['table']} WHERE id = ?", (id,))

        self._write(remove, t)

    def search(self, q: Query) -> Page:
        t = _type(q.resource_type)
        columns = {c: c for c in ["id", *t["columns"]]}
        f = SqlFilter.where(q.filter, columns, t.get("members"))
        order = f.order_by(q.sort, "id")
        with_members = not q.without_members and q.resource_type == "Group"
        with self._lock:
            if f.exact:
                sql = f"SELECT * FROM {t['table']} WHERE {f.sql} {order} LIMIT ? OFFSET ?"
                rows = self.db.execute(sql, [*f.params, q.count, q.start_index - 1]).fetchall()
            else:
                rows = self.db.execute(f"SELECT * FROM {t['table']} WHERE {f.sql}", f.params).fetchall()
            items = [
                self._resource(t, dict(r), self._group_members(str(r["id"])) if with_members else None) for r in rows
            ]
            if not f.exact:
                return Page(items, "nothing")
            return Page(items, "everything", self._total(t, f, q, len(items)))

    def _total(self, t: Dict[str, Any], f: SqlFilter, q: Query, got: int) -> int:
        """The number of matches: known without counting when the page is not full."""
        if got < q.count and (got > 0 or q.start_index == 1):
            return q.start_index - 1 + got
        return int(self.db.execute(f"SELECT COUNT(*) FROM {t['table']} WHERE {f.sql}", f.params).fetchone()[0])

    def members(self, resource_type: str, id: str, start_index: int, count: int) -> List[Member]:
        t = _type(resource_type)
        with self._lock:
            if self._row(t["table"], id) is None:
                raise StorageError.not_found()
            return self._group_members(id, start_index, count) if resource_type == "Group" else []

    def _group_members(self, group_id: str, start_index: int = 1, count: int = -1) -> List[Member]:
        # The display the client sent, else the user's name.
        rows = self.db.execute(
            "SELECT u.id, COALESCE(r.display, u.username) AS display FROM usergroup_rel_user r "
            "JOIN user u ON u.id = r.user_id WHERE r.usergroup_id = ? ORDER BY r.id LIMIT ? OFFSET ?",
            (group_id, count, start_index - 1),
        ).fetchall()
        return [Member(str(r["id"]), "User", r["display"]) for r in rows]

    def _add_members(self, group_id: str, members: List[Member]) -> None:
        """Only users can be members here; other ids are ignored. Adding a member again updates its display."""
        self.db.executemany(
            "INSERT INTO usergroup_rel_user (usergroup_id, user_id, display) SELECT ?, id, ? FROM user WHERE id = ? "
            "ON CONFLICT (usergroup_id, user_id) DO UPDATE SET display = excluded.display",
            [(group_id, m.display, m.value) for m in members if (m.type or "User") == "User"],
        )

    def _write(self, f: Callable[[], T], t: Dict[str, Any]) -> T:
        """Runs `f` in a transaction; a taken unique value becomes a conflict on the mapped column."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = f()
            except BaseException as e:
                self.db.execute("ROLLBACK")
                if isinstance(e, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(e):
                    raise StorageError.conflict(next(iter(t["unique"]))) from e
                raise
            self.db.execute("COMMIT")
            return result
