"""The cash ledger at apply time: other writers before each transfer, and settlement after.

**Other writers.** Right before each transfer, apply reads the recipient's ledger records since
the run began, less the records-clock allowance (``list_partner_adjust_records``, in the
reseller's ledger for its customer). A record is this journal's only when its ``trans_id`` is
linked to one of our items (an answered transfer's ledger id); the ledger names no operator, so
nothing else proves it. Any other record means someone else is moving cash for that recipient:
it is frozen, nothing is written to it in this run. So is every recipient once the records
clock was found further off than the allowance (:func:`measure_clock`, or another kind's check:
``ExecContext.records_clock_off``).

**Settlement** of a transfer whose answer was lost (:func:`settle`): the rules are in
:mod:`reconciler.kinds.account_funds.evidence`; the recipient's balance before the call and now
is added to the verdict for the person who may have to settle by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler.apply.evidence import Evidence, Verdict
from reconciler.apply.journal import iso
from reconciler.apply.writers import clock_off
from reconciler.bss.cash import allocatable
from reconciler.kinds.account_funds.evidence import (
    Transfer,
    describe_records,
    facts,
    finding,
    foreign,
    transfer_of,
    window_records,
)
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.apply.journal import Item, Journal, Operation
    from reconciler.apply.ops import ExecContext
    from reconciler.bss.cash import AdjustRecord, AdjustRecordFilters
    from reconciler.bss.client import BssClient

LEDGER_PATH = "/v3/accounts/partner-accounts/adjust-records"


async def ledger(
    client: BssClient, t: Transfer, since: str, trans_id: str | None = None
) -> list[AdjustRecord]:
    """The recipient's records since ``since`` (strict), in the ledger that holds them."""
    filters: AdjustRecordFilters = {"customer_id": t.recipient, "operation_time_begin": since}
    if t.ledger:
        filters["indirect_partner_id"] = t.ledger
    if trans_id:
        filters["trans_id"] = trans_id
    return await client.all_partner_adjust_records(**filters)


async def other_writer(ctx: ExecContext, t: Transfer) -> str | None:
    """Why the recipient must not be written to in this run (None: no other writer seen)."""
    if ctx.records_clock_off is not None:
        return f"frozen: {ctx.records_clock_off}"
    ev = ctx.evidence()
    begin = ev.begin(ctx.started_at)
    records = await ledger(ctx.client, t, iso(begin - 1.0))
    record = foreign(records, t.recipient, begin, ctx.journal.attributed_record_ids(ctx.partner_id))
    if record is None:
        return None
    return (
        f"frozen: another writer is moving cash for this recipient: ledger record "
        f"{describe_records([record])} is not linked to a transfer of this journal (the ledger "
        "names no operator: only the ledger id an answer returned makes a record ours); nothing "
        "was written to it in this run. Let that apply (with its own journal) or person finish, "
        "make every apply of this account share one journal (docs/gitops.md), then run apply "
        "again"
    )


def measure_clock(ctx: ExecContext, op: Operation, record: AdjustRecord) -> None:
    """Our answered transfer's record (the ledger id its answer returned) lies outside the call's
    window (:meth:`Evidence.window`, widened by the allowance): the clock that stamps the records
    is further off the ``Date`` header's than the allowance, so the check for other writers may
    miss records. Reported once, in every kind's words (:func:`reconciler.apply.writers.clock_off`);
    no further money write in this run (:func:`other_writer`)."""
    ev = ctx.evidence()
    line = facts(record)  # its noun says what moved: a transfer or a reclaim
    subject = f"the {line.noun} for {record.customer_id}"
    clock_off(
        ctx, replace(line, noun="ledger", subject=subject, did="made"), op, ev.window(op), ev.skew
    )


async def settle(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    """The verdict on each open item of a transfer (one item: its recipient)."""
    t = transfer_of(op.operation, op.request)
    ev = ev.measured(client.clock_offset())
    records = await ledger(client, t, iso(ev.window(op)[0] - 1.0))
    span = ev.measured(client.clock_offset()).window(op)
    taken = journal.attributed_record_ids(op.partner_id)
    found = finding(t, window_records(records, t.recipient, span, taken), span)
    balance = await balance_text(client, t, op.pre_state)
    verdict = Verdict(
        found.committed,
        f"{found.detail}; {balance}",
        amount=fmt_money(t.amount),
        absent=found.absent,
    )
    return {item.item_id: verdict for item in items}


async def balance_text(client: BssClient, t: Transfer, pre_state: Any) -> str:
    """The recipient's balance before the call (from the journal) and now."""
    snap = pre_state.get("snapshot") if isinstance(pre_state, dict) else None
    if t.to_reseller:
        account = allocatable(await client.list_partner_balances(indirect_partner_id=t.recipient))
        now = fmt_money(account.amount) if account is not None else "not listed"
        was = snap.get("amount") if isinstance(snap, dict) else None
        return f"the reseller's allocatable account held {was} before the call, {now} now"
    found = await client.all_customers_balances_detail([t.recipient], indirect_partner_id=t.ledger)
    c = found.get(t.recipient)
    now = f"{fmt_money(c.amount)} (debt {fmt_money(c.debt_amount)})" if c else "not listed"
    was = (
        f"{snap.get('amount')} (debt {snap.get('debt_amount')})" if isinstance(snap, dict) else "?"
    )
    return f"the customer's cash was {was} before the call, {now} now"


def where_to_look(op: Operation) -> str:
    """Where a person checks a transfer whose outcome the ledger does not decide."""
    t = transfer_of(op.operation, op.request)
    since = iso(op.sent_at if op.sent_at is not None else op.intent_at)
    query = f"customer_id={t.recipient}&operation_time_begin={since}"
    if t.ledger:
        query += f"&indirect_partner_id={t.ledger}"
    return (
        f"Check the cash ledger of {t.describe()} since {since} in Partner Center (or GET "
        f"{LEDGER_PATH}?{query}) and the recipient's balance: a record of exactly "
        f"{fmt_money(t.amount)} made by this reconciler's call, and no other, means it took "
        "effect."
    )


def describe(op: Operation, item: Item) -> str:
    return transfer_of(op.operation, op.request).describe()
