"""The plan: what would change, as frozen data.

A :class:`Plan` is built by :mod:`reconciler.plan.planner`, rendered by
:mod:`reconciler.render.formats` and executed by :mod:`reconciler.apply.executor`. It is plain data
with a deterministic order, and its :attr:`Plan.checksum` is a SHA-256 over the canonical JSON of
everything except timestamps, so a reviewed plan can be told apart from any other (octoDNS
``--checksum``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reconciler.errors import SourcePosition

FORMAT_VERSION = "1.1"

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def money(value: Decimal | str | int) -> Decimal:
    """An exact two-place amount."""
    return Decimal(value).quantize(CENT)


def fmt_money(value: Decimal) -> str:
    return f"{money(value):f}"


def fingerprint(obj: Any) -> str:
    """SHA-256 over the canonical JSON of a live object (or any JSON-able value). A dict's
    top-level lists are hashed an item at a time (:func:`streamed_fingerprint`, the same
    digest): a plan's or a saved plan file's changes are never encoded whole."""
    if isinstance(obj, dict) and all(type(key) is str for key in obj):
        lists = {k: v for k, v in obj.items() if type(v) is list}
        if lists:
            head = {k: v for k, v in obj.items() if k not in lists}
            return streamed_fingerprint(head, lists)
    return "sha256:" + hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def streamed_fingerprint(head: Mapping[str, Any], lists: Mapping[str, Iterable[Any]]) -> str:
    """:func:`fingerprint` of ``{**head, **lists}`` (each list given as an iterable), hashed a
    list item at a time: the canonical JSON of a plan of 5,000 changes is never held whole
    (``json.dumps`` keeps every fragment of it until it joins them: tens of megabytes)."""
    digest = hashlib.sha256()
    for chunk in _canonical_chunks(head, lists):
        digest.update(chunk.encode())
    return "sha256:" + digest.hexdigest()


def _canonical_chunks(head: Mapping[str, Any], lists: Mapping[str, Iterable[Any]]) -> Iterator[str]:
    """:func:`canonical_json` of ``{**head, **lists}``, in pieces (the same characters)."""
    keys = sorted({*head, *lists})
    yield "{"
    for i, key in enumerate(keys):
        yield ("," if i else "") + json.dumps(key) + ":"
        if key not in lists:
            yield canonical_json(head[key])
            continue
        yield "["
        for j, item in enumerate(lists[key]):
            yield ("," if j else "") + canonical_json(item)
        yield "]"
    yield "}"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return fmt_money(obj)
    if isinstance(obj, SourcePosition):
        return {"file": obj.file, "line": obj.line, "col": obj.col}
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


@dataclass(frozen=True, slots=True)
class Call:
    """One API call a change implies. Amounts in ``body`` are strings with two places."""

    operation: str
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    identity: str = "partner"  # or "customer": signed with the customer's temporary credentials

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "identity": self.identity,
        }
        if self.body is not None:
            out["body"] = dict(self.body)
        return out


@dataclass(frozen=True, slots=True)
class MoneyImpact:
    """The money a change moves. ``unrecoverable`` is spent quota a reclaim cannot bring back."""

    issue: Decimal = ZERO
    reclaim: Decimal = ZERO
    unrecoverable: Decimal = ZERO
    currency: str = "CNY"

    @property
    def delta(self) -> Decimal:
        return money(self.issue - self.reclaim)

    def to_dict(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            "issue": fmt_money(self.issue),
            "reclaim": fmt_money(self.reclaim),
            "delta": fmt_money(self.delta),
            "unrecoverable": fmt_money(self.unrecoverable),
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One object that differs from its manifest, and how to make it match."""

    kind: str
    key: str
    action: str
    subject: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    calls: tuple[Call, ...]
    source: SourcePosition
    fingerprint: str
    money: MoneyImpact | None = None
    manual: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "key": self.key,
            "action": self.action,
            "subject": self.subject,
            "before": dict(self.before),
            "after": dict(self.after),
            "calls": [c.to_dict() for c in self.calls],
            "source": _json_default(self.source),
            "fingerprint": self.fingerprint,
            "manual": self.manual,
            "notes": list(self.notes),
        }
        out["money"] = self.money.to_dict() if self.money else None
        return out


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a reviewer should know that is not a change (e.g. not applicable)."""

    kind: str
    key: str
    level: str  # "not-applicable" | "warning" | "info"
    subject: str
    message: str
    source: SourcePosition | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "level": self.level,
            "subject": self.subject,
            "message": self.message,
            "source": _json_default(self.source) if self.source else None,
        }


@dataclass(frozen=True)
class KindOrder:
    """The order a plan shows and applies kinds in, and each kind's actions in (money comes back
    before it goes out); :data:`reconciler.kinds.registry.ORDER` has the kinds'."""

    kinds: tuple[str, ...]
    actions: Mapping[str, tuple[str, ...]]

    def kind(self, kind: str) -> int:
        """The kind's position; :class:`ValueError` for a kind this version does not know."""
        return self.kinds.index(kind)

    def change(self, change: Change) -> tuple[int, str, int]:
        actions = self.actions.get(change.kind, ())
        index = actions.index(change.action) if change.action in actions else 99
        return self.kind(change.kind), change.key, index

    def notice(self, notice: Notice) -> tuple[int, str, str]:
        return self.kind(notice.kind), notice.key, notice.level


