"""Model objects to plain JSON data and back, fast: the state file's format.

One :class:`Codec` per model class, built once from its dataclass fields. :meth:`Codec.dump`
reads the object's ``__dict__`` (``Decimal`` fields become strings; ``compact`` leaves out
fields that are ``None`` and default to ``None``); :meth:`Codec.load` fills a new object's
``__dict__`` directly, defaults first, without calling ``__init__`` or ``__setattr__``, so a
100,000-customer state loads in seconds and loading is never mistaken for a change
(:mod:`reconciler.emulator.changes`). Unknown or missing required fields are a ``TypeError``,
as they would be for ``cls(**data)``.

Nested values (``renew_config``, ``limit_infos``, ...) must already be JSON data; a ``Decimal``
inside one is refused when the state is written (:func:`json_default`), never turned into a
string that would come back as one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

from reconciler.emulator.models import Partner, State

T = TypeVar("T")
_MISSING = dataclasses.MISSING


class Codec(Generic[T]):
    """Dump and load one dataclass."""

    def __init__(self, cls: type[T]) -> None:
        fields = [f for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
        self.cls = cls
        self.names = tuple(f.name for f in fields)
        self._names = frozenset(self.names)
        self.decimals = tuple(getattr(cls, "DECIMALS", ()))
        self._none_default = frozenset(f.name for f in fields if f.default is None)
        self._defaults = {f.name: f.default for f in fields if f.default is not _MISSING}
        self._factories: tuple[tuple[str, Callable[[], Any]], ...] = tuple(
            (f.name, f.default_factory) for f in fields if f.default_factory is not _MISSING
        )
        self._required = frozenset(
            f.name for f in fields if f.default is _MISSING and f.default_factory is _MISSING
        )

    def dump(self, obj: T, *, compact: bool = False) -> dict[str, Any]:
        values = obj.__dict__
        out = {name: values[name] for name in self.names}
        for name in self.decimals:
            value = out[name]
            if value is not None:
                out[name] = str(value)
        if compact:
            for name in self._none_default:
                if out[name] is None:
                    del out[name]
        return out

    def load(self, data: dict[str, Any]) -> T:
        if not self._names.issuperset(data):
            unknown = ", ".join(sorted(set(data) - self._names))
            raise TypeError(f"{self.cls.__name__}: unknown field(s) {unknown}")
        values = dict(self._defaults)
        for name, factory in self._factories:
            values[name] = factory()
        values.update(data)
        if not self._required.issubset(values):
            missing = ", ".join(sorted(self._required - set(values)))
            raise TypeError(f"{self.cls.__name__}: missing field(s) {missing}")
        for name in self.decimals:
            value = values[name]
            if value is not None:
                values[name] = Decimal(value)
        obj = object.__new__(self.cls)
        object.__setattr__(obj, "__dict__", values)
        return obj


_CODECS: dict[type[Any], Codec[Any]] = {}


def codec(cls: type[T]) -> Codec[T]:
    found = _CODECS.get(cls)
    if found is None:
        found = _CODECS[cls] = Codec(cls)
    return found


def dump(obj: Any, *, compact: bool = False) -> dict[str, Any]:
    return codec(type(obj)).dump(obj, compact=compact)


def json_default(value: object) -> object:
    """For ``json.dumps``: nothing but JSON data may reach the state file."""
    raise TypeError(f"{type(value).__name__} is not JSON data ({value!r}); store a plain value")


# -- the whole state ---------------------------------------------------------------------------


def dump_field(state: State, name: str, *, compact: bool = True) -> Any:
    """One field of the state as plain data."""
    value = getattr(state, name)
    if name == "partner":
        return dump(value, compact=compact)
    if name in State.COLLECTIONS:
        one = codec(State.COLLECTIONS[name]).dump
        return {key: one(obj, compact=compact) for key, obj in value.items()}
    if name in State.LISTS:
        one = codec(State.LISTS[name]).dump
        return [one(obj, compact=compact) for obj in value]
    return value  # faults, calls (JSON data), busy, counters


def load_field(name: str, data: Any) -> Any:
    """The inverse of :func:`dump_field`."""
    if name == "partner":
        return codec(Partner).load(data)
    if name in State.COLLECTIONS:
        one = codec(State.COLLECTIONS[name]).load
        return {str(key): one(item) for key, item in data.items()}
    if name in State.LISTS:
        one = codec(State.LISTS[name]).load
        return [one(item) for item in data]
    if name == "busy":
        return {str(k): float(v) for k, v in data.items()}
    if name == "counters":
        return {str(k): int(v) for k, v in data.items()}
    if name in ("faults", "calls"):
        return list(data)
    raise TypeError(f"unknown state field {name!r}")


#: The persisted fields of :class:`State`, in the order they are written.
FIELDS = tuple(f.name for f in dataclasses.fields(State) if f.name != "_index")


def dump_state(state: State, *, compact: bool = True) -> dict[str, Any]:
    return {name: dump_field(state, name, compact=compact) for name in FIELDS}


def load_state(data: dict[str, Any]) -> State:
    """A state written by :func:`dump_state` (or by ``State.to_plain``; fields written before
    they existed are empty)."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown state field(s) {', '.join(sorted(unknown))}")
    kwargs = {name: load_field(name, data[name]) for name in FIELDS if name in data}
    if "partner" not in kwargs:
        raise KeyError("partner")
    return State(**kwargs)
