"""The engine component, compiled once per process, and its instances.

Each instance is one wasmtime store used by one thread at a time. The imports (storage, clock, transport) are
defined once on a shared linker; a call finds the storage or transport it serves in `_calls`, a thread-local
stack set around each call into the engine.
"""

from __future__ import annotations

import ctypes
import threading
import time
from contextlib import contextmanager
from importlib import resources
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component._enter import catch_exceptions, enter_wasm
from wasmtime.component._types import FuncType, ResultType

from ._values import Err, Signature, lower_result, record, signature

WIT = "scimkit:scim/{}@0.2.0"


class _Calls(threading.local):
    def __init__(self) -> None:
        self.stack: List[Any] = []


_calls = _Calls()


@contextmanager
def serving(handler: Any) -> Iterator[None]:
    """Routes the host functions called during the block to `handler` (a storage or transport bridge)."""
    _calls.stack.append(handler)
    try:
        yield
    finally:
        _calls.stack.pop()


def current() -> Any:
    return _calls.stack[-1] if _calls.stack else None


# Host functions by index; a callback's data is its index. They live as long as the process, as the linker does.
_HOST: List[Callable[..., Any]] = []


# The types of each host function, kept from its first call: they own their C types, and are the same for every
# instance of the component.
_HOST_TYPES: Dict[int, Signature] = {}


@ffi.wasmtime_component_func_callback_t
def _call_host(idx, context, ty_raw, args, nargs, results, nresults):  # type: ignore
    def run(store: Any) -> None:
        index = idx or 0
        types = _HOST_TYPES.get(index)
        if types is None:
            with FuncType._from_ptr(ty_raw, owner=store) as fty:
                types = _HOST_TYPES[index] = signature(fty)
        param_types, result = types
        params = [ty.convert_from_c(args[i]) for ty, i in zip(param_types, range(nargs))]
        out = _HOST[index](*params)
        if result is None:
            return
        if isinstance(result, ResultType):
            lower_result(store, result, out, results)
        else:
            result.convert_to_c(store, out, results)

    return catch_exceptions(context, run)


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _keep(_idx):  # type: ignore
    return None


def _define(instance: wc.LinkerInstance, name: str, func: Callable[..., Any]) -> None:
    _HOST.append(func)
    encoded = name.encode()
    err = ffi.wasmtime_component_linker_instance_add_func(
        instance.ptr(), ctypes.create_string_buffer(encoded), len(encoded), _call_host, len(_HOST) - 1, _keep
    )
    if err:
        raise wasmtime.WasmtimeError._from_ptr(err)


def _now() -> wc.Record:
    ns = time.time_ns()
    return record(seconds=ns // 1_000_000_000, nanoseconds=ns % 1_000_000_000)


def _routed(method: str) -> Callable[..., Any]:
    """A host function that calls `method` on the bridge serving the current call."""

    def call(*args: Any) -> Any:
        handler = current()
        if handler is None or not hasattr(handler, method):
            return handler_missing(method)
        return getattr(handler, method)(*args)

    return call


def _hooked(method: str) -> Callable[..., Any]:
    """An `events` host function that calls `method` on the hooks of the provider serving the current call, or
    answers as do-nothing hooks (None: allow, no-op) when it has none."""

    def call(*args: Any) -> Any:
        hooks = getattr(current(), "hooks", None)
        return None if hooks is None else getattr(hooks, method)(*args)

    return call


def handler_missing(method: str) -> Any:
    if method == "send":
        return Err(wc.Variant("unreachable", "no transport is given for this call"))
    return Err(wc.Variant("unsupported"))


# `ancestors` is answered `unsupported` (no bridge method): the engine walks nested groups itself.
STORAGE_FUNCTIONS = ("get", "create", "update", "delete", "search", "members", "resolve-principal", "ancestors")


class Runtime:
    """The engine, the compiled component and the linker, shared by every instance of the process."""

    def __init__(self, wasm: Optional[bytes] = None) -> None:
        config = wasmtime.Config()
        try:
            # Compiling the component takes seconds; the cache keeps the machine code across processes.
            config.cache = True
        except wasmtime.WasmtimeError:
            pass
        self.engine = wasmtime.Engine(config)
        if wasm is None:
            wasm = (resources.files(__package__) / "scimkit.wasm").read_bytes()
        self.component = wc.Component(self.engine, wasm)
        self.linker = wc.Linker(self.engine)
        self.linker.add_wasip2()
        with self.linker.root() as root:
            with root.add_instance(WIT.format("storage")) as storage:
                for name in STORAGE_FUNCTIONS:
                    _define(storage, name, _routed(name.replace("-", "_")))
            with root.add_instance(WIT.format("clock")) as clock:
                _define(clock, "now", _now)
            # Change events go to the provider's hooks, if it has any; without, every write is allowed.
            with root.add_instance(WIT.format("events")) as events:
                for name in ("check", "stage", "changed"):
                    _define(events, name, _hooked(name))
            with root.add_instance(WIT.format("transport")) as transport:
                _define(transport, "send", _routed("send"))

    def instantiate(self, max_memory_bytes: int = -1) -> "Instance":
        return Instance(self, max_memory_bytes)


class Instance:
    """One instance of the component in a store of its own. Used by one thread at a time; after a trap it is
    dropped, never called again."""

    def __init__(self, runtime: Runtime, max_memory_bytes: int = -1) -> None:
        self.store = wasmtime.Store(runtime.engine)
        # Past the cap, the engine's allocation fails and the instance traps: one request fails, not the process.
        self.store.set_limits(memory_size=max_memory_bytes)
        # The engine's standard library links WASI but never calls it on a good path: no files, no environment,
        # and stderr for the message of a panic.
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stderr()
        self.store.set_wasi(wasi)
        self.instance = runtime.linker.instantiate(self.store, runtime.component)
        self._funcs: Dict[str, Tuple[wc.Func, Signature]] = {}

    def func(self, interface: str, name: str) -> Tuple[wc.Func, Signature]:
        key = interface + "#" + name
        found = self._funcs.get(key)
        if found is None:
            iface = self.instance.get_export_index(self.store, WIT.format(interface))
            index = None if iface is None else self.instance.get_export_index(self.store, name, iface)
            f = None if index is None else self.instance.get_func(self.store, index)
            if f is None:
                raise wasmtime.WasmtimeError(f"the component exports no {interface}.{name}")
            with f.type(self.store) as fty:
                found = self._funcs[key] = (f, signature(fty))
        return found

    def call(self, interface: str, name: str, *args: Any) -> Any:
        """Calls an export, as `Func.__call__` does but with the types read once per function."""
        f, (param_types, result_type) = self.func(interface, name)
        if len(args) != len(param_types):
            raise TypeError(f"{name} takes {len(param_types)} arguments")
        params = (ffi.wasmtime_component_val_t * len(args))()
        lowered = 0
        try:
            for ty, value in zip(param_types, args):
                ty.convert_to_c(self.store, value, ctypes.pointer(params[lowered]))
                lowered += 1
            result = ffi.wasmtime_component_val_t() if result_type is not None else None
            enter_wasm(lambda: ffi.wasmtime_component_func_call(
                ctypes.byref(f._func), self.store._context(), params, lowered,
                None if result is None else ctypes.byref(result), 0 if result is None else 1))
            return None if result is None or result_type is None else result_type.convert_from_c(result)
        finally:
            for i in range(lowered):
                ffi.wasmtime_component_val_delete(ctypes.byref(params[i]))


_lock = threading.Lock()
_runtime: Optional[Runtime] = None


def runtime() -> Runtime:
    """The process's runtime, made on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime
