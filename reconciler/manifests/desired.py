"""The desired state the plan engine consumes: typed, frozen, every item with its source.

:func:`load_desired` is the entry point: load the manifests strictly, validate them, and build a
:class:`DesiredState`, or raise one :class:`~reconciler.errors.ManifestError` with every problem.

Customers and resellers stay *references* here (an account name or an ID, as written); the plan
engine resolves them against live state. ``DesiredState.checksum`` is ``sha256:`` + the hex
SHA-256 of the canonical content (:func:`reconciler.manifests.assemble.canonical`: each kind's
entries, :meth:`Kind.canonical <reconciler.kinds.spec.Kind.canonical>`, and the settings)
serialised as compact JSON with sorted keys. It covers
what the manifests ask for and nothing else: it does not change when files are renamed, split or
reordered, entries reordered, comments, whitespace, quoting style or ``metadata`` edited, but it
changes with any customer, manager, flag, balance or setting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from reconciler.errors import SourcePosition
from reconciler.manifests import positions as packed_positions

__all__ = [
    "CustomerRef",
    "DesiredState",
    "Guards",
    "ResellerRef",
    "Scope",
    "ScopeRef",
    "Settings",
]

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """A customer as the manifest names it: by ID or by account name (exactly one is set)."""

    customer_id: str | None
    account_name: str | None
    source: SourcePosition

    # as a reference the reader resolves (:class:`reconciler.plan.references.Ref`)
    @property
    def ident(self) -> str | None:
        return self.customer_id

    @property
    def name(self) -> str | None:
        return self.account_name

    @property
    def key(self) -> tuple[str | None, str | None]:
        return (self.customer_id, self.account_name)

    @property
    def text(self) -> str:
        """``customerId '0a1b'`` or ``customer 'acme'``, for messages."""
        if self.customer_id is not None:
            return f"customerId '{self.customer_id}'"
        return f"customer '{self.account_name}'"

    def names(self) -> set[str]:
        """The ID or account name written (what ``--target`` matches)."""
        return {v for v in (self.customer_id, self.account_name) if v}

    def canonical(self) -> dict[str, str]:
        if self.customer_id is not None:
            return {"customerId": self.customer_id}
        return {"customer": str(self.account_name)}


#: Positions of one entry: one integer (:func:`reconciler.manifests.positions.pack`), or a
#: tuple when they are not all in one file.
Packed = int | tuple[SourcePosition | None, ...]


def pack_positions(positions: tuple[SourcePosition | None, ...]) -> Packed:
    """Several positions of one entry as one integer: a manifest of 100,000 customers holds
    half a million positions, 56 bytes each as objects, 32 for an entry's few packed."""
    try:
        return packed_positions.pack(positions)
    except ValueError:  # not all in one file
        return positions


def unpack_position(packed: Packed, index: int, count: int) -> SourcePosition | None:
    """Position ``index`` of the ``count`` packed by :func:`pack_positions`."""
    if isinstance(packed, tuple):
        return packed[index]
    return packed_positions.unpack(packed, index, count)


def position(packed: Packed, index: int, count: int) -> SourcePosition:
    """:func:`unpack_position` of a position that is always there."""
    found = unpack_position(packed, index, count)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True)
class ResellerRef:
    """A reseller (indirect partner) by ID or by account name (exactly one is set)."""

    reseller_id: str | None
    account_name: str | None
    source: SourcePosition

    # as a reference the reader resolves (:class:`reconciler.plan.references.Ref`)
    @property
    def ident(self) -> str | None:
        return self.reseller_id

    @property
    def name(self) -> str | None:
        return self.account_name

    @property
    def key(self) -> tuple[str | None, str | None]:
        return (self.reseller_id, self.account_name)

    @property
    def text(self) -> str:
        if self.reseller_id is not None:
            return f"resellerId '{self.reseller_id}'"
        return f"reseller '{self.account_name}'"

    def names(self) -> set[str]:
        """The ID or account name written (what ``--target`` matches)."""
        return {v for v in (self.reseller_id, self.account_name) if v}

    def canonical(self) -> dict[str, str]:
        if self.reseller_id is not None:
            return {"resellerId": self.reseller_id}
        return {"reseller": str(self.account_name)}


@dataclass(frozen=True)
class Guards:
    """Limits that block a plan unless overridden. ``source``: the manifest's ``guards``.

    ``max_change_percent`` and ``min_objects`` hold for every kind; ``limits`` are the kinds' own
    limits (:class:`~reconciler.plan.guards.GuardSpec`) the Settings document sets, by their key
    in ``spec.guards``: an amount (``Decimal``, two places) or a whole number.
    """

    max_change_percent: int = 30
    min_objects: int = 10
    limits: Mapping[str, Decimal | int] = field(default_factory=dict)
    source: SourcePosition | None = None

    def limit(self, setting: str, default: Decimal | int) -> Decimal | int:
        """The limit Settings ``spec.guards.<setting>`` sets, else ``default``."""
        return self.limits.get(setting, default)


@dataclass(frozen=True)
class ScopeRef:
    """One scope entry: an account name or an ID, matched against either."""

    value: str
    source: SourcePosition

    def matches(self, identifier: str | None, account_name: str | None) -> bool:
        return self.value in (identifier, account_name)


