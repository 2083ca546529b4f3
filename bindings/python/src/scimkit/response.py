"""One SCIM response."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple


@dataclass(frozen=True)
class Response:
    status: int
    headers: List[Tuple[str, str]]
    """In order; a name may repeat."""
    body: bytes

    def header(self, name: str) -> Optional[str]:
        """The first value of the header `name` (any case), or None."""
        lower = name.lower()
        for k, v in self.headers:
            if k.lower() == lower:
                return v
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)
