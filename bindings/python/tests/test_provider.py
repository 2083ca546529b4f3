"""The Provider over the real component (ported from the PHP and Java provider tests)."""

from __future__ import annotations

import concurrent.futures
import json
import sqlite3
import urllib.parse
from typing import Any, List, Optional, Tuple

import pytest

import scimkit._runtime
from scimkit import ConfigError, Hooks, Member, Provider, Page, Query, Resource, SqlFilter, StorageError
from scimkit.example.config import config
from scimkit.example.storage import AppStorage

from conftest import BASE_URL, app_storage, provider, send

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def user(user_name: str, **more: Any) -> dict:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
            "name": {"givenName": "Barbara"}, "active": True, "title": "Tour guide", **more}


def filter_query(f: str, **more: str) -> str:
    return urllib.parse.urlencode({"filter": f, **more}, quote_via=urllib.parse.quote)


class Recording:
    """The example's storage, recording every operation and optionally failing."""

    def __init__(self, inner: Optional[AppStorage] = None) -> None:
        self.inner = inner or app_storage()
        self.ops: List[Tuple[str, Any]] = []
        self.pages: List[Page] = []
        self.fail_with: Optional[Exception] = None

    def _record(self, op: str, arg: Any) -> None:
        self.ops.append((op, arg))
        if self.fail_with is not None:
            raise self.fail_with

    def get(self, resource_type: str, id: str, with_members: bool) -> Optional[Resource]:
        self._record("get", id)
        return self.inner.get(resource_type, id, with_members)

    def create(self, resource_type: str, row: dict, unique: list, members: list) -> Resource:
        self._record("create", row)
        return self.inner.create(resource_type, row, unique, members)

    def update(self, change: Any) -> Resource:
        self._record("update", change)
        return self.inner.update(change)

    def delete(self, resource_type: str, id: str, if_version: Optional[str]) -> None:
        self._record("delete", id)
        self.inner.delete(resource_type, id, if_version)

    def search(self, query: Query) -> Page:
        self._record("search", query)
        page = self.inner.search(query)
        self.pages.append(page)
        return page

    def members(self, resource_type: str, id: str, start_index: int, count: int) -> List[Member]:
        self._record("members", id)
        return self.inner.members(resource_type, id, start_index, count)

    def last(self, op: str) -> Any:
        return next(arg for o, arg in reversed(self.ops) if o == op)


