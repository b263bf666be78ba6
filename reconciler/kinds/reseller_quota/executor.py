"""Executing reseller-quota changes, one distributor (parent) quota at a time.

Within a parent quota everything is sequential, because the API refuses a second operation on a
quota while one is running (``CBC.50000045``): first every reclaim, in batches of up to 10 quota
ids (:mod:`.reclaims`), then every issue, grouped by amount in batches of up to 100 resellers
(:mod:`.issues`). Different parent quotas run concurrently (one :class:`Group` each).

Each step re-reads what it touched (one call per reseller): before anything is written, to check
that the reseller still looks as the plan saw it (its fingerprint); after the reclaims, to confirm
the quotas are reclaimed and to learn the balance the issue starts from; after the issues, to
verify the target. Before each reclaim or issue call the parent's records since the run began are
read again: a record of one of the call's resellers that this journal did not make stops that
pair (:func:`reconciler.apply.writers.outside_writes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from reconciler.apply.writers import outside_writes
from reconciler.kinds.reseller_quota.diff import ISSUE
from reconciler.kinds.reseller_quota.issues import issue_phase, may_issue
from reconciler.kinds.reseller_quota.reclaims import reclaim_phase, verify_reclaims
from reconciler.kinds.reseller_quota.records import attribute_issues, fetch_records
from reconciler.kinds.reseller_quota.work import (
    QuotaWork,
    as_planned,
    conclude,
    parse_work,
    refresh,
)
from reconciler.kinds.spec import Group
from reconciler.plan.model import ZERO

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext
    from reconciler.plan.model import Change


def groups(changes: Sequence[Change]) -> list[Group]:
    """One group per parent quota (its changes run in sequence), in parent order."""
    by_parent: dict[str, list[Change]] = {}
    for change in changes:
        by_parent.setdefault(change.key.split("/")[1], []).append(change)
    return [
        Group(tuple(found), partial(_run, parent=parent, changes=tuple(found)))
        for parent, found in sorted(by_parent.items())
    ]


async def _run(ctx: ExecContext, *, parent: str, changes: tuple[Change, ...]) -> None:
    await run_parent(ctx, parent, [parse_work(c) for c in changes])


async def run_parent(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> None:
    """All changes drawing on one parent quota: check, reclaim, issue, verify."""
    await refresh(ctx, parent_id, works)
    ready = [w for w in works if as_planned(ctx, w)]
    reclaimers = [w for w in ready if w.reclaim_ids]
    if reclaimers:
        await reclaim_phase(ctx, parent_id, reclaimers, _unopposed)
        await refresh(ctx, parent_id, reclaimers)
        await verify_reclaims(ctx, parent_id, reclaimers)
    issuers = [w for w in ready if w.issue > ZERO and not w.stopped and may_issue(w)]
    if issuers:
        await issue_phase(ctx, parent_id, issuers, _unopposed)
        await refresh(ctx, parent_id, issuers)
        ops = ctx.journal.operations(run_id=ctx.run_id, target=parent_id)
        await attribute_issues(ctx, parent_id, [op for op in ops if op.operation == ISSUE])
    for work in ready:
        conclude(ctx, work)


async def _unopposed(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> set[str]:
    """Re-read the pairs' records right before a money write; stop the pairs another writer is
    active on. Returns the resellers still to write."""
    live = {w.reseller_id for w in works if not w.stopped}
    fetch = partial(fetch_records, ctx.client, parent_id)
    stops = await outside_writes(ctx, parent_id, live, fetch, delta_ops=(ISSUE,))
    for rid, why in stops.items():
        for work in works:
            if work.reseller_id == rid:
                work.stopped = why
        live.discard(rid)
    return live
