"""Fixtures: the installed package over the real component, with the example's storage on in-memory databases."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Optional

import pytest

from scimkit import Provider, Response, Storage
from scimkit.example.config import config
from scimkit.example.storage import AppStorage

BASE_URL = "https://app.example/scim/v2"
JSON_HEADERS = {"Content-Type": "application/scim+json"}


def app_storage(db: Optional[sqlite3.Connection] = None) -> AppStorage:
    storage = AppStorage(db or sqlite3.connect(":memory:", check_same_thread=False))
    storage.install()
    return storage


def provider(storage: Optional[Storage] = None, **options: Any) -> Provider:
    return Provider(config(BASE_URL), storage if storage is not None else app_storage(), **options)


def send(p: Provider, method: str, path: str, body: Any = None, query: str = "") -> Response:
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return p.handle(method, path, query, JSON_HEADERS, body)


@pytest.fixture
def db() -> sqlite3.Connection:
    return sqlite3.connect(":memory:", check_same_thread=False)
