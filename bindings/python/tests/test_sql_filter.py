"""SqlFilter against real SQLite tables (ported from the PHP SqlFilter tests)."""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List

from scimkit import Sort, SqlFilter

COLUMNS = {"id": "id", "username": "username", "email": "email", "active": "active"}
MEMBERS = {"table": "rel", "group": "group_id", "member": "member_id", "id": "g.id"}


def eq(path: str, value: Any, type: str = "text", case_exact: bool = False, op: str = "eq") -> Dict[str, Any]:
    return {"op": op, "path": path, "value": value, "type": type, "caseExact": case_exact}


def member(id: str, case_exact: bool = True, op: str = "eq") -> Dict[str, Any]:
    return eq(SqlFilter.MEMBER_PATH, id, "text", case_exact, op)


def names(f: SqlFilter) -> List[str]:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, username TEXT, email TEXT, active INTEGER);"
        "INSERT INTO t VALUES (1, 'Alice', 'a@x.org', 1), (2, 'bob', NULL, 0), (3, 'carol_1', 'c@y.com', 1),"
        " (4, 'Ève', 'e@x.org', 1)"
    )
    return [r[0] for r in db.execute(f"SELECT username FROM t WHERE {f.sql} ORDER BY id", f.params)]


def groups(f: SqlFilter) -> List[str]:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE g (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE rel (group_id INTEGER, member_id TEXT);"
        "INSERT INTO g VALUES (1, 'admins'), (2, 'staff'), (3, 'empty');"
        "INSERT INTO rel VALUES (1, '7'), (2, '7'), (2, '8'), (1, 'Ab')"
    )
    return [r[0] for r in db.execute(f"SELECT name FROM g WHERE {f.sql} ORDER BY id", f.params)]


def test_comparisons_ignore_case_unless_case_exact() -> None:
    f = SqlFilter.where(eq("username", "alice"), COLUMNS)
    assert names(f) == ["Alice"] and f.exact
    assert names(SqlFilter.where(eq("username", "alice", case_exact=True), COLUMNS)) == []


def test_text_beyond_ascii_compared_without_case_is_left_to_the_engine() -> None:
    # SQLite's LOWER folds ASCII only: `lower('Ève') = lower('ève')` is false there, true for the engine.
    f = SqlFilter.where(eq("username", "ève"), COLUMNS)
    assert (f.sql, f.exact) == ("1=1", False)
    assert "Ève" in names(f)
    f = SqlFilter.where(eq("username", "Ève", case_exact=True), COLUMNS)
    assert names(f) == ["Ève"] and f.exact


def test_booleans_nulls_presence_and_negation() -> None:
    assert names(SqlFilter.where(eq("active", True, "boolean"), COLUMNS)) == ["Alice", "carol_1", "Ève"]
    assert names(SqlFilter.where(eq("email", None, "null"), COLUMNS)) == ["bob"]
    assert names(SqlFilter.where({"op": "pr", "path": "email"}, COLUMNS)) == ["Alice", "carol_1", "Ève"]
    assert names(SqlFilter.where({"op": "not", "arg": eq("username", "bob")}, COLUMNS)) == ["Alice", "carol_1", "Ève"]
    assert names(SqlFilter.where(eq("username", "bob", op="ne"), COLUMNS)) == ["Alice", "carol_1", "Ève"]


def test_like_wildcards_in_values_are_literal() -> None:
    assert names(SqlFilter.where(eq("username", "L_", op="co"), COLUMNS)) == ["carol_1"]
    assert names(SqlFilter.where(eq("username", "%", op="co"), COLUMNS)) == []
    assert names(SqlFilter.where(eq("email", ".ORG", op="ew"), COLUMNS)) == ["Alice", "Ève"]


def test_unknown_columns_widen_the_result_and_say_it_is_not_exact() -> None:
    f = SqlFilter.where({"op": "and", "args": [eq("username", "bob"), eq("title", "x")]}, COLUMNS)
    assert names(f) == ["bob"] and not f.exact
    assert SqlFilter.where({"op": "or", "args": [eq("username", "bob"), eq("title", "x")]}, COLUMNS).sql == "1=1"
    f = SqlFilter.where({"op": "not", "arg": eq("title; DROP TABLE t", "x")}, COLUMNS)
    assert (f.sql, f.exact) == ("1=1", False)


def test_order_by_listed_columns_only() -> None:
    f = SqlFilter.where(None, COLUMNS)
    order = f.order_by(Sort("username", descending=True), "id")
    assert order == "ORDER BY (username IS NULL) ASC, LOWER(username) DESC, id" and f.exact
    assert f.order_by(Sort("title"), "id") == "ORDER BY id" and not f.exact


def test_membership_is_one_subquery_on_the_membership_table() -> None:
    cols = {"id": "g.id", "name": "name"}
    f = SqlFilter.where(member("8"), cols, MEMBERS)
    assert f.sql == "g.id IN (SELECT group_id FROM rel WHERE member_id = ?)"
    assert (groups(f), f.exact) == (["staff"], True)
    # A page of users at once: one IN list.
    f = SqlFilter.where({"op": "or", "args": [member("8"), member("7"), member("9")]}, cols, MEMBERS)
    assert f.sql == "g.id IN (SELECT group_id FROM rel WHERE member_id IN (?, ?, ?))"
    assert (groups(f), f.exact, f.params) == (["admins", "staff"], True, ["8", "7", "9"])
    f = SqlFilter.where({"op": "and", "args": [eq("name", "ADMINS"), member("7")]}, cols, MEMBERS)
    assert (groups(f), f.exact) == (["admins"], True)
    assert groups(SqlFilter.where({"op": "not", "arg": member("7")}, cols, MEMBERS)) == ["empty"]


def test_membership_ids_compare_without_case_only_when_asked() -> None:
    cols = {"id": "g.id"}
    assert groups(SqlFilter.where(member("ab", False), cols, MEMBERS)) == ["admins"]
    assert groups(SqlFilter.where(member("ab"), cols, MEMBERS)) == []
    f = SqlFilter.where({"op": "or", "args": [member("ab", False), member("8", False)]}, cols, MEMBERS)
    assert f.sql == "g.id IN (SELECT group_id FROM rel WHERE member_id = ? OR LOWER(member_id) = LOWER(?))"
    assert (groups(f), f.exact) == (["admins", "staff"], True)


def test_membership_without_its_table_or_beyond_equality_is_left_to_the_engine() -> None:
    cols = {"id": "g.id", "name": "name"}
    f = SqlFilter.where(member("7"), cols)
    assert (f.sql, f.exact) == ("1=1", False)
    f = SqlFilter.where(member("7", op="co"), cols, MEMBERS)
    assert (f.sql, f.exact) == ("1=1", False)
    f = SqlFilter.where({"op": "or", "args": [member("7"), eq("title", "x")]}, cols, MEMBERS)
    assert (groups(f), f.exact) == (["admins", "staff", "empty"], False)
    f = SqlFilter.where({"op": "and", "args": [member("8"), eq("members.display", "x")]}, cols, MEMBERS)
    assert (groups(f), f.exact) == (["staff"], False)
