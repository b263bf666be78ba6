"""Guards: the plan refuses mass changes and large money moves unless told otherwise.

* ``max-change-percent`` (octoDNS style, every kind): more than ``maxChangePercent`` of one
  kind's managed objects change, once the kind manages ``minObjects`` or more.
* each kind's own limits (:class:`GuardSpec`, declared in its package: money per run, money per
  recipient, counts), e.g. the total quota a run issues. Each has a Settings key under
  ``spec.guards`` and a default.

A guard that trips blocks the plan (exit 3) unless its name is passed with ``--allow NAME``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.plan.model import ZERO, Change, GuardResult, fmt_money

if TYPE_CHECKING:
    from reconciler.manifests.desired import Guards

#: The guard every kind has.
CHANGE_PERCENT = "max-change-percent"

Observation = tuple[Decimal | int, str]  # the observed value and a detail (may be "")


@dataclass(frozen=True)
class GuardSpec:
    """A limit a kind's changes must respect unless the run passes ``--allow NAME``.

    ``observe`` gets the kind's changes in the plan. The limit is Settings
    ``spec.guards.<setting>`` (``default`` when absent); a money limit (a ``Decimal`` default)
    is written like every amount (``"5000.00"``), a count as a whole number. The Settings schema
    gains ``setting`` with ``title`` and ``description``.
    """

    name: str
    setting: str
    default: Decimal | int
    title: str
    description: str
    observe: Callable[[Sequence[Change]], Observation]
    unit: str = ""  #: counts: ``"reclaims"`` shows ``3 reclaims``

    @property
    def money(self) -> bool:
        return isinstance(self.default, Decimal)

    def shown(self, value: Decimal | int, *, observed: bool) -> str:
        if isinstance(value, Decimal):
            return fmt_money(value)
        return f"{value} {self.unit}" if observed and self.unit else str(value)


def money_per_run(
    name: str,
    setting: str,
    default: Decimal,
    *,
    title: str,
    description: str,
    detail: str,
    amount: Callable[[Change], Decimal] = lambda c: c.money.issue if c.money else ZERO,
) -> GuardSpec:
    """A cap on the money a run moves in total (e.g. quota issued)."""

    def observe(changes: Sequence[Change]) -> Observation:
        return sum((amount(c) for c in changes), ZERO), detail

    return GuardSpec(name, setting, default, title, description, observe)


def money_per_recipient(
    name: str,
    setting: str,
    default: Decimal,
    *,
    title: str,
    description: str,
    noun: str,
    recipient: Callable[[Change], str],
    amount: Callable[[Change], Decimal] = lambda c: c.money.issue if c.money else ZERO,
) -> GuardSpec:
    """A cap on the money one recipient (a reseller, a customer) gets in a run: the guard shows
    the largest, ``to reseller <id>``."""

    def observe(changes: Sequence[Change]) -> Observation:
        per: dict[str, Decimal] = {}
        for change in changes:
            if change.money is not None:
                who = recipient(change)
                per[who] = per.get(who, ZERO) + amount(change)
        top = max(per.items(), key=lambda kv: (kv[1], kv[0]), default=("", ZERO))
        return top[1], f"to {noun} {top[0]}" if top[0] else f"to any {noun}"

    return GuardSpec(name, setting, default, title, description, observe)


def count_per_run(
    name: str,
    setting: str,
    default: int,
    *,
    title: str,
    description: str,
    unit: str,
    count: Callable[[Change], int],
) -> GuardSpec:
    """A cap on how many of something a run does (e.g. whole quotas reclaimed)."""

    def observe(changes: Sequence[Change]) -> Observation:
        return sum(count(c) for c in changes), ""

    return GuardSpec(name, setting, default, title, description, observe, unit=unit)


def evaluate(
    changes: Sequence[Change],
    in_scope: Mapping[str, int],
    guards: Guards,
    allow: Collection[str],
    specs: Iterable[tuple[str, GuardSpec]],
) -> list[GuardResult]:
    """Every guard's verdict; ``specs`` are the kinds' guards as (kind id, guard)."""
    results = _percent(changes, in_scope, guards, allow)
    for kind, spec in specs:
        observed, detail = spec.observe([c for c in changes if c.kind == kind])
        limit = guards.limit(spec.setting, spec.default)
        results.append(
            GuardResult(
                spec.name,
                spec.shown(observed, observed=True),
                spec.shown(limit, observed=False),
                observed <= limit,
                spec.name in allow,
                detail,
            )
        )
    return results


def _percent(
    changes: Sequence[Change],
    in_scope: Mapping[str, int],
    guards: Guards,
    allow: Collection[str],
) -> list[GuardResult]:
    results = []
    for kind, total in sorted(in_scope.items()):
        changed = sum(1 for c in changes if c.kind == kind)
        if total < guards.min_objects or total == 0:
            continue
        pct = Decimal(changed * 100) / Decimal(total)
        results.append(
            GuardResult(
                CHANGE_PERCENT,
                f"{pct:.2f}%",
                f"{guards.max_change_percent}%",
                pct <= guards.max_change_percent,
                CHANGE_PERCENT in allow,
                f"{kind}: {changed} of {total} managed objects change",
            )
        )
    return results
