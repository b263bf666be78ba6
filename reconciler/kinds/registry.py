"""The kinds. The pipeline iterates :data:`KINDS` and never names a kind.

Adding a kind: import its class below and add an instance to :data:`KINDS` (docs/architecture.md,
"Adding a kind"). Everything else (the CLI's choices, the guards, the union schema, the order of
plans) follows from here; the checks at the bottom fail at import when two kinds clash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from reconciler.kinds.account_funds.kind import AccountFunds
from reconciler.kinds.account_managers.kind import AccountManagers
from reconciler.kinds.auto_renew.kind import AutoRenew
from reconciler.kinds.customer_coupons.kind import CustomerCouponsKind
from reconciler.kinds.reseller_quota.kind import ResellerQuota
from reconciler.kinds.spec import GuardSpec, Kind, OperationSpec
from reconciler.plan.guards import CHANGE_PERCENT
from reconciler.plan.model import KindOrder

if TYPE_CHECKING:
    from reconciler.manifests.desired import DesiredState

#: Every kind, in the order plans show and apply them.
KINDS: tuple[Kind[Any], ...] = tuple(
    sorted(
        (ResellerQuota(), AutoRenew(), AccountManagers(), AccountFunds(), CustomerCouponsKind()),
        key=lambda k: k.order,
    )
)

_BY_ID = {k.id: k for k in KINDS}
_BY_MANIFEST = {k.manifest_kind: k for k in KINDS}
_OPERATIONS = {op.name: op for k in KINDS for op in k.operations}

#: The plan kind ids, in order (``--target ID/NAME``, ``export --kind ID``).
IDS: tuple[str, ...] = tuple(k.id for k in KINDS)
#: How plans order kinds and their actions.
ORDER = KindOrder(IDS, {k.id: k.actions for k in KINDS})
#: Every guard as (kind id, guard), and the names ``--allow`` takes.
GUARDS: tuple[tuple[str, GuardSpec], ...] = tuple((k.id, g) for k in KINDS for g in k.guards)
GUARD_NAMES: tuple[str, ...] = (CHANGE_PERCENT, *(g.name for _, g in GUARDS))
#: The validation message of each kind's own schema patterns (``Kind.pattern_hints``).
PATTERN_HINTS: dict[str, str] = {p: m for k in KINDS for p, m in k.pattern_hints.items()}


def kind(kind_id: str) -> Kind[Any]:
    """The kind with plan kind id ``kind_id``; :class:`KeyError` for one this version lacks."""
    return _BY_ID[kind_id]


def by_manifest(manifest_kind: str) -> Kind[Any] | None:
    """The kind whose documents have ``kind: manifest_kind`` (``None``: not a kind)."""
    return _BY_MANIFEST.get(manifest_kind)


def operation(name: str) -> OperationSpec | None:
    """The journal operation ``name`` of whichever kind declares it."""
    return _OPERATIONS.get(name)


def entry_count(desired: DesiredState) -> int:
    """How many entries the manifests declare, every kind together."""
    return sum(len(k.entries(desired)) for k in KINDS)


def with_exports() -> Iterator[Kind[Any]]:
    """The kinds ``reconciler export`` writes a file for."""
    return (k for k in KINDS if k.export_file)


def _check() -> None:
    """Two kinds must never share an id, a manifest kind, an operation, a read or a guard, nor
    explain one schema pattern in two ways."""
    seen: dict[str, str] = {}
    for k in KINDS:
        names = [
            ("id", k.id),
            ("manifest kind", k.manifest_kind),
            ("schema", k.published_schema),
            ("checksum key", k.canonical_key),
            *(("operation", op.name) for op in k.operations),
            *(("read", read.name) for read in k.reads),
            *(("guard", g.name) for g in k.guards),
            *(("guard setting", g.setting) for g in k.guards),
        ]
        for what, name in names:
            key = f"{what} {name}"
            if key in seen and seen[key] != k.id:
                raise RuntimeError(f"kinds {seen[key]} and {k.id} both declare {key}")
            seen[key] = k.id
    hints: dict[str, tuple[str, str]] = {}
    for k in KINDS:
        for pattern, message in k.pattern_hints.items():
            first, said = hints.setdefault(pattern, (k.id, message))
            if said != message:
                raise RuntimeError(f"kinds {first} and {k.id} explain pattern {pattern} apart")


_check()