@dataclass(frozen=True)
class Scope:
    """Restricts a run. ``None`` on a side means that side is not restricted."""

    customers: tuple[ScopeRef, ...] | None = None
    resellers: tuple[ScopeRef, ...] | None = None

    def includes_customer(self, customer_id: str | None, account_name: str | None) -> bool:
        return _included(self.customers, customer_id, account_name)

    def includes_reseller(self, reseller_id: str | None, account_name: str | None) -> bool:
        return _included(self.resellers, reseller_id, account_name)


def _included(
    refs: tuple[ScopeRef, ...] | None, identifier: str | None, account_name: str | None
) -> bool:
    return refs is None or any(r.matches(identifier, account_name) for r in refs)


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; the defaults when there is no Settings document (``source`` None)."""

    agency_name: str | None = None
    account_managers: tuple[str, ...] = ()
    scope: Scope = field(default_factory=Scope)
    guards: Guards = field(default_factory=Guards)
    plan_ttl: timedelta = timedelta(hours=1)
    endpoint_profile: str | None = None
    #: the account name the API's quota records name for this reconciler's calls
    operator: str | None = None
    source: SourcePosition | None = None


@dataclass(frozen=True)
class DesiredState:
    """Everything the manifests ask for, with a content checksum.

    ``entries``: each kind's typed entries (built by the kind, :meth:`Kind.build
    <reconciler.kinds.spec.Kind.build>`) in file order, by plan kind id; a kind without
    entries may be absent. :mod:`reconciler.manifests.assemble` builds it and its checksum.
    """

    entries: Mapping[str, tuple[Any, ...]]
    settings: Settings
    files: tuple[str, ...]
    checksum: str

    def entries_of(self, kind_id: str) -> tuple[Any, ...]:
        """The entries of one kind (its plan kind id), in file order."""
        return self.entries.get(kind_id, ())

    def count(self) -> int:
        """How many entries the manifests declare, every kind together."""
        return sum(len(items) for items in self.entries.values())


def checksum_of(content: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of ``content`` as compact JSON with sorted keys. A value may be an
    iterator of JSON-ready items: it is hashed as a list, one item at a time (the same hash as
    the list's), so 100,000 entries are never held as JSON text at once."""
    digest = hashlib.sha256()
    digest.update(b"{")
    for n, key in enumerate(sorted(content)):
        digest.update(b"," if n else b"")
        digest.update(_json(key).encode("utf-8") + b":")
        value = content[key]
        if isinstance(value, Iterator):
            digest.update(b"[")
            for m, item in enumerate(value):
                digest.update((b"," if m else b"") + _json(item).encode("utf-8"))
            digest.update(b"]")
        else:
            digest.update(_json(value).encode("utf-8"))
    digest.update(b"}")
    return "sha256:" + digest.hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ref_key(ref: Mapping[str, str]) -> tuple[str, str]:
    """A reference's canonical form as a sort key: ``("customerId", "42")``."""
    ((field_name, value),) = ref.items()
    return field_name, value


class _Customers(Protocol):
    @property
    def customer_id(self) -> str | None: ...

    @property
    def account_name(self) -> str | None: ...


_C = TypeVar("_C", bound=_Customers)


def by_customer(entries: Iterable[_C]) -> list[_C]:
    """Entries naming a customer (``customer_id`` or ``account_name``) in the order of
    :func:`ref_key` of the customer's canonical form: by account name, then by ID
    (``"customer" < "customerId"``), ties in the order given; sorted on the strings the
    entries hold, without a key tuple per entry (100,000 of them while the checksum is
    computed)."""
    named = [e for e in entries if e.customer_id is None]
    named.sort(key=lambda e: str(e.account_name))
    ids = [e for e in entries if e.customer_id is not None]
    ids.sort(key=lambda e: str(e.customer_id))
    named.extend(ids)
    return named


def customer_canonical(entry: _Customers) -> dict[str, str]:
    """:meth:`CustomerRef.canonical` of an entry's customer, without making the reference."""
    if entry.customer_id is not None:
        return {"customerId": entry.customer_id}
    return {"customer": str(entry.account_name)}


def money_text(amount: Decimal) -> str:
    """An amount as the checksum content holds it: two places, no exponent."""
    return format(amount.quantize(CENT), "f")


def canonical_settings(settings: Settings, limits: Mapping[str, Decimal | int]) -> dict[str, Any]:
    """The checksum content of ``settings``; ``limits``: every kind's guard limit in effect
    (set or default), by Settings key."""
    guards, scope = settings.guards, settings.scope
    return {
        "agencyName": settings.agency_name,
        "accountManagers": sorted(set(settings.account_managers)),
        "scope": {
            "customers": _scope_values(scope.customers),
            "resellers": _scope_values(scope.resellers),
        },
        "guards": {
            "maxChangePercent": guards.max_change_percent,
            "minObjects": guards.min_objects,
            **{
                key: money_text(value) if isinstance(value, Decimal) else value
                for key, value in limits.items()
            },
        },
        "planTtlSeconds": int(settings.plan_ttl.total_seconds()),
        "endpointProfile": settings.endpoint_profile,
        **({"operator": settings.operator} if settings.operator else {}),
    }


def _scope_values(refs: tuple[ScopeRef, ...] | None) -> list[str] | None:
    return None if refs is None else sorted({r.value for r in refs})
