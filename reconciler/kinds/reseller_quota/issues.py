"""The issue phase of one parent quota: the reseller balances topped up to their targets.

Issues are grouped by amount, up to 100 resellers per call. An issue is sent only when the
reseller's balance is exactly where it starts from (``target - amount``), so money never moves on
a stale picture, and never after a reclaim of the same reseller failed or is unknown. Each call
is preceded by the records check for other writers; per-item failures inside HTTP 200 are tried
once more for the resellers a re-read shows still need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec
from reconciler.apply.ops import ITEM_RETRIES, ExecContext, Sent, journalled
from reconciler.bss.queries import MAX_ISSUE_RESELLERS
from reconciler.kinds.reseller_quota.diff import ISSUE
from reconciler.kinds.reseller_quota.work import (
    QuotaWork,
    Unopposed,
    batches,
    pre_state,
    refresh,
    why,
)
from reconciler.plan.model import fmt_money
from reconciler.render.words import amount as fmt_amount

if TYPE_CHECKING:
    from reconciler.bss.models import IssueResult


def may_issue(work: QuotaWork) -> bool:
    failed = [q for q, s in work.reclaims.items() if s == "failed"]
    if failed:
        work.problems.append(
            f"issue of {work.money(work.issue)} skipped: the reclaim of {', '.join(failed)} "
            "did not happen"
        )
        return False
    if work.unknown:
        work.problems.append(
            f"issue of {work.money(work.issue)} skipped until the reclaim's outcome is settled"
        )
        return False
    return needs_issue(work)


def needs_issue(work: QuotaWork) -> bool:
    """True only when the live balance is exactly where the planned issue starts from."""
    if work.balance == work.target:
        return False
    if work.balance + work.issue == work.target:
        return True
    work.problems.append(
        f"balance is {work.money(work.balance)}, not the "
        f"{work.money(work.target - work.issue)} the issue of {work.money(work.issue)} starts "
        "from: issue skipped; run plan again"
    )
    return False


async def issue_phase(
    ctx: ExecContext, parent_id: str, works: list[QuotaWork], unopposed: Unopposed
) -> None:
    todo = works
    for attempt in range(ITEM_RETRIES + 1):
        retry: list[QuotaWork] = []
        for amount, group in _by_amount(todo):
            for batch in batches(group, MAX_ISSUE_RESELLERS):
                live = await unopposed(ctx, parent_id, batch)
                chunk = [w for w in batch if w.reseller_id in live]
                if not chunk:
                    continue
                sent = await _issue(ctx, parent_id, amount, chunk)
                retry += _record_issue(sent, chunk)
                if sent.unknown:
                    await _settle_now(ctx, sent.op_id, {w.reseller_id: w for w in chunk})
        if not retry or attempt == ITEM_RETRIES:
            return
        await refresh(ctx, parent_id, retry)
        todo = [w for w in retry if needs_issue(w)]
        if not todo:
            return


def _record_issue(sent: Sent, chunk: list[QuotaWork]) -> list[QuotaWork]:
    """Note each reseller's outcome; return those whose per-item failure may be retried."""
    retry = []
    for work in chunk:
        out = sent.items[work.reseller_id]
        work.issue_state = out.state
        if out.state == "committed":
            where = f" on quota {out.quota_id}" if out.quota_id else ""
            work.log.append(f"issued {work.money(work.issue)}{where} [{sent.op_id}]")
        elif out.state == "failed":
            work.problems.append(f"issue of {work.money(work.issue)} failed: {why(out)}")
            if out.retryable:
                retry.append(work)
    return retry


async def _issue(ctx: ExecContext, parent_id: str, amount: Decimal, chunk: list[QuotaWork]) -> Sent:
    rids = [w.reseller_id for w in chunk]
    spec = OpSpec(
        operation=ISSUE,
        target=parent_id,
        request={
            "quota_id": parent_id,
            "indirect_partner_ids": rids,
            "quota_amount": fmt_money(amount),
        },
        pre_state=pre_state(parent_id, chunk),
        items=[
            ItemSpec(w.reseller_id, w.change.key, w.reseller_id, fmt_money(amount)) for w in chunk
        ],
    )

    async def call(_op: str) -> IssueResult:
        return await ctx.client.update_coupon_quotas(parent_id, rids, amount)

    def interpret(result: IssueResult) -> dict[str, ItemOutcome]:
        out = {r: ItemOutcome("committed", quota_id=q) for r, q in result.successes.items()}
        for f in result.failures:
            out[f.id] = ItemOutcome("failed", None, f.error_code, f.error_msg, True)
        for rid in rids:
            out.setdefault(rid, ItemOutcome("unknown", detail=result.unknown_detail(rid)))
        return {rid: out[rid] for rid in rids}

    sent = await journalled(ctx, spec, call, interpret, money=True)
    ctx.progress(
        f"  issue {fmt_amount(amount)} to {len(rids)} reseller(s) from {parent_id}: "
        f"{sent.state} [{sent.op_id}]"
    )
    return sent


async def _settle_now(ctx: ExecContext, op_id: str, works: dict[str, QuotaWork]) -> None:
    """Right after an unknown answer: accept proof of a commit; anything else stays unknown."""
    op = ctx.journal.operation(op_id)
    assert op is not None
    settled = await ctx.settle_now(op)
    for item in settled.items:
        work = works.get(item.item_id)
        if work is not None and item.committed:
            work.issue_state = "committed"
            work.log.append(f"issued {work.money(work.issue)} [{op_id}, settled: {item.detail}]")


def _by_amount(works: Sequence[QuotaWork]) -> list[tuple[Decimal, list[QuotaWork]]]:
    groups: dict[Decimal, list[QuotaWork]] = {}
    for work in works:
        groups.setdefault(work.issue, []).append(work)
    return sorted(groups.items())
