"""Executing reseller-quota changes, one distributor (parent) quota at a time.

Within a parent quota everything is sequential, because the API refuses a second operation on a
quota while one is running (``CBC.50000045``): first every reclaim, in batches of up to 10 quota
ids, then every issue, grouped by amount in batches of up to 100 resellers. Different parent
quotas run concurrently.

Each step re-reads what it touched (one call per reseller): before anything is written, to check
that the reseller still looks as the plan saw it (its fingerprint); after the reclaims, to confirm
the quotas are reclaimed and to learn the balance the issue starts from; after the issues, to
verify the target. An issue is sent only when the balance it starts from is exactly
``target - amount``, so money never moves on a stale picture. A reseller whose reclaim failed or
is unknown does not get its issue. Per-item failures inside HTTP 200 are tried again once, and
only for resellers (or quotas) that a re-read shows still need it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from reconciler.apply.evidence import RecordFacts, quota_record_facts
from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec, new_id
from reconciler.apply.ops import ITEM_RETRIES, ExecContext, Sent, journalled
from reconciler.apply.settle import ISSUE, RECLAIM, settle_operation
from reconciler.apply.writers import attribute_issues, attribute_reclaims, outside_writes
from reconciler.bss.queries import MAX_ISSUE_RESELLERS, MAX_RECLAIM_QUOTAS
from reconciler.kinds.reseller_quota import live_balance, live_object
from reconciler.plan.model import ZERO, fingerprint, fmt_money, money
from reconciler.plan.pools import pool_map, workers_for
from reconciler.render.words import amount as fmt_amount

if TYPE_CHECKING:
    from reconciler.bss.models import IssuedQuota, IssueResult, ReclaimResult
    from reconciler.plan.model import Change

T = TypeVar("T")
RECLAIMED = 6


@dataclass
class QuotaWork:
    """One reseller-quota change on its way: what it needs and what has happened so far."""

    change: Change
    parent_id: str
    reseller_id: str
    target: Decimal
    reclaim_ids: tuple[str, ...]
    issue: Decimal
    currency: str = "CNY"
    children: list[IssuedQuota] = field(default_factory=list)
    reclaims: dict[str, str] = field(default_factory=dict)  # quota id -> item state
    reclaim_ops: dict[str, str] = field(default_factory=dict)  # quota id -> op id
    issue_state: str | None = None
    stopped: str | None = None  # another writer is active on the pair: nothing more is written
    log: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return live_balance(self.children)

    @property
    def unknown(self) -> bool:
        return "unknown" in self.reclaims.values() or self.issue_state == "unknown"

    def snapshot(self) -> object:
        return live_object(self.reseller_id, self.parent_id, self.children)

    def money(self, value: Decimal) -> str:
        return fmt_amount(value, self.currency)


def parse_work(change: Change) -> QuotaWork:
    """The parent, reseller, target, reclaims and issue a reseller-quota change carries."""
    _, parent_id, reseller_id = change.key.split("/")
    reclaim_ids: list[str] = []
    issue = ZERO
    for call in change.calls:
        body = call.body or {}
        if call.operation == RECLAIM:
            reclaim_ids += [str(q) for q in body["quota_ids"]]
        elif call.operation == ISSUE:
            issue = money(body["quota_amount"])
    return QuotaWork(
        change=change,
        parent_id=parent_id,
        reseller_id=reseller_id,
        target=money(change.after["balance"]),
        reclaim_ids=tuple(reclaim_ids),
        issue=issue,
        currency=change.money.currency if change.money else "CNY",
    )


async def run_parent(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> None:
    """All changes drawing on one parent quota: check, reclaim, issue, verify."""
    await _refresh(ctx, parent_id, works)
    ready = [w for w in works if _as_planned(ctx, w)]
    reclaimers = [w for w in ready if w.reclaim_ids]
    if reclaimers:
        await _reclaim_phase(ctx, parent_id, reclaimers)
        await _refresh(ctx, parent_id, reclaimers)
        await _attribute_reclaims(ctx, parent_id, reclaimers)
    issuers = [w for w in ready if w.issue > ZERO and not w.stopped and _may_issue(w)]
    if issuers:
        await _issue_phase(ctx, parent_id, issuers)
        await _refresh(ctx, parent_id, issuers)
        ops = ctx.journal.operations(run_id=ctx.run_id, target=parent_id)
        await attribute_issues(ctx, parent_id, [op for op in ops if op.operation == ISSUE])
    for work in ready:
        _conclude(ctx, work)


async def _unopposed(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> set[str]:
    """Re-read the pairs' records right before a money write; stop the pairs another writer is
    active on (see :mod:`reconciler.apply.writers`). Returns the resellers still to write."""
    live = {w.reseller_id for w in works if not w.stopped}

    async def fetch(begin: str) -> list[RecordFacts]:
        found = await ctx.client.all_coupon_quotas_records(
            parent_quota_id=parent_id, operation_time_begin=begin
        )
        return [quota_record_facts(r) for r in found]

    stops = await outside_writes(ctx, parent_id, live, fetch, delta_ops=(ISSUE,))
    for rid, why in stops.items():
        for work in works:
            if work.reseller_id == rid:
                work.stopped = why
        live.discard(rid)
    return live


async def _refresh(ctx: ExecContext, parent_id: str, works: Sequence[QuotaWork]) -> None:
    """Re-read the resellers' quotas from ``parent_id`` (one call each, paced per API)."""
    rids = sorted({w.reseller_id for w in works})

    async def read(rid: str) -> tuple[str, list[IssuedQuota]]:
        found = await ctx.client.all_issued_coupon_quotas(
            indirect_partner_id=rid, parent_quota_id=parent_id
        )
        return rid, found

    rate = ctx.client.rate_for("list_issued_coupon_quotas")
    rows = dict(await pool_map(rids, read, workers_for(rate)))
    for work in works:
        work.children = rows[work.reseller_id]


