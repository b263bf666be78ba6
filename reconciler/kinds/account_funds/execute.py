"""Executing AccountFunds changes: four phases, every inflow of an account before its outflows.

::

    1. reclaims from customers      (into the partner's or their reseller's account)
    2. reclaims from resellers      (into the partner's account)
    3. transfers to resellers       (out of the partner's account)
    4. transfers to customers       (out of the partner's or their reseller's account)

Each phase re-reads its recipients (customers' balances 100 per call, a reseller's accounts one
call each) and sends a transfer only to a recipient that looks exactly as planned; right before
each transfer the recipient's ledger is read for other writers. Transfers of a phase run
concurrently (one per recipient; the client paces each API). After the phase the recipients are
read again and each answered transfer's ledger record is looked up by its ``trans_id``.

A reseller's customer whose transfer depends on the reseller's own top-up in this run is skipped
when that top-up did not happen; a reseller whose customers' reclaims did not all happen no
longer has the balance its transfer was planned from, and is skipped by the re-read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec
from reconciler.apply.ops import ExecContext, journalled
from reconciler.kinds.account_funds import records as ledger_records
from reconciler.kinds.account_funds.changes import FUND, RECLAIM, reseller_key
from reconciler.kinds.account_funds.evidence import answered
from reconciler.kinds.account_funds.work import Work, parse_work, refresh
from reconciler.plan.model import fmt_money
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.apply.ops import Sent
    from reconciler.bss.cash import TransferResult
    from reconciler.plan.model import Change

_EPOCH = "1970-01-01T00:00:00Z"
PHASES = (("customer", RECLAIM), ("reseller", RECLAIM), ("reseller", FUND), ("customer", FUND))


async def run(ctx: ExecContext, changes: Sequence[Change]) -> None:
    """Every AccountFunds change of the plan (none frozen or manual), phase by phase."""
    works = [parse_work(c) for c in changes]
    for recipient, action in PHASES:
        phase = [w for w in works if (w.recipient, w.action) == (recipient, action)]
        phase = [w for w in phase if not _depends_on_failed_top_up(ctx, w)]
        if phase:
            await _phase(ctx, phase)


def _depends_on_failed_top_up(ctx: ExecContext, work: Work) -> bool:
    """A reseller's customer funded from a top-up of the reseller that did not happen."""
    owner = work.transfer.ledger
    if work.action != FUND or owner is None:
        return False
    top_up = ctx.results.get(reseller_key(owner))
    if top_up is None or top_up.change.action != FUND or top_up.status == "applied":
        return False
    ctx.conclude(
        work.change,
        "skipped",
        f"the transfer to reseller {owner} it is paid from ended {top_up.status}; nothing was "
        "written for it: run plan again",
    )
    return True


async def _phase(ctx: ExecContext, works: list[Work]) -> None:
    await refresh(ctx.client, works)
    ready = []
    for work in works:
        why = work.as_planned()
        if why is None:
            ready.append(work)
        else:
            ctx.conclude(
                work.change,
                "skipped",
                f"changed since the plan was made: {why}; nothing was written for it: run plan "
                "again",
            )
    if not ready:
        return
    rate = ctx.client.rate_for(ready[0].transfer.operation)
    await pool_map(ready, lambda w: _write(ctx, w), workers_for(rate))
    done = [w for w in ready if not w.stopped]
    await refresh(ctx.client, done)
    for work in ready:
        await _verify(ctx, work)
        _conclude(ctx, work)


async def _write(ctx: ExecContext, work: Work) -> None:
    """Check for other writers, then send the transfer through the journal."""
    work.stopped = await ledger_records.other_writer(ctx, work.transfer)
    if work.stopped:
        return
    sent = await _send(ctx, work)
    work.state, work.op_id = sent.items[work.rid].state, sent.op_id
    what = f"{work.action} {work.money(work.amount)}"
    if work.state == "committed":
        work.log.append(f"{what}: ledger record {work.trans_id} [{sent.op_id}]")
    elif work.state == "failed":
        out = sent.items[work.rid]
        reason = " ".join(p for p in (out.error_code, out.detail) if p) or "no reason given"
        work.problems.append(f"{what} failed: {reason}")
    else:
        await _settle_now(ctx, work)


