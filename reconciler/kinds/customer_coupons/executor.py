"""Executing CustomerCoupons changes: check, reclaim, issue, verify.

All of a run's coupon changes form one group, run in sequence: the API serialises operations on
a quota (``CBC.50000045``) and a customer's reclaims must come back before its issues go out.

1. **Check.** Re-read each customer's coupons and issue records; a customer whose coupons are
   no longer as the plan saw them (its fingerprint) is skipped: nothing is written for it.
2. **Reclaim**, one coupon a call, each right after a check of its quota's records for other
   writers on that customer (a record this journal did not make stops the customer: frozen).
   An unknown outcome is settled at once if the records prove it; otherwise it stays unknown
   and the customer gets no issue in this run.
3. **Issue** what live state still lacks of what was planned (re-read after the reclaims: if
   another writer issued a planned coupon meanwhile, it is not issued twice), customers that get
   the same coupon together, up to 100 a call, again each call after the records check.
4. **Verify**: re-read, match exactly as the plan did, and conclude each change: applied,
   failed, unknown (settled by the next apply before it writes), frozen or skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.kinds.customer_coupons import calls
from reconciler.kinds.customer_coupons.batch import IssueBatch, IssueUnit, batches
from reconciler.kinds.customer_coupons.work import Reclaim, Work, parse_work, refresh
from reconciler.kinds.spec import Group

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext, Sent
    from reconciler.plan.model import Change


def groups(changes: Sequence[Change]) -> list[Group]:
    if not changes:
        return []
    works = [parse_work(c) for c in sorted(changes, key=lambda c: c.key)]

    async def run(ctx: ExecContext) -> None:
        await _run(ctx, works)

    return [Group(tuple(w.change for w in works), run)]


async def _run(ctx: ExecContext, works: list[Work]) -> None:
    await refresh(ctx, works)
    ready = [w for w in works if _as_planned(ctx, w)]
    for work in ready:
        for item in work.reclaims:
            if not await _reclaim(ctx, work, item):
                break
    issuers = [w for w in ready if w.issues and _may_issue(w)]
    if issuers:
        await refresh(ctx, issuers)
        await _issue_all(ctx, issuers)
    await refresh(ctx, ready)
    for work in ready:
        _conclude(ctx, work)


def _as_planned(ctx: ExecContext, work: Work) -> bool:
    if work.as_planned():
        return True
    why = work.unreadable or "its coupons changed since the plan was made"
    ctx.conclude(work.change, "skipped", f"{why}; nothing was written for it: run plan again")
    return False


async def _reclaim(ctx: ExecContext, work: Work, item: Reclaim) -> bool:
    """One reclaim; False when the customer must not be written to any more in this run."""
    others = await calls.others_on(ctx, item.quota_id, work.owner, [work.customer_id])
    if work.customer_id in others:
        work.stopped = others[work.customer_id]
        return False
    sent = await calls.reclaim(ctx, work, item)
    state = (await _states(ctx, sent))[item.coupon_id]
    work.reclaim_state[item.coupon_id] = state
    if state == "committed":
        found = await calls.attribute(ctx, sent, work.owner, {item.coupon_id: item.coupon_id}, "2")
        back = found.get(item.coupon_id)
        amount = f"{back.operation_amount:.2f} back to {item.quota_id}" if back else "reclaimed"
        work.log.append(f"reclaimed coupon {item.coupon_id}: {amount} [{sent.op_id}]")
        return True
    out = sent.items[item.coupon_id]
    why = " ".join(p for p in (out.error_code, out.detail) if p) or state
    work.problems.append(f"reclaim of coupon {item.coupon_id} {state}: {why}")
    return False


async def _states(ctx: ExecContext, sent: Sent) -> dict[str, str]:
    """Each item's state, after trying to prove unknown outcomes from the records at once
    (only a proven commit is accepted here; the rest stays unknown for the next apply)."""
    states = {item_id: out.state for item_id, out in sent.items.items()}
    if not sent.unknown:
        return states
    op = ctx.journal.operation(sent.op_id)
    assert op is not None
    settled = await ctx.settle_now(op)
    for item in settled.items:
        if states.get(item.item_id) == "unknown" and item.committed:
            states[item.item_id] = "committed"
    return states


def _may_issue(work: Work) -> bool:
    if work.stopped:
        return False
    pending = [c for c, s in work.reclaim_state.items() if s != "committed"]
    missing = [r.coupon_id for r in work.reclaims if r.coupon_id not in work.reclaim_state]
    if pending or missing:
        work.problems.append(
            f"no coupon issued: the reclaim of {', '.join(pending + missing)} did not happen "
            "(or is not settled yet)"
        )
        return False
    return True


async def _issue_all(ctx: ExecContext, works: list[Work]) -> None:
    """Issue what is still needed; customers whose issue failed inside HTTP 200 are read again
    and, if they still need it, tried once more."""
    by_customer = {w.customer_id: w for w in works}
    failed = await _send(ctx, _units(works, note=True), by_customer)
    retry = [by_customer[cid] for cid in sorted(failed) if not by_customer[cid].stopped]
    if retry:
        await refresh(ctx, retry)
        await _send(ctx, _units(retry, note=False), by_customer)


def _units(works: Sequence[Work], *, note: bool) -> list[IssueUnit]:
    units = []
    for work in works:
        needed = work.issues_still_needed() if work.unreadable is None else []
        if note and len(needed) < len(work.issues):
            work.log.append(
                f"{len(work.issues) - len(needed)} planned coupon(s) already held: not issued"
            )
        units += [IssueUnit(work.change.key, work.customer_id, i.body, i.spec) for i in needed]
    return units


async def _send(
    ctx: ExecContext, units: Sequence[IssueUnit], by_customer: dict[str, Work]
) -> set[str]:
    """Every batch, each after the records check; the customers whose item failed."""
    failed: set[str] = set()
    for batch in batches(units):
        quota, owner = str(batch.template["quota_id"]), batch.template.get("indirect_partner_id")
        others = await calls.others_on(ctx, quota, owner, batch.customer_ids)
        for cid, why in others.items():
            by_customer[cid].stopped = by_customer[cid].stopped or why
        live = tuple(u for u in batch.units if not by_customer[u.customer_id].stopped)
        if live:
            failed |= await _issue(ctx, IssueBatch(batch.template, live), by_customer)
    return failed


async def _issue(ctx: ExecContext, batch: IssueBatch, works: dict[str, Work]) -> set[str]:
    sent = await calls.issue(ctx, batch, works)
    states = await _states(ctx, sent)
    answered, failed = {}, set()
    for cid in batch.customer_ids:
        work, out, state = works[cid], sent.items[cid], states[cid]
        work.issue_states.append(state)
        face = batch.template["face_value"]
        if state == "committed":
            coupon = out.quota_id or _coupon_of(ctx, sent.op_id, cid)
            if coupon:
                answered[cid] = coupon
            work.log.append(f"issued coupon {coupon or '?'} of {face} [{sent.op_id}]")
            continue
        why = " ".join(p for p in (out.error_code, out.detail) if p) or state
        work.problems.append(f"issue of a {face} coupon {state}: {why} [{sent.op_id}]")
        if state == "failed" and sent.state == "committed":  # a failure inside HTTP 200
            failed.add(cid)
    await calls.attribute(ctx, sent, batch.template.get("indirect_partner_id"), answered, "1")
    return failed


def _coupon_of(ctx: ExecContext, op_id: str, item_id: str) -> str | None:
    op = ctx.journal.operation(op_id)
    item = next((i for i in op.items if i.item_id == item_id), None) if op else None
    return item.quota_id if item else None


def _conclude(ctx: ExecContext, work: Work) -> None:
    to_issue, to_reclaim = work.outstanding()
    left = len(to_issue) + len(to_reclaim)
    if work.stopped:
        ctx.conclude(work.change, "frozen", work.stopped, *work.problems, *work.log)
    elif work.unknown:  # even when live state looks done: the journal holds an open call
        ctx.conclude(
            work.change,
            "unknown",
            *work.problems,
            *work.log,
            "outcome unknown: the next apply tries to settle it before writing; a coupon record "
            "names no operator, so a call that took effect stays frozen until a person settles "
            "it (reconciler journal settle)",
        )
    elif left == 0 and work.unreadable is None:
        ctx.conclude(work.change, "applied", *work.log)
    else:
        state = work.unreadable or f"{len(to_issue)} to issue, {len(to_reclaim)} to reclaim"
        ctx.conclude(work.change, "failed", *work.problems, f"still {state}", *work.log)
