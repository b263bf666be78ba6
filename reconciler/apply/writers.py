"""Other writers, and who the API says we are.

**Outside writes.** The lease serialises the applies that share a journal; nothing serialises
an apply with one that keeps its own journal (a laptop and a CI runner), or with a person in
Partner Center. So before each money write apply re-reads the target's records (e.g. a parent
quota's issue and reclaim records) since its run began (one listing per write; the window starts
the records-clock allowance early, :class:`~reconciler.apply.evidence.Evidence`): a record of
one of the pair's recipients that this journal did not make means another writer is active on
that (target, recipient) pair, and apply stops that pair and says so.

A record is this journal's only when that is proven, never by amount and time alone:

* its id is linked to one of our items. A committed item of a *delta* call (an issue: its
  record carries no key of ours) is linked to its record once (:func:`link_deltas`): the one
  successful record on the subject the answer returned (the quota it issued to), of the item's
  recipient and amount, stamped between the first send and the answer, carrying our operator.
  One that committed but could not be linked (no record yet, several candidates, no subject)
  explains no record;
* its remark names one of our other operations, it is of a subject that operation's items
  name, of their recipient, stamped within that call's window (a copied remark is not enough);
* one of our delta items whose call may still land (pending, unknown) or failed inside HTTP 200,
  of the same recipient, amount and result, sent in the record's window, accounts for it (each
  item for one record). Such a pair is frozen anyway; this only keeps the failures of a retried
  batch from reading as another writer's.

A record without an operator, or of another operator than ours, is never ours.

This narrows the race between two journals to the time between that read and the write; a
shared PostgreSQL journal closes it (one lease for every machine).

**The operator.** Records name the account that made them (``operator``). Settlement accepts a
record as proof of our call only when it carries our operator: Settings ``spec.operator``, else
what the journal learned from a record that can only be ours (a reclaim record naming our
operation, a linked issue record). A later such record naming another operator is a conflict:
it is reported, nothing is relearned, and until Settings say who we are no record proves a call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.apply.evidence import Evidence, RecordFacts, in_window
from reconciler.apply.journal import Item, Operation, iso
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext

_OP_IN_REMARK = re.compile(r"partner-reconciler (op-[0-9a-f]{12})")

#: Reads the records of one target since ``operation_time_begin`` (the API's strict ``>``).
FetchRecords = Callable[[str], Awaitable[Sequence[RecordFacts]]]


@dataclass(frozen=True)
class _Slot:
    """One of our delta items that accounts for one record of its recipient, amount and result
    stamped within ``begin`` and ``end`` (the call's window, records clock)."""

    recipient: str
    amount: str
    result: str
    begin: float
    end: float

    def fits(self, record: RecordFacts) -> bool:
        return (
            record.recipient == self.recipient
            and record.amount is not None
            and fmt_money(record.amount) == self.amount
            and record.result == self.result
            and in_window(record, self.begin, self.end)
        )


class OurRecords:
    """Decides whether a record of one target (e.g. a parent quota) was made by this journal.

    ``ops``: this journal's operations on the target that can have records in the window;
    ``delta_ops``: the operations whose records only their recipient, amount and result tie to
    the call (:attr:`RecordFacts.delta`)."""

    def __init__(
        self,
        ctx: ExecContext,
        ops: Sequence[Operation],
        ev: Evidence,
        delta_ops: Collection[str],
    ) -> None:
        self.ctx, self.ev, self.delta_ops = ctx, ev, delta_ops
        self.attributed = ctx.journal.attributed_record_ids(ctx.partner_id)
        self.slots: list[_Slot] = []
        for op in ops:
            if op.operation in delta_ops and op.attempts > 0:
                self._add_slots(op)
        self._ops: dict[str, Operation | None] = {}

    def _add_slots(self, op: Operation) -> None:
        begin, end = self.ev.window(op)
        for item in op.items:
            if item.record_id or item.amount is None or item.reseller_id is None:
                continue
            if item.open:
                self.slots.append(_Slot(item.reseller_id, item.amount, "0", begin, end))
            elif item.state == "failed" and op.state == "committed":  # failed inside HTTP 200
                self.slots.append(_Slot(item.reseller_id, item.amount, "-1", begin, end))

    def _named(self, record: RecordFacts) -> bool:
        """A record of a subject one of our (non-delta) operations names, naming it in its
        remark, of the item's recipient, stamped within that call's window."""
        match = _OP_IN_REMARK.search(record.remark or "")
        if match is None or record.delta:
            return False
        op_id = match.group(1)
        if op_id not in self._ops:
            op = self.ctx.journal.operation(op_id)
            mine = op is not None and op.partner_id == self.ctx.partner_id
            keyed = op is not None and op.operation not in self.delta_ops
            self._ops[op_id] = op if mine and keyed else None
        op = self._ops[op_id]
        if op is None or not in_window(record, *self.ev.window(op)):
            return False
        return any(
            record.subject in (i.item_id, i.quota_id) and i.reseller_id == record.recipient
            for i in op.items
        )

    def explains(self, record: RecordFacts) -> bool:
        if record.id in self.attributed:
            return True
        if self.ev.foreign(record):
            return False
        if self._named(record):
            return True
        if not record.delta:
            return False
        slot = next((s for s in self.slots if s.fits(record)), None)
        if slot is None:
            return False
        self.slots.remove(slot)
        return True


def unlinked_deltas(
    ops: Iterable[Operation], delta_ops: Collection[str]
) -> list[tuple[Operation, Item]]:
    """Committed items of delta calls not yet linked to their record, with the subject (the
    quota) their answer or their settlement named."""
    return [
        (op, item)
        for op in ops
        if op.operation in delta_ops
        for item in op.items
        if item.committed and item.quota_id and not item.record_id and item.amount is not None
    ]


def link_deltas(
    ctx: ExecContext,
    todo: Sequence[tuple[Operation, Item]],
    records: Sequence[RecordFacts],
    ev: Evidence,
) -> None:
    """Link each committed delta item to its record: the one successful delta record on the
    subject the answer returned, of the item's recipient and amount, stamped within the call's
    window (:meth:`Evidence.window`), not linked to another item, with an operator that is ours
    (learned from it the first time). None or several: it stays unlinked (a top-up quota, a
    record that lags) and explains no record."""
    taken = ctx.journal.attributed_record_ids(ctx.partner_id)
    for op, item in todo:
        begin, end = ev.window(op)
        candidates = [
            r
            for r in records
            if r.delta
            and r.ok
            and r.subject == item.quota_id
            and r.recipient == item.reseller_id
            and r.amount is not None
            and fmt_money(r.amount) == item.amount
            and r.id not in taken
        ]
        found = [r for r in candidates if in_window(r, begin, end)]
        if not found and len(candidates) == 1:
            clock_off(ctx, candidates[0], op, (begin, end), ev.skew)
        if len(found) != 1 or not found[0].operator:
            continue
        record = found[0]
        proof = f"{record.noun} record {record.id} of {op.op_id}"
        if not learn_operator(ctx, record.operator, proof):
            continue
        taken.add(record.id)
        ctx.journal.update_item(op.op_id, item.item_id, record_id=record.id)


def clock_off(
    ctx: ExecContext, record: RecordFacts, op: Operation, window: tuple[float, float], skew: float
) -> None:
    """Our own record (the one on the subject our answer returned) lies outside our call's
    window: the records clock is further off the ``Date`` header's than the allowance, and the
    check for other writers may miss records; measured here, reported once, and no further
    money write in this run (:func:`outside_writes`). A record inside the window (as
    :func:`~reconciler.apply.evidence.in_window` reads it: whole seconds) is no finding."""
    if ctx.records_clock_off is not None or in_window(record, *window):
        return
    when = record.time.timestamp()
    off = math.ceil(window[0] - when if when < window[0] else when - window[1])  # whole seconds
    least = math.ceil(skew) + off
    ctx.records_clock_off = (
        f"{record.noun} record {record.id} on {record.subject}, which {op.op_id} {record.did}, is "
        f"stamped {record.time:%Y-%m-%dT%H:%M:%SZ}, {off} s outside that call's window on "
        f"the API's Date clock (already widened by the records-clock allowance of {skew:g} s): "
        "the clock that stamps the records is further off the Date header's than the "
        "allowance, so the check for other writers cannot be trusted. Raise "
        f"--records-clock-skew (RECONCILER_RECORDS_CLOCK_SKEW) to at least {least}, "
        "then run apply again"
    )
    ctx.notice(ctx.records_clock_off)


async def outside_writes(
    ctx: ExecContext,
    target: str,
    recipients: Iterable[str],
    fetch: FetchRecords,
    delta_ops: Collection[str],
) -> dict[str, str]:
    """Recipient id -> why another writer is active on (``target``, recipient) in this run.

    ``fetch`` reads the target's records (every type) since the time it is given; a record of
    one of ``recipients`` in the run's window that this journal did not make names the other
    writer. Committed delta items not yet linked (a run killed before linking) are linked
    first, from the same listing."""
    wanted = set(recipients)
    ev = ctx.evidence()
    begin = ev.begin(ctx.started_at)
    ops = ctx.journal.operations(
        partner_id=ctx.partner_id, target=target, sent_since=begin - ctx.horizon
    )
    todo = unlinked_deltas(ops, delta_ops)
    since = min([begin, *(ev.window(op)[0] for op, _ in todo)])
    records = await fetch(iso(since - 1.0))
    link_deltas(ctx, todo, records, ev)
    if ctx.records_clock_off is not None:
        return dict.fromkeys(wanted, f"frozen: {ctx.records_clock_off}")
    ours = OurRecords(ctx, ops, ev, delta_ops)
    found: dict[str, str] = {}
    for record in sorted(records, key=lambda r: (r.time, r.id)):
        rid = record.recipient
        if rid not in wanted or rid in found or not in_window(record, begin):
            continue
        if not ours.explains(record):
            found[rid] = outside_message(record)
    return found


def outside_message(record: RecordFacts) -> str:
    amount = fmt_money(record.amount) if record.amount is not None else "?"
    result = "failed" if record.result == "-1" else "succeeded"
    return (
        f"frozen: another writer is active on this pair: record {record.id} ({record.noun} of "
        f"{amount} by {record.operator or 'an unnamed operator'} at "
        f"{record.time:%Y-%m-%dT%H:%M:%SZ}, {result}) "
        "was not made by this journal; nothing was written to it in this run. Let that apply "
        "(with its own journal) or person finish, make every apply of this account share one "
        "journal (docs/gitops.md), then run apply again"
    )


def learn_operator(ctx: ExecContext, operator: str | None, proof: str) -> bool:
    """A record that can only be ours names ``operator``: remember it when we do not know who
    we are yet. False when it contradicts who we are (Settings, or what the journal learned):
    the conflict is reported once, nothing is relearned, and no record proves a call until it is
    fixed (:meth:`ExecContext.evidence`)."""
    if not operator:
        return True
    known = ctx.settings_operator or ctx.operator
    if known is None:
        ctx.journal.learn_operator(ctx.partner_id, operator, proof)
        ctx.operator = operator
        return True
    if operator == known:
        return True
    if not ctx.operator_mismatch:
        ctx.operator_mismatch = True
        ctx.notice(_conflict(ctx, operator, proof))
    return False


def _conflict(ctx: ExecContext, operator: str, proof: str) -> str:
    if ctx.settings_operator is not None:
        return (
            f"Settings spec.operator is {ctx.settings_operator!r}, but the API records this "
            f"reconciler's calls as {operator!r} ({proof}). Fix spec.operator: until then "
            "no record can settle an unknown outcome."
        )
    learned = ctx.journal.operator(ctx.partner_id)
    source = f" from {learned[1]}" if learned else ""
    return (
        f"{proof} names operator {operator!r}, but this journal learned {ctx.operator!r}"
        f"{source}. Either that record is another writer's (on the object our call returned) "
        "or the API now records this reconciler's calls under another name: it is not taken "
        "as ours, and until Settings spec.operator names the account the API records this "
        "reconciler's calls under, no record can settle an unknown outcome."
    )
