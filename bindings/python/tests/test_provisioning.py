"""The mapper and the provisioner over the real component (ported from the Java binding's tests), provisioning
into the example application over HTTP."""

from __future__ import annotations

import collections
import io
import socket
import threading
from http.server import ThreadingHTTPServer
from typing import Any, Dict, Iterator, List
from wsgiref.util import setup_testing_defaults

import pytest

from scimkit import (ConfigError, HttpRequest, HttpResponse, HttpTransport, Mapper, MappingError, Provisioner,
                     TransportError)
from scimkit.example.__main__ import handler_for
from scimkit.example.app import ScimApp

from conftest import app_storage

MAPPING: Dict[str, Any] = {
    "managedGroupPrefix": "dir-",
    "attributes": [
        {"target": "userName", "from": "uid", "transform": ["trim", "lower"]},
        {"target": "externalId", "template": "ldap:${uid}"},
        {"target": "name.givenName", "from": "givenName"},
        {"target": "name.familyName", "from": "sn"},
        {"target": "displayName", "template": "${givenName} ${sn}"},
        {"target": 'emails[type eq "work"].value', "from": "mail", "transform": ["trim", "lower"]},
        {"target": "title", "from": "title"},
        {"target": "active", "value": True},
    ],
    "groups": [{"from": "departmentNumber", "name": "dir-dept-${value}", "transform": "trim"}],
}

JANE = {"UID": ["JDoe"], "givenName": ["Jane"], "sn": ["Doe"], "mail": ["Jane.Doe@Example.org"],
        "departmentNumber": ["physics"]}


def services(enabled: bool = True) -> Dict[str, Any]:
    return {"services": {"app": {"enabled": enabled, "mapping": MAPPING}}}


def test_the_mapper_maps_and_reverses() -> None:
    m = Mapper(MAPPING)
    out = m.to_resources(JANE)
    assert len(out) == 2, "a User and one group"
    assert out[0]["userName"] == "jdoe" and out[1]["displayName"] == "dir-dept-physics"
    back = m.to_attributes(out[0])
    assert back["uid"] == ["jdoe"] and back["mail"] == ["jane.doe@example.org"]


def test_a_refused_mapping_names_the_rule_and_bad_json_is_an_error() -> None:
    with pytest.raises(ConfigError) as refused:
        Mapper({"attributes": [{"target": "a..b", "from": "x"}]})
    assert "attributes[0]" in str(refused.value)
    with pytest.raises(MappingError) as bad:
        Mapper(MAPPING).to_attributes("[1, 2")
    assert "JSON" in str(bad.value)


def test_a_value_that_does_not_convert_fails_naming_the_target() -> None:
    m = Mapper({"attributes": [{"target": "userName", "from": "uid"},
                               {"target": "active", "from": "enabled", "as": "boolean"}]})
    with pytest.raises(MappingError) as failed:
        m.to_resources({"uid": ["a"], "enabled": ["perhaps"]})
    assert "active" in str(failed.value)


class Refusing:
    def send(self, request: HttpRequest) -> HttpResponse:
        raise OSError("no route to target")


class Unsent:
    def send(self, request: HttpRequest) -> HttpResponse:
        raise AssertionError(f"sent {request}")


def test_a_throwing_transport_fails_the_principal_with_its_message() -> None:
    r = Provisioner(services()).provision("app", JANE, Refusing())
    assert r.outcome == "failed" and r.error is not None and "no route to target" in r.error
    assert r.steps and r.steps[0].action == "search"


def test_a_disabled_service_is_skipped_without_a_request() -> None:
    r = Provisioner(services(enabled=False)).provision("app", JANE, Unsent())
    assert r.outcome == "skipped"


def test_an_unreachable_target_is_a_transport_failure() -> None:
    transport = HttpTransport("http://127.0.0.1:9/scim/v2", "t", timeout=5)
    with pytest.raises(TransportError) as unreachable:
        transport.send(HttpRequest("GET", "/Users", "", [], None))
    assert unreachable.value.kind == "unreachable"
    r = Provisioner(services()).provision("app", JANE, transport)
    assert r.outcome == "failed"


@pytest.fixture
def example_server() -> Iterator[str]:
    """The example application on a free loopback port, in this process."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(ScimApp(app_storage(), "secret", "http://x")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/scim/v2"
    finally:
        server.shutdown()
        server.server_close()


class Counting:
    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.methods: collections.Counter = collections.Counter()

    def send(self, request: HttpRequest) -> HttpResponse:
        self.methods[request.method] += 1
        return self.inner.send(request)

    def writes(self) -> int:
        return sum(n for m, n in self.methods.items() if m != "GET")


def test_provisioning_into_the_example_creates_then_sends_only_what_changed(example_server: str) -> None:
    http = HttpTransport(example_server, "secret")
    people: List[Dict[str, List[str]]] = [
        {**JANE, "UID": [f"user{i}"], "title": [f"title {i}"]} for i in range(5)
    ]
    p = Provisioner(services())
    first = Counting(http)
    assert [p.provision("app", person, first).outcome for person in people] == ["created"] * 5
    again = Counting(http)
    assert [p.provision("app", person, again).outcome for person in people] == ["unchanged"] * 5
    assert again.writes() == 0 and again.methods["GET"] == 5, "one search each, no write"
    changed = Counting(http)
    report = p.provision("app", {**people[2], "title": ["changed"]}, changed)
    assert report.outcome == "updated" and changed.writes() == 1, report
    assert any(s.action == "patch" and "title" in s.detail for s in report.steps), report.steps


def test_the_example_server_asks_for_its_token_and_serves_only_below_its_base(example_server: str) -> None:
    def send(path: str, token: str) -> HttpResponse:
        base = example_server[: -len("/scim/v2")]
        return HttpTransport(base, token).send(HttpRequest("GET", path, "", [], None))

    denied = send("/scim/v2/Users", "wrong")
    assert denied.status == 401 and dict(denied.headers).get("WWW-Authenticate") == "Bearer"
    assert send("/other", "secret").status == 404
    config = send("/scim/v2/ServiceProviderConfig", "secret")
    assert config.status == 200 and b'"patch"' in config.body


def test_the_example_is_a_wsgi_application_too() -> None:
    app = ScimApp(app_storage(), "secret", "http://app.example")
    body = b'{"userName": "wsgi-user"}'
    environ: Dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/scim/v2/Users", "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/scim+json", "HTTP_AUTHORIZATION": "Bearer secret", "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    started: List[Any] = []
    out = b"".join(app.wsgi(environ, lambda status, headers: started.append((status, headers))))
    assert started[0][0] == "201 Created" and b"wsgi-user" in out
    assert ("Location", "http://app.example/scim/v2/Users/1") in started[0][1]


def raw_request(base: str, head: str) -> bytes:
    host, port = base.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode())
        return b"".join(iter(lambda: conn.recv(65536), b""))


@pytest.mark.parametrize("framing, status", [
    ("Content-Length: ten", b"400"),
    ("Content-Length: 99999999", b"413"),
    ("Transfer-Encoding: chunked", b"411"),
])
def test_the_example_server_answers_a_body_it_does_not_read_with_a_scim_error(
    example_server: str, framing: str, status: bytes,
) -> None:
    reply = raw_request(example_server, f"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n"
                                        f"{framing}\r\nConnection: close\r\n\r\n")
    assert reply.split(b" ", 2)[1] == status and b"urn:ietf:params:scim:api:messages:2.0:Error" in reply
