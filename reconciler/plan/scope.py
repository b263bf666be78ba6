"""What a run covers: Settings ``spec.scope`` and ``--target``, and how to say so.

Both narrow the declared state *before* anything is read, so what they leave out is neither
read nor planned: a plan of a narrowed run must never look like a plan of everything. Every
output format therefore starts with :meth:`Narrowing.describe` when :attr:`Narrowing.narrowed`.

``--target KIND/NAME`` (Terraform's ``-target``), repeatable; an entry is kept when any target
matches it. ``NAME`` is an account name or an ID as written in the manifests:

==========================  ==================================================================
``customer/NAME``           the customer's AccountManagers and AutoRenew entries
``reseller/NAME``           the reseller's ResellerQuota entries (every distributor quota)
``account-manager/NAME``    the customer's AccountManagers entry
``auto-renew/NAME``         the customer's AutoRenew entry
``reseller-quota/NAME``     the reseller's ResellerQuota entries, or every entry of the
                            distributor quota with that ID
==========================  ==================================================================

A target that matches no declared entry is an error (with a "did you mean"): it would
otherwise plan nothing and say "No changes".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.manifests.desired import (
        AutoRenewRule,
        CustomerRef,
        DesiredState,
        ManagerAssignment,
        QuotaTarget,
        ResellerRef,
    )

#: Target kinds and which declared entries each may select.
TARGET_KINDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"managers", "auto_renew"}),
    "reseller": frozenset({"quotas"}),
    "account-manager": frozenset({"managers"}),
    "auto-renew": frozenset({"auto_renew"}),
    "reseller-quota": frozenset({"quotas"}),
}


@dataclass(frozen=True)
class Target:
    """One ``--target KIND/NAME``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    def selects(self, part: str) -> bool:
        return part in TARGET_KINDS[self.kind]


def parse_target(text: str) -> Target:
    """``"auto-renew/xinghe-net"`` -> :class:`Target`; a :class:`ConfigError` explains misuse."""
    kind, sep, name = text.partition("/")
    kinds = ", ".join(TARGET_KINDS)
    if not sep or not name.strip() or not kind:
        raise ConfigError(
            f"--target {text!r} is not KIND/NAME (KIND one of {kinds}; NAME an account name or "
            "ID as written in the manifests), e.g. --target customer/xinghe-net"
        )
    if kind not in TARGET_KINDS:
        close = difflib.get_close_matches(kind, list(TARGET_KINDS), n=1)
        hint = f" (did you mean '{close[0]}/{name}'?)" if close else ""
        raise ConfigError(f"--target {text!r}: unknown kind {kind!r}{hint}; kinds: {kinds}")
    return Target(kind, name)


def parse_targets(texts: Iterable[str]) -> tuple[Target, ...]:
    return tuple(dict.fromkeys(parse_target(t) for t in texts))


@dataclass(frozen=True)
class Narrowing:
    """How Settings scope and targets narrowed a run, for every output to state at its top."""

    customers: tuple[str, ...] | None
    resellers: tuple[str, ...] | None
    targets: tuple[str, ...]
    declared: int
    in_scope: int  # declared entries Settings scope keeps
    kept: int  # ... and the targets select
    scope_source: str | None = None

    @property
    def narrowed(self) -> bool:
        return self.customers is not None or self.resellers is not None or bool(self.targets)

    @property
    def outside_scope(self) -> int:
        """Declared entries Settings scope leaves out: declared, yet never checked."""
        return self.declared - self.in_scope

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": None if self.customers is None else list(self.customers),
            "resellers": None if self.resellers is None else list(self.resellers),
            "targets": list(self.targets),
            "narrowed": self.narrowed,
            "declared": self.declared,
            "excluded": self.declared - self.kept,
            "outside_scope": self.outside_scope,
            "scope_source": self.scope_source,
        }

    def describe(self) -> str | None:
        """One sentence for the top of every output, or ``None`` when nothing was narrowed."""
        return describe_scope(self.to_dict())


def describe_scope(scope: Mapping[str, Any]) -> str | None:
    """:meth:`Narrowing.describe` from the ``scope`` of a plan or drift report."""
    parts = []
    if scope.get("customers") is not None:
        parts.append("customers " + (", ".join(scope["customers"]) or "(none)"))
    if scope.get("resellers") is not None:
        parts.append("resellers " + (", ".join(scope["resellers"]) or "(none)"))
    targets = scope.get("targets") or []
    if not parts and not targets:
        return None
    said = []
    if parts:
        where = f" ({scope['scope_source']})" if scope.get("scope_source") else ""
        said.append(f"Settings spec.scope{where} limits it to " + "; ".join(parts))
    if targets:
        said.append("--target " + ", ".join(targets))
    excluded, declared = scope.get("excluded"), scope.get("declared")
    tail = ""
    if isinstance(excluded, int) and isinstance(declared, int):
        tail = f": {excluded} of {declared} declared {_entries(declared)} were not read or planned"
    return f"Narrowed run: {'; '.join(said)}{tail}."