@dataclass(frozen=True)
class GuardResult:
    """One guard's verdict. ``flag`` is what a user passes to override it."""

    name: str
    observed: str
    limit: str
    ok: bool
    overridden: bool = False
    detail: str = ""

    @property
    def flag(self) -> str:
        return f"--allow {self.name}"

    @property
    def blocks(self) -> bool:
        return not self.ok and not self.overridden

    def message(self) -> str:
        state = "ok" if self.ok else ("overridden" if self.overridden else "BLOCKED")
        detail = f" ({self.detail})" if self.detail else ""
        text = (
            f"guard {self.name}: {self.observed} against a limit of {self.limit}{detail}: {state}"
        )
        if self.blocks:
            text += f"; to proceed anyway, pass {self.flag}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "observed": self.observed,
            "limit": self.limit,
            "ok": self.ok,
            "overridden": self.overridden,
            "detail": self.detail,
            "flag": self.flag,
        }


@dataclass(frozen=True)
class Plan:
    """A whole plan. Build with :func:`make_plan` so the order is canonical."""

    changes: tuple[Change, ...]
    notices: tuple[Notice, ...]
    guards: tuple[GuardResult, ...]
    in_scope: Mapping[str, int]
    manifest_checksum: str
    endpoint: str
    partner_id: str
    tool_version: str
    created_at: str
    expires_at: str
    #: Settings scope and targets: which declared entries were read and planned
    #: (:meth:`reconciler.plan.scope.Narrowing.to_dict`)
    scope: Mapping[str, Any] = field(default_factory=dict)
    #: ``--target`` selections, as given (part of the checksum: apply --plan re-plans with them)
    targets: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(g.blocks for g in self.guards)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def unreachable(self) -> tuple[Notice, ...]:
        """Declared states apply cannot reach (agency not granted, expired resource, ...)."""
        return tuple(n for n in self.notices if n.level == "not-applicable")

    @property
    def outside_scope(self) -> int:
        """Declared entries Settings ``spec.scope`` left out: declared, yet not checked."""
        count = self.scope.get("outside_scope", 0)
        return count if isinstance(count, int) else 0

    @property
    def status(self) -> str:
        """``blocked``, ``changes``, ``unreachable`` (nothing to apply, but declared states
        cannot be reached, or were left unchecked by Settings scope) or ``no-changes``."""
        if self.blocked:
            return "blocked"
        if self.changes:
            return "changes"
        return "unreachable" if self.unreachable or self.outside_scope else "no-changes"

    def money_totals(self) -> MoneyImpact:
        issue = sum((c.money.issue for c in self.changes if c.money), ZERO)
        reclaim = sum((c.money.reclaim for c in self.changes if c.money), ZERO)
        lost = sum((c.money.unrecoverable for c in self.changes if c.money), ZERO)
        return MoneyImpact(issue=money(issue), reclaim=money(reclaim), unrecoverable=money(lost))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.action] = out.get(c.action, 0) + 1
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "changes": len(self.changes),
            "manual": sum(1 for c in self.changes if c.manual),
            "actions": dict(sorted(self.counts().items())),
            "in_scope": dict(sorted(self.in_scope.items())),
            "not_applicable": len(self.unreachable),
            "money": self.money_totals().to_dict(),
            "blocked": self.blocked,
            "status": self.status,
        }

    def content(self) -> dict[str, Any]:
        """Everything the checksum covers: all but timestamps and the checksum itself."""
        return {
            **self._head(),
            "changes": [c.to_dict() for c in self.changes],
            "notices": [n.to_dict() for n in self.notices],
        }

    def _head(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "endpoint": self.endpoint,
            "partner_id": self.partner_id,
            "manifest_checksum": self.manifest_checksum,
            "scope": dict(self.scope),
            "targets": list(self.targets),
            "summary": self.summary(),
            "guards": [g.to_dict() for g in self.guards],
        }

    @property
    def checksum(self) -> str:
        """``fingerprint(self.content())``, a change at a time."""
        return streamed_fingerprint(
            self._head(),
            {
                "changes": (c.to_dict() for c in self.changes),
                "notices": (n.to_dict() for n in self.notices),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        out = self.content()
        checksum = fingerprint(out)  # self.checksum, from the content already built
        out["tool_version"] = self.tool_version
        out["created_at"] = self.created_at
        out["expires_at"] = self.expires_at
        out["checksum"] = checksum
        return out


def make_plan(
    *,
    changes: Iterable[Change],
    notices: Iterable[Notice],
    guards: Iterable[GuardResult],
    order: KindOrder,
    **fields: Any,
) -> Plan:
    """A :class:`Plan` with changes, notices and guards in canonical order."""
    return Plan(
        changes=tuple(sorted(changes, key=order.change)),
        notices=tuple(sorted(notices, key=order.notice)),
        guards=tuple(sorted(guards, key=lambda g: g.name)),
        **fields,
    )