def _as_planned(ctx: ExecContext, work: QuotaWork) -> bool:
    if fingerprint(work.snapshot()) == work.change.fingerprint:
        return True
    ctx.conclude(
        work.change,
        "skipped",
        f"changed since the plan was made (balance now {work.money(work.balance)}); "
        "nothing was written for it: run plan again",
    )
    return False


# -- reclaims --------------------------------------------------------------------------------


async def _reclaim_phase(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> None:
    pending = [(w, q) for w in works for q in w.reclaim_ids]
    for attempt in range(ITEM_RETRIES + 1):
        retry: list[tuple[QuotaWork, str]] = []
        for batch in _batches(pending, MAX_RECLAIM_QUOTAS):
            live = await _unopposed(ctx, parent_id, _unique(w for w, _ in batch))
            chunk = [(w, q) for w, q in batch if w.reseller_id in live]
            if not chunk:
                continue
            sent = await _reclaim(ctx, parent_id, chunk)
            for work, qid in chunk:
                out = sent.items[qid]
                work.reclaims[qid], work.reclaim_ops[qid] = out.state, sent.op_id
                if out.state == "failed":
                    work.problems.append(f"reclaim of quota {qid} failed: {_why(out)}")
                    if out.retryable:
                        retry.append((work, qid))
            if sent.unknown:
                await _settle_now(ctx, sent.op_id, {q: w for w, q in chunk}, reclaim=True)
        if not retry or attempt == ITEM_RETRIES:
            return
        await _refresh(ctx, parent_id, _unique(w for w, _ in retry))
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
        pre_state=_pre_state(parent_id, _unique(w for w, _ in chunk)),
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


async def _attribute_reclaims(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> None:
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


# -- issues ----------------------------------------------------------------------------------


def _may_issue(work: QuotaWork) -> bool:
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
    return _needs_issue(work)


def _needs_issue(work: QuotaWork) -> bool:
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


async def _issue_phase(ctx: ExecContext, parent_id: str, works: list[QuotaWork]) -> None:
    todo = works
    for attempt in range(ITEM_RETRIES + 1):
        retry: list[QuotaWork] = []
        for amount, group in _by_amount(todo):
            for batch in _batches(group, MAX_ISSUE_RESELLERS):
                live = await _unopposed(ctx, parent_id, batch)
                chunk = [w for w in batch if w.reseller_id in live]
                if not chunk:
                    continue
                sent = await _issue(ctx, parent_id, amount, chunk)
                retry += _record_issue(sent, chunk)
                if sent.unknown:
                    await _settle_now(ctx, sent.op_id, {w.reseller_id: w for w in chunk})
        if not retry or attempt == ITEM_RETRIES:
            return
        await _refresh(ctx, parent_id, retry)
        todo = [w for w in retry if _needs_issue(w)]
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
            work.problems.append(f"issue of {work.money(work.issue)} failed: {_why(out)}")
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
        pre_state=_pre_state(parent_id, chunk),
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
            out.setdefault(rid, ItemOutcome("unknown", detail="not mentioned in the answer"))
        return {rid: out[rid] for rid in rids}

    sent = await journalled(ctx, spec, call, interpret, money=True)
    ctx.progress(
        f"  issue {fmt_amount(amount)} to {len(rids)} reseller(s) from {parent_id}: "
        f"{sent.state} [{sent.op_id}]"
    )
    return sent


# -- shared ----------------------------------------------------------------------------------


async def _settle_now(
    ctx: ExecContext, op_id: str, works: Mapping[str, QuotaWork], *, reclaim: bool = False
) -> None:
    """Right after an unknown answer: accept proof of a commit; anything else stays unknown."""
    op = ctx.journal.operation(op_id)
    assert op is not None
    settled = await settle_operation(
        ctx.client, ctx.journal, op, final=False, by=f"run {ctx.run_id}", ev=ctx.evidence()
    )
    for item in settled.op.items:
        work = works.get(item.item_id)
        if work is None or not item.committed:
            continue
        if reclaim:
            work.reclaims[item.item_id] = "committed"
        else:
            work.issue_state = "committed"
            work.log.append(f"issued {work.money(work.issue)} [{op_id}, settled: {item.detail}]")


def _conclude(ctx: ExecContext, work: QuotaWork) -> None:
    balance = work.balance
    if work.stopped:  # even when the other writer reached the target: two writers is the news
        now = f"balance now {work.money(balance)}, target {work.money(work.target)}"
        ctx.conclude(work.change, "frozen", work.stopped, now, *work.problems, *work.log)
    elif balance == work.target:
        ctx.conclude(work.change, "applied", *work.log)
    elif work.unknown:
        ctx.conclude(
            work.change,
            "unknown",
            *work.problems,
            *work.log,
            "outcome unknown: the next apply settles it from the API's records before writing",
        )
    else:
        ctx.conclude(
            work.change,
            "failed",
            *work.problems,
            f"balance is {work.money(balance)}, target {work.money(work.target)}",
            *work.log,
        )


def _pre_state(parent_id: str, works: Iterable[QuotaWork]) -> dict[str, object]:
    return {"parent_quota_id": parent_id, "resellers": {w.reseller_id: w.snapshot() for w in works}}


def _why(out: ItemOutcome) -> str:
    return " ".join(p for p in (out.error_code, out.detail) if p) or "no reason given"


def _by_amount(works: Sequence[QuotaWork]) -> list[tuple[Decimal, list[QuotaWork]]]:
    groups: dict[Decimal, list[QuotaWork]] = {}
    for work in works:
        groups.setdefault(work.issue, []).append(work)
    return sorted(groups.items())


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _unique(works: Iterable[QuotaWork]) -> list[QuotaWork]:
    return list({id(w): w for w in works}.values())