async def _send(ctx: ExecContext, work: Work) -> Sent:
    t = work.transfer
    body = dict(work.change.calls[0].body or {})
    spec = OpSpec(
        operation=t.operation,
        target=t.recipient,
        request=body,
        pre_state={"snapshot": work.snapshot(), "owner": t.ledger},
        # reseller_id holds the recipient: the journal's records checks key our items by it
        items=[ItemSpec(t.recipient, work.key, t.recipient, fmt_money(t.amount))],
    )

    async def call(_op_id: str) -> TransferResult:
        return await _transfer(ctx, work)

    def interpret(result: TransferResult) -> dict[str, ItemOutcome]:
        if result.failure is not None:
            f = result.failure
            return {t.recipient: ItemOutcome("failed", None, f.error_code, f.error_msg)}
        work.trans_id = result.trans_id
        return {t.recipient: ItemOutcome("committed", record_id=result.trans_id)}

    sent = await journalled(ctx, spec, call, interpret, money=True)
    ctx.progress(f"  {t.describe()}: {sent.state} [{sent.op_id}]")
    return sent


async def _transfer(ctx: ExecContext, work: Work) -> TransferResult:
    t, client = work.transfer, ctx.client
    if work.recipient == "reseller":
        if work.action == FUND:
            return await client.update_indirect_partner_account(t.recipient, t.amount)
        return await client.reclaim_indirect_partner_account(t.recipient, t.amount)
    if work.action == FUND:
        return await client.update_customer_account_amount(
            t.recipient, t.amount, indirect_partner_id=t.ledger
        )
    return await client.reclaim_to_partner_account(
        t.recipient, t.amount, indirect_partner_id=t.ledger
    )


async def _settle_now(ctx: ExecContext, work: Work) -> None:
    """Right after an unknown answer: what the ledger shows, for the person who settles it (a
    record of it would have an unknown owner, so the ledger cannot prove it committed)."""
    assert work.op_id is not None
    op = ctx.journal.operation(work.op_id)
    assert op is not None
    verdict = (await ledger_records.settle(ctx.client, ctx.journal, op, op.items, ctx.evidence()))[
        work.rid
    ]
    ctx.journal.update_item(op.op_id, work.rid, detail=verdict.detail)


async def _verify(ctx: ExecContext, work: Work) -> None:
    """The ledger record of an answered transfer must match the call, and be stamped within
    its window (the records clock, :func:`~.records.measure_clock`)."""
    if work.state != "committed" or not work.trans_id:
        return
    found = await ledger_records.ledger(ctx.client, work.transfer, _EPOCH, trans_id=work.trans_id)
    record = next((r for r in found if r.trans_id == work.trans_id), None)
    wrong = answered(record, work.transfer, work.trans_id)
    if wrong:
        work.problems.append(wrong)
        work.state = "contradicted"
        return
    op = ctx.journal.operation(work.op_id) if work.op_id else None
    if record is not None and op is not None:
        ledger_records.measure_clock(ctx, op, record)


def _conclude(ctx: ExecContext, work: Work) -> None:
    now = work.now_text()
    if work.stopped:
        ctx.conclude(work.change, "frozen", work.stopped, now)
    elif work.state == "committed":
        detail = [*work.log, now]
        if work.reached() is False:
            detail.append("(the balance also moved by something else meanwhile: spending, a "
                          "debt, or another writer; the next plan computes from it)")  # fmt: skip
        ctx.conclude(work.change, "applied", *detail)
    elif work.state == "unknown":
        ctx.conclude(
            work.change, "unknown", *work.problems, *work.log, now,
            "outcome unknown: the next apply settles it as not committed if the cash ledger "
            "shows no record of it; a record of it cannot be told from another writer's (the "
            "ledger names no operator), so then the recipient stays frozen until a person "
            "settles it (reconciler journal settle)",
        )  # fmt: skip
    else:
        ctx.conclude(work.change, "failed", *work.problems, *work.log, now)