def outside_scope_text(scope: Mapping[str, Any]) -> str | None:
    """``3 declared entries are outside Settings spec.scope (file:line:col) and were not
    checked``, or ``None``: what a plan with nothing to apply must not hide."""
    count = scope.get("outside_scope")
    if not isinstance(count, int) or count <= 0:
        return None
    where = f" ({scope['scope_source']})" if scope.get("scope_source") else ""
    verb = "is" if count == 1 else "are"
    return (
        f"{count} declared {_entries(count)} {verb} outside Settings spec.scope{where} and "
        f"{'was' if count == 1 else 'were'} not checked"
    )


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"


def narrow(desired: DesiredState, targets: Sequence[Target] = ()) -> tuple[DesiredState, Narrowing]:
    """Settings scope, then targets; the narrowed state and what was left out."""
    declared = _count(desired)
    desired = _scoped(desired)
    in_scope = _count(desired)
    if targets:
        _check_targets(desired, targets)
        desired = _targeted(desired, targets)
    scope = desired.settings.scope
    first = next(iter((*(scope.customers or ()), *(scope.resellers or ()))), None)
    return desired, Narrowing(
        customers=_values(scope.customers),
        resellers=_values(scope.resellers),
        targets=tuple(str(t) for t in targets),
        declared=declared,
        in_scope=in_scope,
        kept=_count(desired),
        scope_source=str(first.source) if first else None,
    )


def _values(refs: Iterable[Any] | None) -> tuple[str, ...] | None:
    return None if refs is None else tuple(sorted({r.value for r in refs}))


def _count(desired: DesiredState) -> int:
    return len(desired.managers) + len(desired.auto_renew) + len(desired.quotas)


def _scoped(desired: DesiredState) -> DesiredState:
    """Drop everything outside Settings ``spec.scope`` (absent scope = everything declared)."""
    scope = desired.settings.scope
    if scope.customers is None and scope.resellers is None:
        return desired

    def customer(ref: CustomerRef) -> bool:
        return scope.includes_customer(ref.customer_id, ref.account_name)

    return replace(
        desired,
        managers=tuple(m for m in desired.managers if customer(m.customer)),
        auto_renew=tuple(r for r in desired.auto_renew if customer(r.customer)),
        quotas=tuple(
            q
            for q in desired.quotas
            if scope.includes_reseller(q.reseller.reseller_id, q.reseller.account_name)
        ),
    )


def _customer_names(ref: CustomerRef) -> set[str]:
    return {v for v in (ref.customer_id, ref.account_name) if v}


def _reseller_names(ref: ResellerRef) -> set[str]:
    return {v for v in (ref.reseller_id, ref.account_name) if v}


def _manager_hit(target: Target, entry: ManagerAssignment) -> bool:
    return target.selects("managers") and target.name in _customer_names(entry.customer)


def _renew_hit(target: Target, entry: AutoRenewRule) -> bool:
    return target.selects("auto_renew") and target.name in _customer_names(entry.customer)


def _quota_hit(target: Target, entry: QuotaTarget) -> bool:
    if not target.selects("quotas"):
        return False
    names = _reseller_names(entry.reseller)
    if target.kind == "reseller-quota":
        names.add(entry.distributor_quota_id)
    return target.name in names


def _targeted(desired: DesiredState, targets: Sequence[Target]) -> DesiredState:
    def keep(entries: Sequence[Any], hit: Callable[[Target, Any], bool]) -> tuple[Any, ...]:
        return tuple(e for e in entries if any(hit(t, e) for t in targets))

    return replace(
        desired,
        managers=keep(desired.managers, _manager_hit),
        auto_renew=keep(desired.auto_renew, _renew_hit),
        quotas=keep(desired.quotas, _quota_hit),
    )


def _check_targets(desired: DesiredState, targets: Sequence[Target]) -> None:
    """Every target must select something in scope; otherwise say what it could have meant."""
    problems = []
    for target in targets:
        hits = (
            any(_manager_hit(target, e) for e in desired.managers)
            or any(_renew_hit(target, e) for e in desired.auto_renew)
            or any(_quota_hit(target, e) for e in desired.quotas)
        )
        if not hits:
            problems.append(_unmatched(desired, target))
    if problems:
        raise ConfigError("\n".join(problems))


def _unmatched(desired: DesiredState, target: Target) -> str:
    names: set[str] = set()
    if target.selects("managers"):
        names.update(*(_customer_names(e.customer) for e in desired.managers))
    if target.selects("auto_renew"):
        names.update(*(_customer_names(e.customer) for e in desired.auto_renew))
    if target.selects("quotas"):
        names.update(*(_reseller_names(e.reseller) for e in desired.quotas))
        if target.kind == "reseller-quota":
            names.update(e.distributor_quota_id for e in desired.quotas)
    close = difflib.get_close_matches(target.name, sorted(names), n=1, cutoff=0.6)
    hint = f" (did you mean '{target.kind}/{close[0]}'?)" if close else ""
    scope = desired.settings.scope
    where = " in Settings spec.scope" if (scope.customers, scope.resellers) != (None, None) else ""
    return (
        f"--target {target} matches no declared entry{where}{hint}; NAME is an account name or "
        "ID as written in the manifests"
    )
