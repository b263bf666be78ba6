"""Guards: the plan refuses mass changes and large money moves unless told otherwise.

* ``max-change-percent`` (octoDNS style): more than ``maxChangePercent`` of one kind's managed
  objects change, once the kind manages ``minObjects`` or more.
* ``max-issue-per-run``: the total quota issued by the run.
* ``max-issue-per-reseller``: the quota issued to any one reseller.
* ``max-reclaims-per-run``: the number of reseller quotas reclaimed.

A guard that trips blocks the plan (exit 3) unless its name is passed with ``--allow NAME``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.plan.model import ZERO, Change, GuardResult, fmt_money

if TYPE_CHECKING:
    from reconciler.manifests.desired import Guards

NAMES = (
    "max-change-percent",
    "max-issue-per-run",
    "max-issue-per-reseller",
    "max-reclaims-per-run",
)


def evaluate(
    changes: Sequence[Change],
    in_scope: Mapping[str, int],
    guards: Guards,
    allow: Collection[str],
) -> list[GuardResult]:
    results = _percent(changes, in_scope, guards, allow)
    issued = [c for c in changes if c.money]
    total = sum((c.money.issue for c in issued if c.money), ZERO)
    results.append(
        _money_guard(
            "max-issue-per-run", total, guards.max_issue_per_run, allow, "issued by this run"
        )
    )
    per_reseller: dict[str, Decimal] = {}
    for c in issued:
        assert c.money is not None
        reseller = c.key.rsplit("/", 1)[-1]
        per_reseller[reseller] = per_reseller.get(reseller, ZERO) + c.money.issue
    top = max(per_reseller.items(), key=lambda kv: (kv[1], kv[0]), default=("", ZERO))
    results.append(
        _money_guard(
            "max-issue-per-reseller",
            top[1],
            guards.max_issue_per_reseller,
            allow,
            f"to reseller {top[0]}" if top[0] else "to any reseller",
        )
    )
    reclaims = sum(
        len(call.body.get("quota_ids", ()))
        for c in changes
        for call in c.calls
        if call.operation == "reclaim_coupon_quotas" and call.body is not None
    )
    limit = guards.max_reclaims_per_run
    results.append(
        GuardResult(
            "max-reclaims-per-run",
            f"{reclaims} reclaims",
            f"{limit}",
            reclaims <= limit,
            "max-reclaims-per-run" in allow,
        )
    )
    return results


def _money_guard(
    name: str, observed: Decimal, limit: Decimal, allow: Collection[str], detail: str
) -> GuardResult:
    return GuardResult(
        name, fmt_money(observed), fmt_money(limit), observed <= limit, name in allow, detail
    )


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
                "max-change-percent",
                f"{pct:.2f}%",
                f"{guards.max_change_percent}%",
                pct <= guards.max_change_percent,
                "max-change-percent" in allow,
                f"{kind}: {changed} of {total} managed objects change",
            )
        )
    return results
