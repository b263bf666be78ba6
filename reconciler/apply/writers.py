"""Other writers, and who the API says we are.

**Outside writes.** The lease serialises the applies that share a journal; nothing serialises
an apply with one that keeps its own journal (a laptop and a CI runner), or with a person in
Partner Center. So before each money write apply re-reads the parent quota's issue and reclaim
records since its run began (one listing per write): a record of one of the pair's resellers
that this journal did not make means another writer is active on that (parent quota, reseller)
pair, and apply stops that pair and says so. A record is this journal's when its id is
attributed to one of our items, when its remark names one of our operations (reclaims carry
``partner-reconciler <op id>``), or when one of our issue items of the same reseller, amount and
result that was sent in the window accounts for it (each item for one record).

This narrows the race between two journals to the time between that read and the write; a
shared PostgreSQL journal closes it (one lease for every machine).

**The operator.** Records name the account that made them (``operator``). Settlement accepts a
record as proof of our call only when it carries our operator: Settings ``spec.operator``, else
what the journal learned from a record that can only be ours (a reclaim record naming our
operation, an issue record on the quota an answer returned).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from reconciler.apply.evidence import RecordFacts, in_window, records_from, window_begin
from reconciler.apply.journal import Operation
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext

_OP_IN_REMARK = re.compile(r"partner-reconciler (op-[0-9a-f]{12})")
_SLOT_STATES = ("committed", "settled-committed", "pending", "unknown")

#: Reads the records of one target since ``operation_time_begin`` (the API's strict ``>``).
FetchRecords = Callable[[str], Awaitable[Sequence[RecordFacts]]]


class OurRecords:
    """Decides whether a record of one target (e.g. a parent quota) was made by this journal.

    ``delta_ops``: the journal operations whose records only their recipient, amount and result
    tie to the call (:attr:`RecordFacts.delta`); each of our items of them explains one record.
    """

    def __init__(
        self, ctx: ExecContext, target: str, since: float, delta_ops: Collection[str]
    ) -> None:
        self.ctx = ctx
        ops = ctx.journal.operations(partner_id=ctx.partner_id, target=target, sent_since=since)
        self.attributed = ctx.journal.attributed_record_ids(ctx.partner_id)
        self.slots: Counter[tuple[str, str, str]] = Counter()
        for op in ops:
            if op.operation in delta_ops:
                self._add_slots(op)
        self._known_ops: dict[str, bool] = {}

    def _add_slots(self, op: Operation) -> None:
        for item in op.items:
            if item.record_id or item.amount is None or item.reseller_id is None:
                continue
            if item.state in _SLOT_STATES and op.attempts > 0:
                self.slots[(item.reseller_id, item.amount, "0")] += 1
            elif item.state == "failed" and op.state == "committed":  # failed inside HTTP 200
                self.slots[(item.reseller_id, item.amount, "-1")] += 1

    def _ours_by_remark(self, remark: str | None) -> bool:
        match = _OP_IN_REMARK.search(remark or "")
        if match is None:
            return False
        op_id = match.group(1)
        if op_id not in self._known_ops:
            op = self.ctx.journal.operation(op_id)
            self._known_ops[op_id] = op is not None and op.partner_id == self.ctx.partner_id
        return self._known_ops[op_id]

    def explains(self, record: RecordFacts) -> bool:
        if record.id in self.attributed or self._ours_by_remark(record.remark):
            return True
        if not record.delta or record.amount is None:
            return False
        slot = (record.recipient, fmt_money(record.amount), record.result or "")
        if self.slots[slot] > 0:
            self.slots[slot] -= 1
            return True
        return False


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
    writer."""
    wanted = set(recipients)
    records = await fetch(records_from(ctx.started_at, ctx.client.clock_offset()))
    begin = window_begin(ctx.started_at, ctx.client.clock_offset())
    ours = OurRecords(ctx, target, since=begin - ctx.horizon, delta_ops=delta_ops)
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


def learn_operator(ctx: ExecContext, operator: str | None, proof: str) -> None:
    """A record that can only be ours names ``operator``: remember it (or flag a mismatch)."""
    if not operator:
        return
    if ctx.settings_operator is not None:
        if operator != ctx.settings_operator and not ctx.operator_mismatch:
            ctx.operator_mismatch = True
            ctx.notice(
                f"Settings spec.operator is {ctx.settings_operator!r}, but the API records this "
                f"reconciler's calls as {operator!r} ({proof}). Fix spec.operator: until then "
                "no record can settle an unknown outcome."
            )
        return
    if operator != ctx.operator:
        ctx.journal.learn_operator(ctx.partner_id, operator, proof)
        ctx.operator = operator
