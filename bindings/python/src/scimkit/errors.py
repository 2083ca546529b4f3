"""Failures raised to the application."""

from __future__ import annotations


class ScimkitError(Exception):
    """The engine could not run the call (a trap, or the engine could not load)."""


class ConfigError(ValueError):
    """A configuration was refused: `kind` is `not-json` or `invalid`; the message names the offending key."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