def test_users_are_rows_in_the_applications_columns(db: sqlite3.Connection) -> None:
    p = provider(app_storage(db))
    body = {"userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"type": "work", "value": "b@example.com"}], "active": False}
    r = send(p, "POST", "/Users", body)
    assert r.status == 201, r.text
    id = r.json()["id"]
    assert r.header("location") == f"{BASE_URL}/Users/{id}"
    row = db.execute("SELECT username, username_canonical, firstname, email, active FROM user WHERE id = ?",
                     (id,)).fetchone()
    assert tuple(row) == ("bjensen", "bjensen", "Barbara", "b@example.com", 0)
    got = send(p, "GET", f"/Users/{id}")
    assert got.header("ETag") == 'W/"1"' and got.json()["active"] is False
    listed = send(p, "GET", "/Users", query=filter_query('userName eq "BJENSEN"')).json()
    assert listed["totalResults"] == 1
    taken = send(p, "POST", "/Users", {"userName": "BJensen"})
    assert taken.status == 409 and "uniqueness" in taken.text
    assert send(p, "DELETE", f"/Users/{id}").status == 204
    gone = send(p, "GET", f"/Users/{id}")
    assert gone.status == 404 and ERROR in gone.text


def test_replace_and_patch_change_the_version(db: sqlite3.Connection) -> None:
    p = provider(app_storage(db))
    id = send(p, "POST", "/Users", user("bjensen")).json()["id"]
    put = send(p, "PUT", f"/Users/{id}", user("bjensen2"))
    assert put.status == 200 and put.json()["userName"] == "bjensen2"
    patch = send(p, "PATCH", f"/Users/{id}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                              "Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert patch.status == 200 and patch.json()["active"] is False
    assert put.header("ETag") != patch.header("ETag")
    stale = p.handle("DELETE", f"/Users/{id}", "", {"If-Match": put.header("ETag") or ""}, None)
    assert stale.status == 412
    assert db.execute("SELECT active FROM user WHERE id = ?", (id,)).fetchone()[0] == 0


def test_attributes_without_a_column_are_kept_in_the_rest_column(db: sqlite3.Connection) -> None:
    p = provider(app_storage(db))
    r = send(p, "POST", "/Users", {"userName": "a", "title": "Boss", ENTERPRISE: {"department": "R&D"}})
    assert r.status == 201, r.text
    id = r.json()["id"]
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": "m1"}}]}
    assert send(p, "PATCH", f"/Users/{id}", patch).status == 200
    extra = json.loads(db.execute("SELECT scim_extra FROM user WHERE id = ?", (id,)).fetchone()[0])
    assert extra[ENTERPRISE] == {"department": "R&D", "manager": {"value": "m1"}}
    got = send(p, "GET", f"/Users/{id}").json()
    assert (got["title"], got[ENTERPRISE]["department"], got[ENTERPRISE]["manager"]["value"]) == ("Boss", "R&D", "m1")


def test_group_members_live_in_the_relation_table(db: sqlite3.Connection) -> None:
    p = provider(app_storage(db))
    a = send(p, "POST", "/Users", {"userName": "a"}).json()["id"]
    b = send(p, "POST", "/Users", {"userName": "b"}).json()["id"]
    g = send(p, "POST", "/Groups", {"displayName": "Staff", "members": [{"value": a}, {"value": b}]})
    assert g.status == 201, g.text
    gid = g.json()["id"]
    assert db.execute("SELECT COUNT(*) FROM usergroup_rel_user WHERE usergroup_id = ?", (gid,)).fetchone()[0] == 2
    read = send(p, "GET", f"/Groups/{gid}").json()
    assert [m["display"] for m in read["members"]] == ["a", "b"], "without a display sent, the user name"
    put = send(p, "PUT", f"/Groups/{gid}", {"displayName": "Staff", "members": [{"value": b, "display": "Bee"}]})
    assert put.status == 200, put.text
    read = send(p, "GET", f"/Groups/{gid}").json()
    assert read["members"] == [{"$ref": f"{BASE_URL}/Users/{b}", "display": "Bee", "type": "User", "value": b}]
    send(p, "DELETE", f"/Users/{b}")
    after = send(p, "GET", f"/Groups/{gid}")
    assert after.json().get("members", []) == []
    assert after.header("ETag") == 'W/"3"', "a removed member changes the group"


def test_quotes_control_characters_and_text_beyond_the_bmp_round_trip() -> None:
    storage = Recording()
    p = provider(storage)
    given = 'Zoë "Q" \n\t \u0001 \U0001F600 中'
    created = send(p, "POST", "/Users", user("zoe", name={"givenName": given}))
    assert created.status == 201, created.text
    assert storage.last("create")["firstname"] == given
    got = send(p, "GET", f"/Users/{created.json()['id']}")
    assert got.json()["name"]["givenName"] == given


def test_a_filter_reaches_the_storage_as_a_tree_in_its_column_names() -> None:
    storage = Recording()
    p = provider(storage)
    for name in ("alice", "bob", "carol"):
        assert send(p, "POST", "/Users", user(name)).status == 201
    listed = send(p, "GET", "/Users", query=filter_query('userName eq "Bob" and active eq true'))
    assert listed.status == 200 and listed.json()["totalResults"] == 1
    assert listed.json()["Resources"][0]["userName"] == "bob"
    q = next(arg for op, arg in reversed(storage.ops) if op == "search" and arg.resource_type == "User")
    assert q.filter["op"] == "and"
    first, second = q.filter["args"]
    assert (first["path"], first["op"], first["value"], first["type"], first["caseExact"]) == (
        "username", "eq", "Bob", "text", False)
    # `active` is a 0/1 column (`boolean01`): the literal arrives as the column holds it.
    assert (second["path"], second["value"], second["type"]) == ("active", 1, "integer")
    assert send(p, "GET", "/Users", query=filter_query('userName sw "z"')).json()["totalResults"] == 0


class Unfiltered(Recording):
    """Every row of the type, unfiltered and unsorted, for the engine to filter alone."""

    def search(self, query: Query) -> Page:
        everything = Query(query.resource_type, None, None, 1, 1_000_000, query.without_members)
        return Page(self.inner.search(everything).items, "nothing")


def test_the_examples_filter_push_down_keeps_exactly_the_matches_the_engine_finds_alone() -> None:
    narrowed, plain = provider(), provider(Unfiltered())
    names = ["alice", "Bob", "carol", "dave", "Ève", "frank"]
    for i, name in enumerate(names):
        body = user(name) if i % 2 == 0 else {**user(name), "active": False, "name": None}
        body = {k: v for k, v in body.items() if v is not None}
        for p in (narrowed, plain):
            assert send(p, "POST", "/Users", body).status == 201
    totals = set()
    for f in ['userName eq "bob"', 'userName ne "bob"', 'userName sw "C"', 'userName co "a"', 'userName ew "e"',
              'userName eq "ève"', "active eq true", "active eq false", "not (active eq true)", "name.givenName pr",
              "not (name.givenName pr)", 'title eq "Tour guide"', 'name.givenName eq "barbara" or userName eq "bob"',
              'userName gt "c"', 'not (userName eq "alice" and active eq true)',
              'emails[value co "x"] or active eq false', "name.givenName eq null", "not (name.givenName eq null)",
              'userName ne "Bob" and active eq false']:
        q = filter_query(f, attributes="userName", sortBy="userName")
        a, b = send(narrowed, "GET", "/Users", query=q), send(plain, "GET", "/Users", query=q)
        assert a.status == 200 and a.json() == b.json(), f
        totals.add(a.json()["totalResults"])
    assert len(totals) > 3, "the filters select different rows"


def test_a_users_groups_are_one_membership_query_the_storage_answers_exactly(db: sqlite3.Connection) -> None:
    storage = Recording(app_storage(db))
    p = provider(storage)
    id = send(p, "POST", "/Users", {"userName": "bjensen"}).json()["id"]
    other = send(p, "POST", "/Users", {"userName": "hal"}).json()["id"]
    send(p, "POST", "/Groups", {"displayName": "Admins", "members": [{"value": id}]})
    send(p, "POST", "/Groups", {"displayName": "Others", "members": [{"value": other}]})
    storage.ops.clear()
    storage.pages.clear()
    got = send(p, "GET", f"/Users/{id}").json()
    assert [g["display"] for g in got["groups"]] == ["Admins"]
    searches = [arg for op, arg in storage.ops if op == "search"]
    assert len(searches) == 1, "one search for the groups"
    q = searches[0]
    assert (q.resource_type, q.filter["path"], q.filter["value"], q.without_members) == (
        "Group", SqlFilter.MEMBER_PATH, id, True)
    assert (storage.pages[0].applied, storage.pages[0].total) == ("everything", 1)
    plan = db.execute("EXPLAIN QUERY PLAN SELECT * FROM usergroup WHERE id IN "
                      "(SELECT usergroup_id FROM usergroup_rel_user WHERE user_id = ?)", (id,)).fetchall()
    assert any("USING INDEX usergroup_rel_user_user" in row[3] for row in plan), "the member index serves it"
    # A client's filter on members, and an `or` of them as for a page of users, are answered the same way.
    one = send(p, "GET", "/Groups", query=filter_query(f'members.value eq "{id}"')).json()
    assert (one["totalResults"], one["Resources"][0]["displayName"]) == (1, "Admins")
    both = send(p, "GET", "/Groups", query=filter_query(f'members.value eq "{id}" or members.value eq "{other}"'))
    assert both.json()["totalResults"] == 2
    assert storage.pages[-1].applied == "everything"


class Failing:
    def get(self, resource_type: str, id: str, with_members: bool) -> Optional[Resource]:
        if id == "gone":
            raise StorageError.not_found()
        raise LookupError("database exploded")

    def create(self, resource_type: str, row: dict, unique: list, members: list) -> Resource:
        raise StorageError.unavailable("locked")

    def update(self, change: Any) -> Resource:
        raise TypeError("bad")

    def delete(self, resource_type: str, id: str, if_version: Optional[str]) -> None:
        raise StorageError.not_found()

    def search(self, query: Query) -> Page:
        return Page([], "everything", 0)

    def members(self, resource_type: str, id: str, start_index: int, count: int) -> List[Member]:
        return []


def test_storage_exceptions_become_scim_errors_not_crashes(caplog: pytest.LogCaptureFixture) -> None:
    p = provider(Failing())
    r = send(p, "GET", "/Users/1")
    assert r.status == 500 and ERROR in r.text
    assert "exploded" not in r.text, "internals are not shown to clients"
    assert "database exploded" in caplog.text, "but they are logged"
    assert send(p, "GET", "/Users/gone").status == 404
    assert send(p, "POST", "/Users", {"userName": "x"}).status == 503
    assert send(p, "GET", "/Users").json()["totalResults"] == 0


def test_a_throwing_storage_is_a_500_or_503_and_the_next_request_is_served() -> None:
    storage = Recording()
    p = provider(storage)
    id = send(p, "POST", "/Users", user("dave")).json()["id"]
    storage.fail_with = RuntimeError("the disk is on fire")
    failed = send(p, "GET", f"/Users/{id}")
    assert failed.status == 500 and ERROR in failed.text and "on fire" not in failed.text
    storage.fail_with = StorageError.unavailable("the database restarts")
    unavailable = send(p, "GET", "/Users")
    assert unavailable.status == 503 and unavailable.json()["status"] == "503"
    storage.fail_with = RecursionError()
    assert send(p, "POST", "/Users", user("erin")).status == 500
    storage.fail_with = None
    again = send(p, "GET", f"/Users/{id}")
    assert again.status == 200 and again.json()["userName"] == "dave"


@pytest.mark.parametrize("answer", [
    Resource(None, None, {}),  # type: ignore[arg-type]
    Resource("1", "1", {"username": "\ud800"}),
    Resource("1", "1", {"username": object()}),
    "not a resource",
])
def test_a_storage_answering_nonsense_is_a_500(answer: Any) -> None:
    class Nonsense(Recording):
        def get(self, resource_type: str, id: str, with_members: bool) -> Any:
            return answer

    p = provider(Nonsense())
    r = send(p, "GET", "/Users/1")
    assert r.status == 500 and ERROR in r.text


def count_instances(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    made = [0]
    real = scimkit._runtime.Instance.__init__

    def counting(self: Any, *args: Any) -> None:
        made[0] += 1
        real(self, *args)

    monkeypatch.setattr(scimkit._runtime.Instance, "__init__", counting)
    return made


def test_an_instance_is_reused_across_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    made = count_instances(monkeypatch)
    p = provider()
    for i in range(50):
        assert send(p, "POST", "/Users", {"userName": f"u{i}"}).status == 201
    assert made[0] == 1


def test_a_trap_discards_the_instance_answers_500_and_the_next_request_is_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = count_instances(monkeypatch)
    settings = {**config(BASE_URL), "limits": {"maxBodyBytes": 64 << 20}}
    p = Provider(settings, app_storage(), max_memory_bytes=3 << 20)
    assert send(p, "GET", "/ServiceProviderConfig").status == 200
    # Past the instance's memory cap the engine's allocation fails: a trap.
    huge = {"userName": "big", "title": "x" * (3 << 20)}
    trapped = send(p, "POST", "/Users", huge)
    assert trapped.status == 500 and ERROR in trapped.text
    assert made[0] == 1
    assert send(p, "GET", "/ServiceProviderConfig").status == 200
    assert made[0] == 2, "the trapped instance was dropped, a new one serves"
    assert send(p, "POST", "/Users", {"userName": "small"}).status == 201
    assert made[0] == 2


def test_each_provider_answers_from_its_own_storage() -> None:
    a, b = provider(), provider()
    id = send(a, "POST", "/Users", {"userName": "only-in-a"}).json()["id"]
    assert send(b, "GET", f"/Users/{id}").status == 404
    assert send(a, "GET", f"/Users/{id}").json()["userName"] == "only-in-a"


def test_concurrent_requests_from_eight_threads() -> None:
    p = provider()

    def round_trips(thread: int) -> int:
        ok = 0
        for i in range(25):
            name = f"u{thread}-{i}"
            c = send(p, "POST", "/Users", user(name))
            g = send(p, "GET", f"/Users/{c.json()['id']}")
            ok += c.status == 201 and g.status == 200 and g.json()["userName"] == name
        return ok

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(round_trips, range(8))) == 200
    assert send(p, "GET", "/Users", query="count=1").json()["totalResults"] == 200


def test_a_refused_configuration_raises_naming_the_key() -> None:
    with pytest.raises(ConfigError) as refused:
        provider_with({"baseUrl": "https://x", "bogus": 1})
    assert "bogus" in str(refused.value) and refused.value.kind == "invalid"
    with pytest.raises(ConfigError) as not_json:
        provider_with("{not json")
    assert not_json.value.kind == "not-json"


def provider_with(settings: Any) -> None:
    Provider(settings, app_storage())


class WithPrincipals(Recording):
    def resolve_principal(self, principal: str) -> Optional[Tuple[str, str]]:
        found = self.inner.search(Query("User", {"op": "eq", "path": "username", "value": principal, "type": "text",
                                                 "caseExact": False}, count=1))
        return ("User", found.items[0].id) if found.items else None


def test_me_is_the_authenticated_principal_when_the_storage_resolves_it() -> None:
    p = provider(WithPrincipals())
    id = send(p, "POST", "/Users", user("bjensen")).json()["id"]
    me = p.handle("GET", "/Me", "", {}, None, principal="bjensen")
    assert me.status == 200 and me.json()["id"] == id
    assert p.handle("GET", "/Me", "", {}, None, principal="nobody").status == 404
    assert provider().handle("GET", "/Me", "", {}, None, principal="bjensen").status == 501


def test_hooks_veto_a_create_and_see_the_patch_before_and_after() -> None:
    class Reserved(Hooks):
        def __init__(self) -> None:
            self.changed_list: List[Tuple[dict, str]] = []

        def check(self, change: dict) -> Any:
            if (change["after"] or {}).get("userName") == "admin":
                return Hooks.refuse(400, "the userName admin is reserved", "invalidValue")
            if (change["after"] or {}).get("userName") == "shout":
                return Hooks.adjust({**change["after"], "title": "ADJUSTED"})
            return None

        def changed(self, change: dict, version: str) -> None:
            self.changed_list.append((change, version))

    hooks = Reserved()
    p = provider(hooks=hooks)
    r = send(p, "POST", "/Users", {"userName": "admin"})
    assert r.status == 400, r.body
    assert (r.json()["scimType"], r.json()["detail"]) == ("invalidValue", "the userName admin is reserved")
    assert send(p, "GET", "/Users").json()["totalResults"] == 0
    assert hooks.changed_list == []

    r = send(p, "POST", "/Users", {"userName": "bjensen", "password": "Pw-123456", "name": {"givenName": "Barbara"}})
    assert r.status == 201, r.body
    uid = r.json()["id"]
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "path": "name.givenName", "value": "Babs"}]}
    assert send(p, "PATCH", f"/Users/{uid}", patch).status == 200
    (created, _), (patched, version) = hooks.changed_list
    assert (created["id"], created["operations"]) == (uid, ["create"])
    assert patched["operations"] == ["patch"]
    assert patched["paths"] == ["name.givenName"]
    assert (patched["before"]["name"]["givenName"], patched["after"]["name"]["givenName"]) == ("Barbara", "Babs")
    assert "password" not in patched["before"] and "password" not in patched["after"]
    assert version != ""

    r = send(p, "POST", "/Users", {"userName": "shout"})
    assert (r.status, r.json().get("title")) == (201, "ADJUSTED"), r.body


def test_a_hook_that_raises_refuses_the_write_with_a_500() -> None:
    class Broken(Hooks):
        def check(self, change: dict) -> Any:
            raise RuntimeError("boom")

    p = provider(hooks=Broken())
    r = send(p, "POST", "/Users", {"userName": "bjensen"})
    assert r.status == 500, r.body
    assert b"boom" not in r.body
    assert send(p, "GET", "/Users").json()["totalResults"] == 0
