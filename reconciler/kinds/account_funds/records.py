"""The cash ledger at apply time: other writers before each transfer, and settlement after.

**Other writers.** Right before each transfer, apply reads the recipient's ledger records since
the run began (``list_partner_adjust_records``, in the reseller's ledger for its customer). A
record that this journal did not make (its ``trans_id`` is not attributed to one of our items,
and none of our transfers without a ledger id yet, of the same recipient, type and amount,
accounts for it) means someone else is moving cash for that recipient: it is frozen, nothing is
written to it in this run.

**Settlement** of a transfer whose answer was lost (:func:`settle`): the rules are in
:mod:`reconciler.kinds.account_funds.evidence`; the recipient's balance before the call and now
is added to the verdict for the person who may have to settle by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reconciler.apply.evidence import SKEW, Evidence, Verdict, records_from, window_begin
from reconciler.apply.journal import iso
from reconciler.bss.cash import allocatable
from reconciler.kinds.account_funds.evidence import (
    TRANSFERS,
    Slots,
    Transfer,
    describe_records,
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

#: item states of ours that may still have written a record we have no ledger id for
_SLOT_STATES = ("committed", "settled-committed", "pending", "unknown")
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
    offset = ctx.client.clock_offset()
    records = await ledger(ctx.client, t, records_from(ctx.started_at, offset))
    begin = window_begin(ctx.started_at, offset)
    journal = ctx.journal
    ops = journal.operations(
        partner_id=ctx.partner_id, target=t.recipient, sent_since=begin - ctx.horizon
    )
    pending = [
        transfer_of(op.operation, op.request)
        for op in ops
        if op.operation in TRANSFERS and op.attempts > 0
        for item in op.items
        if item.state in _SLOT_STATES and not item.record_id
    ]
    ours = journal.attributed_record_ids(ctx.partner_id)
    record = foreign(records, t.recipient, begin, ours, Slots(pending))
    if record is None:
        return None
    return (
        f"frozen: another writer is moving cash for this recipient: ledger record "
        f"{describe_records([record])} was not made by this journal (the ledger names no "
        "operator); nothing was written to it in this run. Let that apply (with its own "
        "journal) or person finish, make every apply of this account share one journal "
        "(docs/gitops.md), then run apply again"
    )


def window(op: Operation, ev: Evidence, offset: tuple[float, float] | None) -> tuple[float, float]:
    """From the first send attempt to the in-flight horizon after the last one, on the API's
    clock (15 minutes of skew each way when it was not measured)."""
    sent = op.sent_at if op.sent_at is not None else op.intent_at
    last = op.last_attempt or sent
    ahead = offset[1] if offset is not None else SKEW
    return window_begin(sent, offset), last + ev.horizon + ahead + 1.0


async def settle(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    """The verdict on each open item of a transfer (one item: its recipient)."""
    t = transfer_of(op.operation, op.request)
    offset = ev.offset or client.clock_offset()
    begin, end = window(op, ev, offset)
    records = await ledger(client, t, iso(begin - 1.0))
    taken = journal.attributed_record_ids(op.partner_id)
    found = finding(t, window_records(records, t.recipient, begin, end, taken), begin, end)
    balance = await balance_text(client, t, op.pre_state)
    verdict = Verdict(
        found.committed,
        f"{found.detail}; {balance}",
        record_id=found.record_id,
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
