"""What one request changed in the state, as a small delta the state file can append.

The state file must not be rewritten on every request (a 100,000-customer partner is hundreds of
megabytes), so :class:`~reconciler.emulator.state.StateStore` appends what each request changed
instead. Finding that out must not depend on every handler remembering to say so, so it is
observed:

* **Attribute assignments** on model objects (``resource.expire_policy = 3``, and every object
  built during the request) are seen by a ``__setattr__`` installed on the model classes once a
  state file is in use (:func:`install`); outside a request it costs one check.
* **Keys added to or removed from** the state's collections (``state.quotas[qid] = child``,
  ``del state.temp_credentials[ak]``) are seen by :class:`TrackingDict`.
* **Lists** (records, orders, the call log...) are compared with their length and first and last
  items before the request: items appended at the end are appended to the file; anything else
  (a sort that moved an old item, a clear) rewrites that list.
* **Small fields** (faults, busy windows, counters) are compared whole.
* A **new state** (reset, seed) is a new snapshot.

The rule for the emulator's code, checked by ``tests/emulator/test_state_log.py``: change the
state by assigning attributes and collection keys, never by editing a nested value in place
(write ``customer.renew_config = {**customer.renew_config, name: value}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from reconciler.emulator import codec
from reconciler.emulator.models import Partner, State

V = TypeVar("V")

#: Collection -> the attribute its keys are (``state.customers[c.customer_id] = c``).
KEYS = {
    "credentials": "ak",
    "temp_credentials": "ak",
    "account_managers": "account_name",
    "customers": "customer_id",
    "resources": "resource_id",
    "resellers": "indirect_partner_id",
    "quotas": "quota_id",
    "accounts": "account_id",
    "coupons": "coupon_id",
}
_COLLECTION_OF = {cls: name for name, cls in State.COLLECTIONS.items()}
_LIST_OF = {cls: name for name, cls in State.LISTS.items()}
TRACKED: tuple[type[Any], ...] = (Partner, *State.COLLECTIONS.values(), *State.LISTS.values())
#: Lists whose new items are appended to the file (the call log is trimmed from the front).
APPENDED = (*State.LISTS, "calls")
#: Fields compared whole (small).
WHOLE = ("faults", "busy", "counters")


class Dirty:
    """What the current request touched."""

    __slots__ = ("keys", "objects")

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}
        self.keys: set[tuple[str, str]] = set()


_DIRTY: ContextVar[Dirty | None] = ContextVar("emulator_dirty", default=None)
_object_setattr = object.__setattr__


def _tracking_setattr(self: object, name: str, value: object) -> None:
    _object_setattr(self, name, value)
    dirty = _DIRTY.get()
    if dirty is not None:
        dirty.objects[id(self)] = self


_installed = False


def install() -> None:
    """Watch attribute assignments on the model classes (idempotent)."""
    global _installed  # noqa: PLW0603 - one process-wide switch
    if _installed:
        return
    for cls in TRACKED:
        if "__setattr__" in vars(cls):
            raise TypeError(f"{cls.__name__} defines __setattr__; the change log needs its own")
        cls.__setattr__ = _tracking_setattr  # type: ignore[assignment]
    _installed = True


class TrackingDict(dict[str, V]):
    """A state collection that reports the keys set or removed during a request."""

    __slots__ = ("name",)

    def __init__(self, name: str, data: Iterable[tuple[str, V]] | dict[str, V] = ()) -> None:
        super().__init__(data)
        self.name = name

    def _touch(self, key: str) -> None:
        dirty = _DIRTY.get()
        if dirty is not None:
            dirty.keys.add((self.name, key))

    def __setitem__(self, key: str, value: V) -> None:
        super().__setitem__(key, value)
        self._touch(key)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._touch(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._touch(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, V]:
        key, value = super().popitem()
        self._touch(key)
        return key, value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        for key in list(self):
            self._touch(key)
        super().clear()

    def __ior__(self, other: Any) -> TrackingDict[V]:  # type: ignore[override,misc]
        self.update(other)
        return self


def adopt(state: State) -> None:
    """Make every collection of ``state`` a :class:`TrackingDict` (once per state)."""
    for name in State.COLLECTIONS:
        value = getattr(state, name)
        if not isinstance(value, TrackingDict):
            _object_setattr(state, name, TrackingDict(name, value))


class Tracker:
    """Watches one request on ``state``; :meth:`delta` says what changed (``None``: a new state).

    The changes are recorded inside ``with tracking(tracker):``.
    """

    def __init__(self, state: State) -> None:
        self.state = state
        self.dirty = Dirty()
        self._dirty_lists: dict[str, list[object]] = {}
        self._ids = {name: id(getattr(state, name)) for name in codec.FIELDS}
        self._lists = {name: _ends(getattr(state, name)) for name in APPENDED}
        self._faults = json.dumps(state.faults, sort_keys=True, default=str)
        self._busy = dict(state.busy)
        self._counters = dict(state.counters)

    def delta(self, state: State) -> dict[str, Any] | None:
        if state is not self.state:
            return None
        out: dict[str, Any] = {}
        replaced = {n for n in codec.FIELDS if id(getattr(state, n)) != self._ids[n]}
        put, gone = self._objects(state, replaced)
        whole = {name: codec.dump_field(state, name) for name in replaced}
        appended: dict[str, list[Any]] = {}
        for name in APPENDED:
            if name not in replaced:
                self._list(state, name, whole, appended)
        if "faults" not in whole and json.dumps(state.faults, sort_keys=True, default=str) != (
            self._faults
        ):
            whole["faults"] = state.faults
        for name, before in (("busy", self._busy), ("counters", self._counters)):
            if name not in whole and getattr(state, name) != before:
                whole[name] = getattr(state, name)
        for key, value in (("set", whole), ("put", put), ("del", gone), ("append", appended)):
            if value:
                out[key] = value
        if "calls" in appended:
            out["calls_len"] = len(state.calls)
        adopt(state)
        return out

    def _objects(
        self, state: State, replaced: set[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
        """Objects assigned to, and keys added or removed, per collection."""
        put: dict[str, dict[str, Any]] = {}
        gone: dict[str, list[str]] = {}
        for obj in self.dirty.objects.values():
            cls = type(obj)
            if obj is state.partner and "partner" not in replaced:
                replaced.add("partner")
            elif cls in _COLLECTION_OF:
                name = _COLLECTION_OF[cls]
                key = obj.__dict__.get(KEYS[name])
                if (
                    name not in replaced
                    and isinstance(key, str)
                    and (getattr(state, name).get(key) is obj)
                ):
                    put.setdefault(name, {})[key] = obj
            elif cls in _LIST_OF:
                self._dirty_lists.setdefault(_LIST_OF[cls], []).append(obj)
        for name, key in self.dirty.keys:
            if name in replaced:
                continue
            coll = getattr(state, name)
            if key in coll:
                put.setdefault(name, {})[key] = coll[key]
            else:
                gone.setdefault(name, []).append(key)
                put.get(name, {}).pop(key, None)
        dumped = {
            name: {key: codec.dump(obj, compact=True) for key, obj in objs.items()}
            for name, objs in put.items()
            if objs
        }
        return dumped, {name: sorted(keys) for name, keys in gone.items()}

    def _list(
        self, state: State, name: str, whole: dict[str, Any], appended: dict[str, list[Any]]
    ) -> None:
        items: list[Any] = getattr(state, name)
        tail = _tail(items, self._lists[name], trimmed=name == "calls")
        if tail is not None:
            edited = [o for o in self._dirty_lists.get(name, ()) if not _holds(tail, o)]
            if not any(_holds(items, o) for o in edited):
                if tail:
                    appended[name] = [_plain(name, item) for item in tail]
                return
        whole[name] = codec.dump_field(state, name)


def _ends(items: list[Any]) -> tuple[int, Any, Any]:
    return (len(items), items[0] if items else None, items[-1] if items else None)


def _tail(items: list[Any], before: tuple[int, Any, Any], *, trimmed: bool) -> list[Any] | None:
    """The items appended since ``before`` (``None`` when the list changed otherwise).

    ``trimmed``: the list may also have lost items at its front (the capped call log)."""
    count, first, last = before
    if not count:
        return list(items)
    if trimmed:
        for index in range(len(items) - 1, -1, -1):
            if items[index] is last:
                return items[index + 1 :]
        return None
    if len(items) >= count and items[0] is first and items[count - 1] is last:
        return items[count:]
    return None


def _holds(items: list[Any], obj: object) -> bool:
    return any(item is obj for item in items)


def _plain(name: str, item: Any) -> Any:
    return item if name == "calls" else codec.dump(item, compact=True)


@contextmanager
def tracking(tracker: Tracker) -> Iterator[None]:
    """Record the changes made inside the block (this thread only) in ``tracker``."""
    token = _DIRTY.set(tracker.dirty)
    try:
        yield
    finally:
        _DIRTY.reset(token)


# -- replaying a delta -------------------------------------------------------------------------

#: Fields whose change moves an object in the state's cached orders (``State.invalidate``).
_ORDERED = {
    "customers": ("customer_id", "associated_on", "indirect_partner_id"),
    "resources": ("resource_id", "customer_id", "parent_resource_id"),
}


def apply(state: State, delta: dict[str, Any]) -> None:
    """Apply a delta written by :meth:`Tracker.delta` (another process's request) to ``state``.

    Objects already present are updated in place, so references to them stay valid."""
    stale = False
    for name, data in delta.get("set", {}).items():
        _object_setattr(state, name, codec.load_field(name, data))
        stale = stale or name in _ORDERED
    for name, items in delta.get("put", {}).items():
        stale = _put(state, name, items) or stale
    for name, keys in delta.get("del", {}).items():
        coll = getattr(state, name)
        for key in keys:
            dict.pop(coll, key, None)
        stale = stale or name in _ORDERED
    for name, items in delta.get("append", {}).items():
        lst = getattr(state, name)
        lst.extend(items if name == "calls" else codec.load_field(name, items))
    if "calls_len" in delta:
        del state.calls[: max(0, len(state.calls) - int(delta["calls_len"]))]
    adopt(state)
    if stale:
        state.invalidate()


def _put(state: State, name: str, items: dict[str, Any]) -> bool:
    """Objects of one collection; True when a cached order may have changed."""
    coll = getattr(state, name)
    load = codec.codec(State.COLLECTIONS[name]).load
    watched = _ORDERED.get(name, ())
    stale = False
    for key, data in items.items():
        new = load(data)
        old = coll.get(key)
        if old is None:
            dict.__setitem__(coll, key, new)
            stale = stale or bool(watched)
            continue
        if any(old.__dict__.get(f) != new.__dict__.get(f) for f in watched):
            stale = True
        _object_setattr(old, "__dict__", new.__dict__)
    return stale
