"""Directory attributes to SCIM resources and back, by the declarative mapping (see wit/scim.wit, `mapper`)."""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, List, Mapping, Sequence, Union

from ._pool import Pool, config_text
from .errors import ScimkitError

Attributes = Mapping[str, Sequence[str]]


class MappingError(ValueError):
    """A value did not convert (`as`), naming the target; or the resource given back is not a JSON object."""


def attributes_out(attrs: Attributes) -> List[Any]:
    return [(str(name), [str(v) for v in ([values] if isinstance(values, str) else values)])
            for name, values in attrs.items()]


def attributes_in(pairs: List[Any]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for name, values in pairs:
        out.setdefault(name, []).extend(values)
    return out


def call(pool: Pool, lock: threading.Lock, method: str, *args: Any) -> Any:
    with lock:
        try:
            return pool.call(method, *args)
        except Exception as e:
            raise ScimkitError(f"the engine failed: {e}") from e


class Mapper:
    """One compiled mapping (JSON text or a mapping object). Raises ConfigError naming the offending rule."""

    def __init__(self, mapping: Union[str, bytes, Mapping[str, Any]]) -> None:
        self._pool = Pool("mapper", "mapper", config_text(mapping), max_idle=1)
        self._lock = threading.Lock()

    def to_resources(self, attrs: Attributes) -> List[Dict[str, Any]]:
        """The User, then each derived Group (`schemas` and `displayName`)."""
        out = call(self._pool, self._lock, "to-resources", attributes_out(attrs))
        if isinstance(out, str):
            raise MappingError(out)
        return [json.loads(text) for text in out]

    def to_attributes(self, resource: Union[str, Mapping[str, Any]]) -> Dict[str, List[str]]:
        """One SCIM resource back to flat attributes, under the names the mapping reads."""
        text = resource if isinstance(resource, str) else json.dumps(resource)
        out = call(self._pool, self._lock, "to-attributes", text)
        if isinstance(out, str):
            raise MappingError(out)
        return attributes_in(out)
