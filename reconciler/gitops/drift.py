"""Drift: where the live partner account no longer matches the manifests, and what heals it.

Drift is the plan seen from the other side. Every change the plan would make and every
difference it cannot make (a *not-applicable* notice) is a drifted object, reported with the
value the manifests want, the value live state has, the money healing would move, and whether
``reconciler apply`` can heal it:

* ``apply``: what apply changes (each kind says how, and what it moves);
* ``manual``: what the partner API cannot change (a person does it in Partner Center, or the
  manifest is changed to accept the live value), and every declared state apply cannot reach
  (*unreachable*: an expired or frozen resource, a customer without the agency, a quota being
  adjusted). A person must act first, or change the manifest.
* ``none`` is no longer produced (format 1.0 used it for the unreachable states).

What the manifests ask for that apply would stop on (a customer or reseller that left, a
distributor quota gone or too small to fund the targets, a quota several kinds draw on beyond
its balance) is reported as *problems*: also
drift, since the manifests on the main branch were planned cleanly once. A manager no customer
has any more is not a problem here, as it is for plan: it is the drift of the customers that had
it. Guards never hide drift; the report names a guard that would stop ``apply``. Nothing here
writes.

The pipeline is :func:`reconciler.plan.planner.build_plan`'s, step by step, keeping the live
state so each item can show both sides; a test holds the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import __version__
from reconciler.kinds import registry
from reconciler.kinds.spec import HEAL_APPLY, HEAL_MANUAL, HEAL_NONE, DriftView
from reconciler.memory import run as run_coroutine
from reconciler.plan import shared
from reconciler.plan.guards import evaluate
from reconciler.plan.model import (
    ZERO,
    Change,
    GuardResult,
    MoneyImpact,
    Notice,
    fingerprint,
    money,
)
from reconciler.plan.planner import (
    PlanContext,
    diff_kinds,
    iso,
    read_live,
    require_agency_name,
)
from reconciler.plan.scope import narrow, parse_targets

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.emulator.clock import Clock
    from reconciler.errors import ManifestProblem, SourcePosition
    from reconciler.manifests.desired import DesiredState

FORMAT_VERSION = "1.1"

__all__ = ["HEAL_APPLY", "HEAL_MANUAL", "HEAL_NONE", "DriftItem", "DriftReport", "detect"]


@dataclass(frozen=True)
class DriftItem:
    """One object whose live state differs from its manifest."""

    kind: str
    key: str
    subject: str
    status: str  # "drifted" (apply plans a change) | "not-applicable"
    desired: Mapping[str, Any]
    live: Mapping[str, Any]
    heal: str  # HEAL_APPLY | HEAL_MANUAL | HEAL_NONE
    reason: str
    action: str | None = None
    money: MoneyImpact | None = None
    source: SourcePosition | None = None
    fingerprint: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def healable(self) -> bool:
        return self.heal == HEAL_APPLY

    def sort_key(self) -> tuple[int, str]:
        return registry.ORDER.kind(self.kind), self.key

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "subject": self.subject,
            "status": self.status,
            "desired": dict(self.desired),
            "live": dict(self.live),
            "healable": self.healable,
            "heal": self.heal,
            "reason": self.reason,
            "action": self.action,
            "money": self.money.to_dict() if self.money else None,
            "source": _position(self.source),
            "fingerprint": self.fingerprint,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DriftReport:
    """The whole drift report. ``in_sync`` when there are no items and no problems."""

    items: tuple[DriftItem, ...]
    problems: tuple[ManifestProblem, ...]
    guards: tuple[GuardResult, ...]
    in_scope: Mapping[str, int]
    manifest_checksum: str
    endpoint: str
    partner_id: str
    tool_version: str
    created_at: str
    scope: Mapping[str, Any] = field(default_factory=dict)

    @property
    def in_sync(self) -> bool:
        return not self.items and not self.problems

    @property
    def blocking_guards(self) -> tuple[GuardResult, ...]:
        return tuple(g for g in self.guards if g.blocks)

    @property
    def apply_possible(self) -> bool:
        """Whether ``apply`` could run now: no problems and no guard in the way."""
        return not self.problems and not self.blocking_guards

    def count(self, heal: str) -> int:
        return sum(1 for i in self.items if i.heal == heal)

    @property
    def unreachable(self) -> int:
        """Declared states apply cannot reach (heal ``manual``, status ``not-applicable``)."""
        return sum(1 for i in self.items if i.status == "not-applicable")

    def money_totals(self) -> MoneyImpact:
        """What healing every healable item would move."""
        moves = [i.money for i in self.items if i.money and i.healable]
        return MoneyImpact(
            issue=money(sum((m.issue for m in moves), ZERO)),
            reclaim=money(sum((m.reclaim for m in moves), ZERO)),
            unrecoverable=money(sum((m.unrecoverable for m in moves), ZERO)),
        )

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for item in self.items:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        return {
            "in_sync": self.in_sync,
            "drifted": len(self.items),
            "healable": self.count(HEAL_APPLY),
            "manual": self.count(HEAL_MANUAL),
            "unreachable": self.unreachable,
            "not_healable": self.count(HEAL_NONE),
            "problems": len(self.problems),
            "by_kind": dict(sorted(kinds.items())),
            "in_scope": dict(sorted(self.in_scope.items())),
            "money": self.money_totals().to_dict(),
            "apply_possible": self.apply_possible,
        }

    def content(self) -> dict[str, Any]:
        """What :attr:`checksum` covers: the drift itself, not when or by what it was seen."""
        return {
            "format_version": FORMAT_VERSION,
            "endpoint": self.endpoint,
            "partner_id": self.partner_id,
            "manifest_checksum": self.manifest_checksum,
            "scope": dict(self.scope),
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
            "problems": [_problem(p) for p in self.problems],
            "guards": [g.to_dict() for g in self.guards if not g.ok],
        }

    @property
    def checksum(self) -> str:
        """Equal for two runs that saw the same drift (CI updates the drift issue only then)."""
        return fingerprint(self.content())

    def to_dict(self) -> dict[str, Any]:
        out = self.content()
        out["report"] = "drift"
        out["tool_version"] = self.tool_version
        out["created_at"] = self.created_at
        out["checksum"] = self.checksum
        return out


def _position(pos: SourcePosition | None) -> dict[str, Any] | None:
    return None if pos is None else {"file": pos.file, "line": pos.line, "col": pos.col}


def _problem(p: ManifestProblem) -> dict[str, Any]:
    return {**(_position(p.position) or {}), "path": p.path, "message": p.message}


# -- detection ------------------------------------------------------------------------------


async def detect(
    desired: DesiredState, client: BssClient, ctx: PlanContext, clock: Clock
) -> DriftReport:
    """Read, diff, classify. Raises only for errors that stop the reading itself."""
    desired, narrowing = narrow(desired, ctx.targets)
    require_agency_name(desired, client.agency_name)  # configuration, not drift: stop here
    live, problems = await read_live(
        desired,
        client,
        verify_agencies=ctx.verify_agencies,
        check_managers=False,
        keep_credentials=False,  # drift acts as no customer
        clock=clock,
    )
    results = diff_kinds(_managers_known(desired), live)
    for result in results.values():
        problems += result.problems
    changes = sorted((c for r in results.values() for c in r.changes), key=registry.ORDER.change)
    problems += shared.check(changes, live)  # several kinds drawing on one pool, as plan does
    notices = [n for r in results.values() for n in r.notices if n.level == "not-applicable"]
    in_scope = {kind: r.in_scope for kind, r in results.items() if r.in_scope}
    views = {k.id: k.drift_view(desired, live) for k in registry.KINDS}
    items = [_from_change(c, views[c.kind]) for c in changes]
    items += [_from_notice(n, views[n.kind]) for n in notices]
    return DriftReport(
        items=tuple(sorted(items, key=DriftItem.sort_key)),
        problems=tuple(sorted(set(problems))),
        guards=tuple(evaluate(changes, in_scope, desired.settings.guards, (), registry.GUARDS)),
        in_scope=in_scope,
        manifest_checksum=desired.checksum,
        endpoint=ctx.endpoint,
        partner_id=ctx.partner_id,
        tool_version=__version__,
        created_at=iso(clock.time()),
        scope=narrowing.to_dict(),
    )


def detect_drift(
    paths: Sequence[str | Path],
    *,
    endpoint: str | None = None,
    profile: str | None = None,
    clock: Clock | None = None,
    verify_agencies: bool = True,
    targets: Sequence[str] = (),
) -> DriftReport:
    """Load the manifests, connect and :func:`detect` (the ``reconciler drift`` command)."""
    from reconciler.connect import connect, resolve_target
    from reconciler.emulator.clock import SystemClock
    from reconciler.manifests.load import load_desired

    selected = parse_targets(targets)
    desired = load_desired(paths)
    clock = clock or SystemClock()

    async def run() -> DriftReport:
        target = resolve_target(endpoint, profile or desired.settings.endpoint_profile)
        async with connect(target, agency_name=desired.settings.agency_name, clock=clock) as conn:
            ctx = PlanContext(
                endpoint=target.label,
                partner_id=conn.partner_id,
                verify_agencies=verify_agencies,
                targets=selected,
            )
            return await detect(desired, conn.client, ctx, clock)

    return run_coroutine(run())


def _managers_known(desired: DesiredState) -> DesiredState:
    """Plan refuses a manager no customer has and the roster lacks (a typo, in a pull request).
    Drift must not: when the last customer of a manager is changed in the console, that manager
    is exactly what the report is about. The manifest checksum stays the original one."""
    names = set().union(*(k.managers_named(desired) for k in registry.KINDS))
    roster = tuple(sorted(names | set(desired.settings.account_managers)))
    return replace(desired, settings=replace(desired.settings, account_managers=roster))


def _from_change(change: Change, view: DriftView) -> DriftItem:
    heal, reason = registry.kind(change.kind).heal(change)
    return DriftItem(
        kind=change.kind,
        key=change.key,
        subject=change.subject,
        status="drifted",
        desired=dict(change.after),
        live=dict(view.change_live(change)),
        heal=heal,
        reason=reason,
        action=change.action,
        money=change.money,
        source=change.source,
        fingerprint=change.fingerprint,
        notes=change.notes,
    )


def _from_notice(notice: Notice, view: DriftView) -> DriftItem:
    desired, live = view.notice_sides(notice)
    return DriftItem(
        kind=notice.kind,
        key=notice.key,
        subject=notice.subject,
        status="not-applicable",
        desired=dict(desired),
        live=dict(live),
        heal=HEAL_MANUAL,
        reason=notice.message,
        source=notice.source,
    )
