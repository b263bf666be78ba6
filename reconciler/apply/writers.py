"""Other writers, and who the API says we are.

**Outside writes.** The lease serialises the applies that share a journal; nothing serialises
an apply with one that keeps its own journal (a laptop and a CI runner), or with a person in
Partner Center. So before each money write apply re-reads the parent quota's issue and reclaim
records since its run began (one listing per write; the window starts the records-clock
allowance early, :class:`~reconciler.apply.evidence.Evidence`): a record of one of the pair's
resellers that this journal did not make means another writer is active on that (parent quota,
reseller) pair, and apply stops that pair and says so.

A record is this journal's only when that is proven, never by amount and time alone:

* its id is linked to one of our items. A committed issue is linked to its record once: the
  one successful issue record on the quota the answer returned, of the item's reseller and
  amount, stamped between the first send and the answer, carrying our operator. An issue that
  committed but could not be linked (no record yet, several candidates, no quota id) explains
  no record;
* it is a reclaim record of one of our reclaim operations' quotas, naming that operation in its
  remark, stamped within that call's window, with our operator (a copied remark is not enough);
* one of our issue items whose call may still land (pending, unknown) or failed inside HTTP
  200, of the same reseller, amount and result, sent in the record's window, accounts for it
  (each item for one record). Such a pair is frozen anyway; this only keeps the failures of a
  retried batch from reading as another writer's.

A record without an operator, or of another operator than ours, is never ours.

This narrows the race between two journals to the time between that read and the write; a
shared PostgreSQL journal closes it (one lease for every machine).

**The operator.** Records name the account that made them (``operator``). Settlement accepts a
record as proof of our call only when it carries our operator: Settings ``spec.operator``, else
what the journal learned from a record that can only be ours (a reclaim record naming our
operation, the linked issue record). A later such record naming another operator is a conflict:
it is reported, nothing is relearned, and until Settings say who we are no record proves a call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.apply.evidence import Evidence, in_window, window_begin
from reconciler.apply.journal import Item, Operation, iso
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext
    from reconciler.bss.models import QuotaRecord

ISSUE = "update_coupon_quotas"
RECLAIM = "reclaim_coupon_quotas"
ISSUED, RECLAIMED = "10", "11"
_OP_IN_REMARK = re.compile(r"partner-reconciler (op-[0-9a-f]{12})")


@dataclass(frozen=True)
class _Slot:
    """One of our issue items that accounts for one record of its reseller, amount and result
    stamped within ``begin`` and ``end`` (the call's window, records clock)."""

    reseller: str
    amount: str
    result: str
    begin: float
    end: float

    def fits(self, record: QuotaRecord) -> bool:
        return (
            record.indirect_partner_id == self.reseller
            and record.amount is not None
            and fmt_money(record.amount) == self.amount
            and record.result == self.result
            and in_window(record, self.begin, self.end)
        )


class OurRecords:
    """Decides whether a record of one parent quota was made by this journal (see above)."""

    def __init__(self, ctx: ExecContext, ops: Sequence[Operation], ev: Evidence) -> None:
        self.ctx, self.ev = ctx, ev
        self.attributed = ctx.journal.attributed_record_ids(ctx.partner_id)
        self.slots: list[_Slot] = []
        for op in ops:
            if op.operation == ISSUE and op.attempts > 0:
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

    def _named_reclaim(self, record: QuotaRecord) -> bool:
        """A reclaim record of a quota one of our reclaims names, naming it, in its window."""
        match = _OP_IN_REMARK.search(record.remark or "")
        if match is None or record.operation_type != RECLAIMED:
            return False
        op_id = match.group(1)
        if op_id not in self._ops:
            op = self.ctx.journal.operation(op_id)
            mine = op is not None and op.partner_id == self.ctx.partner_id
            self._ops[op_id] = op if mine and op is not None and op.operation == RECLAIM else None
        op = self._ops[op_id]
        if op is None or not in_window(record, *self.ev.window(op)):
            return False
        return any(
            i.item_id == record.quota_id and i.reseller_id == record.indirect_partner_id
            for i in op.items
        )

    def explains(self, record: QuotaRecord) -> bool:
        if record.id in self.attributed:
            return True
        if self.ev.owner(record) is not None:
            return False
        if self._named_reclaim(record):
            return True
        if record.operation_type != ISSUED:
            return False
        slot = next((s for s in self.slots if s.fits(record)), None)
        if slot is None:
            return False
        self.slots.remove(slot)
        return True


def unlinked_issues(ops: Iterable[Operation]) -> list[tuple[Operation, Item]]:
    """Committed issue items not yet linked to their record, with the quota their answer (or
    their settlement) named."""
    return [
        (op, item)
        for op in ops
        if op.operation == ISSUE
        for item in op.items
        if item.committed and item.quota_id and not item.record_id and item.amount is not None
    ]


def link_issues(
    ctx: ExecContext,
    todo: Sequence[tuple[Operation, Item]],
    records: Sequence[QuotaRecord],
    ev: Evidence,
) -> None:
    """Link each committed issue item to its record: the one successful issue record on the
    quota the answer returned, of the item's reseller and amount, stamped within the call's
    window (:meth:`Evidence.window`), not linked to another item, carrying our operator. None
    or several: it stays unlinked (a top-up quota, a record that lags), and explains nothing."""
    taken = ctx.journal.attributed_record_ids(ctx.partner_id)
    for op, item in todo:
        begin, end = ev.window(op)
        found = [
            r
            for r in records
            if r.operation_type == ISSUED
            and r.quota_id == item.quota_id
            and r.indirect_partner_id == item.reseller_id
            and r.result == "0"
            and r.amount is not None
            and fmt_money(r.amount) == item.amount
            and r.id not in taken
            and in_window(r, begin, end)
        ]
        if len(found) != 1 or not found[0].operator:
            continue
        record = found[0]
        if not learn_operator(ctx, record.operator, f"issue record {record.id} of {op.op_id}"):
            continue
        taken.add(record.id)
        ctx.journal.update_item(op.op_id, item.item_id, record_id=record.id)


async def outside_writes(
    ctx: ExecContext, parent_id: str, reseller_ids: Iterable[str]
) -> dict[str, str]:
    """Reseller id -> why another writer is active on (``parent_id``, reseller) in this run."""
    wanted = set(reseller_ids)
    ev = ctx.evidence()
    begin = window_begin(ctx.started_at, ev.offset, ev.skew)
    ops = ctx.journal.operations(
        partner_id=ctx.partner_id, target=parent_id, sent_since=begin - ctx.horizon
    )
    todo = unlinked_issues(ops)
    since = min([begin, *(ev.window(op)[0] for op, _ in todo)])
    records = await ctx.client.all_coupon_quotas_records(
        parent_quota_id=parent_id, operation_time_begin=iso(since - 1.0)
    )
    link_issues(ctx, todo, records, ev)
    ours = OurRecords(ctx, ops, ev)
    found: dict[str, str] = {}
    for record in sorted(records, key=lambda r: (r.operation_time, r.id)):
        rid = record.indirect_partner_id or ""
        if rid not in wanted or rid in found or not in_window(record, begin):
            continue
        if not ours.explains(record):
            found[rid] = outside_message(record)
    return found


def outside_message(record: QuotaRecord) -> str:
    what = "issue" if record.operation_type == ISSUED else "reclaim"
    amount = fmt_money(record.amount) if record.amount is not None else "?"
    result = "failed" if record.result == "-1" else "succeeded"
    return (
        f"frozen: another writer is active on this pair: record {record.id} ({what} of {amount} "
        f"by {record.operator or 'an unnamed operator'} at "
        f"{record.operation_time:%Y-%m-%dT%H:%M:%SZ}, {result}) "
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
        f"{source}. Either that record is another writer's (on the quota our call returned) "
        "or the API now records this reconciler's calls under another name: it is not taken "
        "as ours, and until Settings spec.operator names the account the API records this "
        "reconciler's calls under, no record can settle an unknown outcome."
    )


async def attribute_reclaims(
    ctx: ExecContext, parent_id: str, done: Sequence[tuple[str, str]]
) -> dict[str, QuotaRecord]:
    """Quota id -> the successful reclaim record naming our operation, for each committed
    ``(op id, quota id)``; the item gets the record's amount and id, and we learn our operator.
    The quota can be reclaimed once and our answer says we did, so its one successful record
    naming us is ours even without an operator; one of another operator is a conflict."""
    if not done:
        return {}
    ev = ctx.evidence()
    records = await ctx.client.all_coupon_quotas_records(
        parent_quota_id=parent_id,
        operation_type=RECLAIMED,
        operation_time_begin=iso(window_begin(ctx.started_at, ev.offset, ev.skew) - 1.0),
    )
    found: dict[str, QuotaRecord] = {}
    for op_id, qid in done:
        record = next(
            (
                r
                for r in records
                if r.quota_id == qid and r.result == "0" and op_id in (r.remark or "")
            ),
            None,
        )
        if record is None or record.amount is None:
            continue
        if not learn_operator(ctx, record.operator, f"reclaim record {record.id} naming {op_id}"):
            continue
        found[qid] = record
        ctx.journal.update_item(op_id, qid, amount=fmt_money(record.amount), record_id=record.id)
    return found


async def attribute_issues(ctx: ExecContext, parent_id: str, sent: Sequence[Operation]) -> None:
    """Link each committed issue item of this run to its record (:func:`link_issues`), which
    also tells us our operator."""
    todo = [(op, item) for op, item in unlinked_issues(sent) if item.state == "committed"]
    if not todo:
        return
    ev = ctx.evidence()
    since = min(ev.window(op)[0] for op, _ in todo)
    records = await ctx.client.all_coupon_quotas_records(
        parent_quota_id=parent_id, operation_type=ISSUED, operation_time_begin=iso(since - 1.0)
    )
    link_issues(ctx, todo, records, ev)
