"""How values cross between Python and the component, over wasmtime-py's conversions.

wasmtime-py (51) converts component values through its type objects, reading each type's structure from C on
every value and each `list<u8>` one byte at a time; those cost more than the engine's work on a request. This
module memoizes the structure per type object and copies byte lists whole: the same C values, made faster. It
also lowers host results by their explicit case (`Ok`/`Err`), which wasmtime-py guesses wrong for
`result<option<T>, E>`.
"""

from __future__ import annotations

import ctypes
from typing import Any, List, Optional, Tuple

from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component._types import (EnumType, FuncType, ListType, OptionType, RecordType, ResultType, TupleType,
                                       ValType, VariantLikeType, VariantType)


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


def lower_result(store: Any, ty: ResultType, out: Any, ptr: Any) -> None:
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


def _memoized(prop: Any) -> property:
    """A type's structure (fields, cases, …), read from C once per type object instead of on every value."""
    name = "_memo_" + prop.fget.__name__

    def get(self: Any) -> Any:
        try:
            return self.__dict__[name]
        except KeyError:
            value = self.__dict__[name] = prop.fget(self)
            return value

    return property(get)


_tagged = VariantLikeType._tagged


def _tagged_once(self: Any) -> bool:
    """Whether a variant's values are `Variant` objects (as `_memoized`: fixed per type)."""
    try:
        return bool(self.__dict__["_memo_tagged"])
    except KeyError:
        value = self.__dict__["_memo_tagged"] = _tagged(self)
        return value


VariantLikeType._tagged = _tagged_once  # type: ignore[method-assign]

for _cls, _props in ((RecordType, ("fields",)), (TupleType, ("elements",)), (VariantType, ("cases",)),
                     (EnumType, ("names",)), (ListType, ("element",)), (OptionType, ("payload",)),
                     (ResultType, ("ok", "err"))):
    for _prop in _props:
        setattr(_cls, _prop, _memoized(getattr(_cls, _prop)))

Signature = Tuple[List[ValType], Optional[ValType]]


def signature(fty: FuncType) -> Signature:
    return [ty for _, ty in fty.params], fty.result
