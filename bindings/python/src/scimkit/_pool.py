"""Instances of the engine holding one configured resource each, reused across calls.

A call takes an idle instance (or makes one), and gives it back unless it trapped: a trapped instance is dropped
and the next call makes a fresh one. No instance is ever made per call while one is idle.
"""

from __future__ import annotations

import json
import threading
from typing import Any, List, Mapping, Tuple, Union

from wasmtime.component import Variant

from ._runtime import Instance, runtime
from .errors import ConfigError

DEFAULT_MEMORY = 256 << 20
"""The memory cap of one instance, as the reference server's default."""


def config_text(config: Union[str, bytes, Mapping[str, Any]]) -> str:
    if isinstance(config, bytes):
        return config.decode("utf-8")
    if isinstance(config, str):
        return config
    return json.dumps(config, ensure_ascii=False)


class Pool:
    """Instances each holding a `resource` (`service-provider`, `mapper`, `provisioner`) made from `config`."""

    def __init__(
        self, interface: str, resource: str, config: str, max_idle: int = 8, max_memory_bytes: int = DEFAULT_MEMORY
    ) -> None:
        self._interface = interface
        self._resource = resource
        self._config = config
        self._max_idle = max_idle
        self._max_memory_bytes = max_memory_bytes
        self._idle: List[Tuple[Instance, Any]] = []
        self._lock = threading.Lock()
        # The first instance checks the configuration now, so that a refused one fails here.
        self._idle.append(self._new())

    def _new(self) -> Tuple[Instance, Any]:
        inst = runtime().instantiate(self._max_memory_bytes)
        made = inst.call(self._interface, f"[static]{self._resource}.create", self._config)
        if isinstance(made, Variant):
            raise ConfigError(made.tag, str(made.payload))
        return inst, made

    def call(self, method: str, *args: Any) -> Any:
        """`[method]<resource>.<method>(handle, *args)` on an idle instance, or a new one. An exception (a trap)
        drops the instance: it is not given back."""
        with self._lock:
            taken = self._idle.pop() if self._idle else None
        inst, handle = taken if taken is not None else self._new()
        result = inst.call(self._interface, f"[method]{self._resource}.{method}", handle, *args)
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((inst, handle))
        return result
