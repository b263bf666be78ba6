"""The reclaim phase of one parent quota: whole reseller quotas back to it, 10 ids per call.

Each call is journalled (its remark names the operation, so its record can be found), preceded by
the records check for other writers, and its per-item failures inside HTTP 200 are tried once
more for the quotas a re-read shows still reclaimable. Afterwards the quotas must be reclaimed
(status 6), and the amount each returned is taken from its record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec, new_id
from reconciler.apply.ops import ITEM_RETRIES, ExecContext, Sent, journalled
from reconciler.bss.queries import MAX_RECLAIM_QUOTAS
from reconciler.kinds.reseller_quota.diff import RECLAIM
from reconciler.kinds.reseller_quota.records import attribute_reclaims
from reconciler.kinds.reseller_quota.work import (
    QuotaWork,
    Unopposed,
    batches,
    pre_state,
    refresh,
    unique,
    why,
)
from reconciler.plan.model import ZERO, fmt_money

if TYPE_CHECKING:
    from reconciler.bss.models import ReclaimResult

RECLAIMED = 6


async def reclaim_phase(
    ctx: ExecContext,
    parent_id: str,
    works: list[QuotaWork],
    unopposed: Unopposed,
) -> None:
    pending = [(w, q) for w in works for q in w.reclaim_ids]
    for attempt in range(ITEM_RETRIES + 1):
        retry: list[tuple[QuotaWork, str]] = []
        for batch in batches(pending, MAX_RECLAIM_QUOTAS):
            live = await unopposed(ctx, parent_id, unique(w for w, _ in batch))
            chunk = [(w, q) for w, q in batch if w.reseller_id in live]
            if not chunk:
                continue
            sent = await _reclaim(ctx, parent_id, chunk)
            for work, qid in chunk:
                out = sent.items[qid]
                work.reclaims[qid], work.reclaim_ops[qid] = out.state, sent.op_id
                if out.state == "failed":
                    work.problems.append(f"reclaim of quota {qid} failed: {why(out)}")
                    if out.retryable:
                        retry.append((work, qid))
            if sent.unknown:
                await _settle_now(ctx, sent.op_id, {q: w for w, q in chunk})
        if not retry or attempt == ITEM_RETRIES:
            return
        await refresh(ctx, parent_id, unique(w for w, _ in retry))
        pending = [(w, q) for w, q in retry if _reclaimable(w, q)]
        if not pending:
            return


def _reclaimable(work: QuotaWork, qid: str) -> bool:
    quota = next((q for q in work.children if q.quota_id == qid), None)
    return quota is not None and quota.quota_status == 0 and (quota.balance or ZERO) > ZERO


async def _reclaim(ctx: ExecContext, parent_id: str, chunk: list[tuple[QuotaWork, str]]) -> Sent:
    op_id = new_id("op")
    ids = [qid for _, qid in chunk]
    remark = f"partner-reconciler {op_id}"
    spec = OpSpec(
        operation=RECLAIM,
        target=parent_id,
        request={"quota_ids": ids, "remark": remark},
        pre_state=pre_state(parent_id, unique(w for w, _ in chunk)),
        items=[ItemSpec(qid, w.change.key, w.reseller_id, _balance_of(w, qid)) for w, qid in chunk],
    )

    async def call(_op: str) -> ReclaimResult:
        return await ctx.client.reclaim_coupon_quotas(ids, remark=remark)

    def interpret(result: ReclaimResult) -> dict[str, ItemOutcome]:
        out = {q: ItemOutcome("committed", quota_id=q) for q in result.successes if q in ids}
        for f in result.failures:
            if f.id in ids:
                out[f.id] = ItemOutcome("failed", None, f.error_code, f.error_msg, True)
        for q in ids:
            out.setdefault(q, ItemOutcome("unknown", detail="not mentioned in the answer"))
        return out

    sent = await journalled(ctx, spec, call, interpret, money=True, op_id=op_id)
    ctx.progress(f"  reclaim {len(ids)} quota(s) from {parent_id}: {sent.state} [{op_id}]")
    return sent


def _balance_of(work: QuotaWork, qid: str) -> str | None:
    quota = next((q for q in work.children if q.quota_id == qid), None)
    return fmt_money(quota.balance) if quota is not None and quota.balance is not None else None


async def _settle_now(ctx: ExecContext, op_id: str, works: dict[str, QuotaWork]) -> None:
    """Right after an unknown answer: accept proof of a commit; anything else stays unknown."""
    op = ctx.journal.operation(op_id)
    assert op is not None
    settled = await ctx.settle_now(op)
    for item in settled.items:
        work = works.get(item.item_id)
        if work is not None and item.committed:
            work.reclaims[item.item_id] = "committed"


async def verify_reclaims(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> None:
    """Verify the reclaimed quotas and take each reclaimed amount from its record "11"."""
    done = [(w, q) for w in works for q, state in w.reclaims.items() if state == "committed"]
    found = await attribute_reclaims(ctx, parent_id, [(w.reclaim_ops[q], q) for w, q in done])
    for work, qid in done:
        op_id, record = work.reclaim_ops[qid], found.get(qid)
        if record is not None and record.amount is not None:
            back = f"{work.money(record.amount)} back to {parent_id}"
            work.log.append(f"reclaimed quota {qid}: {back} [{op_id}]")
        else:
            work.log.append(f"reclaimed quota {qid} [{op_id}] (no record found yet)")
        quota = next((q for q in work.children if q.quota_id == qid), None)
        if quota is None or quota.quota_status != RECLAIMED:
            status = "missing" if quota is None else f"status {quota.quota_status}"
            work.problems.append(f"quota {qid} is not reclaimed after the call ({status})")
            work.reclaims[qid] = "failed"
