"""What a run covers: Settings ``spec.scope`` and ``--target``, and how to say so.

Both narrow the declared state *before* anything is read, so what they leave out is neither
read nor planned: a plan of a narrowed run must never look like a plan of everything. Every
output format therefore starts with :meth:`Narrowing.describe` when :attr:`Narrowing.narrowed`.

``--target KIND/NAME`` (Terraform's ``-target``), repeatable; an entry is kept when any target
matches it. ``NAME`` is an account name or an ID as written in the manifests:

==========================  ==================================================================
``customer/NAME``           every entry, of any kind, naming that customer
``reseller/NAME``           every entry, of any kind, naming that reseller
``<kind id>/NAME``          the entries of that kind whose :meth:`Kind.target_names
                            <reconciler.kinds.spec.Kind.target_names>` include ``NAME`` (by
                            default every name of what the entry references: its customer,
                            its reseller, the quotas it draws on)
==========================  ==================================================================

Settings ``spec.scope`` keeps an entry when the customer and the reseller it names (those of
:meth:`Kind.references <reconciler.kinds.spec.Kind.references>`) are in scope.

A target that matches no declared entry is an error (with a "did you mean"): it would
otherwise plan nothing and say "No changes".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError
from reconciler.kinds import registry

if TYPE_CHECKING:
    from reconciler.kinds.spec import Kind
    from reconciler.manifests.desired import DesiredState

#: The target kinds that select by a shared object, across every kind of entry.
SUBJECTS = ("customer", "reseller")
#: Every target kind: the shared objects, then each kind's id.
TARGET_KINDS: tuple[str, ...] = (*SUBJECTS, *registry.IDS)


@dataclass(frozen=True)
class Target:
    """One ``--target KIND/NAME``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    def names(self, kind: Kind[Any], entry: Any) -> set[str]:
        """What this target's NAME is matched against on ``entry`` (empty: not selectable)."""
        if self.kind not in SUBJECTS:
            return kind.target_names(entry) if self.kind == kind.id else set()
        refs = kind.references(entry)
        ref = refs.customer if self.kind == "customer" else refs.reseller
        return ref.names() if ref is not None else set()

    def hits(self, kind: Kind[Any], entry: Any) -> bool:
        return self.name in self.names(kind, entry)


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
    return desired.count()


def _keep(desired: DesiredState, keep: Callable[[Kind[Any], Any], bool]) -> DesiredState:
    """``desired`` with only the entries ``keep`` accepts."""
    entries = {k.id: tuple(e for e in k.entries(desired) if keep(k, e)) for k in registry.KINDS}
    return replace(desired, entries=entries)


def _scoped(desired: DesiredState) -> DesiredState:
    """Drop everything outside Settings ``spec.scope`` (absent scope = everything declared)."""
    scope = desired.settings.scope
    if scope.customers is None and scope.resellers is None:
        return desired

    def in_scope(kind: Kind[Any], entry: Any) -> bool:
        refs = kind.references(entry)
        customer, reseller = refs.customer, refs.reseller
        return (
            customer is None or scope.includes_customer(customer.customer_id, customer.account_name)
        ) and (
            reseller is None or scope.includes_reseller(reseller.reseller_id, reseller.account_name)
        )

    return _keep(desired, in_scope)


def _targeted(desired: DesiredState, targets: Sequence[Target]) -> DesiredState:
    return _keep(desired, lambda kind, entry: any(t.hits(kind, entry) for t in targets))


def _check_targets(desired: DesiredState, targets: Sequence[Target]) -> None:
    """Every target must select something in scope; otherwise say what it could have meant."""
    problems = []
    for target in targets:
        hits = any(target.hits(k, e) for k in registry.KINDS for e in k.entries(desired))
        if not hits:
            problems.append(_unmatched(desired, target))
    if problems:
        raise ConfigError("\n".join(problems))


def _unmatched(desired: DesiredState, target: Target) -> str:
    names: set[str] = set()
    for kind in registry.KINDS:
        for entry in kind.entries(desired):
            names |= target.names(kind, entry)
    close = difflib.get_close_matches(target.name, sorted(names), n=1, cutoff=0.6)
    hint = f" (did you mean '{target.kind}/{close[0]}'?)" if close else ""
    scope = desired.settings.scope
    where = " in Settings spec.scope" if (scope.customers, scope.resellers) != (None, None) else ""
    return (
        f"--target {target} matches no declared entry{where}{hint}; NAME is an account name or "
        "ID as written in the manifests"
    )
