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
from typing import Any, Callable, Dict, Iterator, List, Optional

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component._enter import catch_exceptions
from wasmtime.component._types import FuncType, ListType, ResultType

WIT = "scimkit:scim/{}@0.2.0"


class Ok:
    """A host function's `ok` result."""

    __slots__ = ("value",)

    def __init__(self, value: Any = None) -> None:
        self.value = value


class Err:
    """A host function's `err` result."""

    __slots__ = ("value",)

    def __init__(self, value: Any = None) -> None:
        self.value = value


def record(**fields: Any) -> wc.Record:
    """A WIT record value; `with_members` names the field `with-members`."""
    r = wc.Record()
    for name, value in fields.items():
        setattr(r, name.replace("_", "-"), value)
    return r


def field(r: Any, name: str) -> Any:
    return getattr(r, name.replace("_", "-"))


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


def _lower_result(store: Any, ty: ResultType, out: Any, ptr: Any) -> None:
    """Lowers Ok/Err explicitly: wasmtime's own lowering guesses the case from the value's Python type, and
    guesses wrong for `result<option<T>, E>` (an `err` value is taken for `ok` since `none` accepts any object)."""
    ok = isinstance(out, Ok)
    if not ok and not isinstance(out, Err):
        raise TypeError("a host function with a result type must return Ok or Err")
    case = ty.ok if ok else ty.err
    raw = None
    if case is not None:
        val = ffi.wasmtime_component_val_t()
        case.convert_to_c(store, out.value, ctypes.pointer(val))
        raw = ffi.wasmtime_component_val_new(ctypes.byref(val))
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_RESULT
    ptr.contents.of.result.is_ok = ok
    ptr.contents.of.result.val = raw


_VAL = ffi.wasmtime_component_val_t
_VAL_SIZE = ctypes.sizeof(_VAL)
_KIND_AT = _VAL.kind.offset
_BYTE_AT = _VAL.of.offset
_list_to_c = ListType.convert_to_c
_list_from_c = ListType.convert_from_c


def _bytes_to_c(self: ListType, store: Any, val: Any, ptr: Any) -> None:
    """`list<u8>` (every request and response body) lowered in one copy: wasmtime's own conversion makes one
    Python call per byte, which costs more than the whole request. The same C values, built by slicing."""
    if not self._is_bytes() or not isinstance(val, bytes):
        return _list_to_c(self, store, val, ptr)
    raw = ffi.wasmtime_component_vallist_t()
    ffi.wasmtime_component_vallist_new_uninit(raw, len(val))
    if val:
        values = bytearray(len(val) * _VAL_SIZE)
        values[_KIND_AT::_VAL_SIZE] = bytes([ffi.WASMTIME_COMPONENT_U8.value]) * len(val)
        values[_BYTE_AT::_VAL_SIZE] = val
        ctypes.memmove(raw.data, bytes(values), len(values))
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_LIST
    ptr.contents.of.list = raw


def _bytes_from_c(self: ListType, c: Any) -> Any:
    """`list<u8>` lifted in one copy (see `_bytes_to_c`)."""
    if not self._is_bytes():
        return _list_from_c(self, c)
    assert c.kind == ffi.WASMTIME_COMPONENT_LIST.value
    try:
        n = c.of.list.size
        return ctypes.string_at(c.of.list.data, n * _VAL_SIZE)[_BYTE_AT::_VAL_SIZE] if n else b""
    finally:
        ffi.wasmtime_component_vallist_delete(ctypes.byref(c.of.list))


ListType.convert_to_c = _bytes_to_c  # type: ignore[method-assign]
ListType.convert_from_c = _bytes_from_c  # type: ignore[method-assign]


@ffi.wasmtime_component_func_callback_t
def _call_host(idx, context, ty_raw, args, nargs, results, nresults):  # type: ignore
    def run(store: Any) -> None:
        with FuncType._from_ptr(ty_raw, owner=store) as fty:
            params = [ty.convert_from_c(args[i]) for (_, ty), i in zip(fty.params, range(nargs))]
            out = _HOST[idx or 0](*params)
            result = fty.result
            if result is None:
                return
            if isinstance(result, ResultType):
                _lower_result(store, result, out, results)
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


def handler_missing(method: str) -> Any:
    if method == "send":
        return Err(wc.Variant("unreachable", "no transport is given for this call"))
    return Err(wc.Variant("unsupported"))


STORAGE_FUNCTIONS = ("get", "create", "update", "delete", "search", "members", "resolve-principal")


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
        # The engine's standard library links WASI but never calls it on a good path: an empty context.
        self.store.set_wasi(wasmtime.WasiConfig())
        self.instance = runtime.linker.instantiate(self.store, runtime.component)
        self._funcs: Dict[str, wc.Func] = {}

    def func(self, interface: str, name: str) -> wc.Func:
        key = interface + "#" + name
        f = self._funcs.get(key)
        if f is None:
            iface = self.instance.get_export_index(self.store, WIT.format(interface))
            index = None if iface is None else self.instance.get_export_index(self.store, name, iface)
            f = None if index is None else self.instance.get_func(self.store, index)
            if f is None:
                raise wasmtime.WasmtimeError(f"the component exports no {interface}.{name}")
            self._funcs[key] = f
        return f

    def call(self, interface: str, name: str, *args: Any) -> Any:
        return self.func(interface, name)(self.store, *args)


_lock = threading.Lock()
_runtime: Optional[Runtime] = None


def runtime() -> Runtime:
    """The process's runtime, made on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime
