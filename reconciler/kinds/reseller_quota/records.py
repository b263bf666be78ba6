"""The distributor quota's audit log (``list_coupon_quotas_records``, §7.12) as this kind reads it.

Issue records (type "10") and reclaim records (type "11") become
:class:`~reconciler.apply.evidence.RecordFacts` for settlement and for the records check before
each write. After a run's writes, each committed item is attributed to its record (the reclaim
record naming our operation, the issue record on the quota the answer returned), which also
tells apply its operator (:func:`reconciler.apply.writers.learn_operator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.apply.evidence import RecordFacts
from reconciler.apply.journal import iso
from reconciler.apply.writers import learn_operator, link_deltas, unlinked_deltas
from reconciler.kinds.reseller_quota.diff import ISSUE
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.apply.journal import Operation
    from reconciler.apply.ops import ExecContext
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import QuotaRecord

ISSUED, RECLAIMED = "10", "11"


def record_facts(record: QuotaRecord) -> RecordFacts:
    """A quota record as :class:`RecordFacts`: the recipient is the reseller, the subject the
    reseller's quota it created or reclaimed."""
    issue = record.operation_type == ISSUED
    return RecordFacts(
        id=record.id,
        recipient=record.indirect_partner_id or "",
        amount=record.amount,
        result=record.result,
        time=record.operation_time,
        operator=record.operator,
        remark=record.remark,
        subject=record.quota_id,
        delta=issue,
        noun="issue" if issue else "reclaim",
        did="created" if issue else "reclaimed",
    )


async def fetch_records(client: BssClient, parent_id: str, begin: str) -> list[RecordFacts]:
    """Every record of ``parent_id`` after ``begin`` (issues and reclaims)."""
    found = await client.all_coupon_quotas_records(
        parent_quota_id=parent_id, operation_time_begin=begin
    )
    return [record_facts(r) for r in found]


async def attribute_reclaims(
    ctx: ExecContext, parent_id: str, done: Sequence[tuple[str, str]]
) -> dict[str, QuotaRecord]:
    """Quota id -> the successful reclaim record naming our operation, for each committed
    ``(op id, quota id)``; the item gets the record's amount and id, and we learn our operator.
    The quota can be reclaimed once and our answer says we did, so its one successful record
    naming us is ours even without an operator; one of another operator is a conflict
    (:func:`~reconciler.apply.writers.learn_operator`), and is not taken."""
    if not done:
        return {}
    records = await ctx.client.all_coupon_quotas_records(
        parent_quota_id=parent_id,
        operation_type=RECLAIMED,
        operation_time_begin=ctx.evidence().records_from(ctx.started_at),
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
    """Link each committed issue item of this run to its record on the quota the answer
    returned (:func:`~reconciler.apply.writers.link_deltas`), which also tells us our
    operator."""
    todo = [(op, i) for op, i in unlinked_deltas(sent, (ISSUE,)) if i.state == "committed"]
    if not todo:
        return
    ev = ctx.evidence()
    since = min(ev.window(op)[0] for op, _ in todo)
    records = await ctx.client.all_coupon_quotas_records(
        parent_quota_id=parent_id, operation_type=ISSUED, operation_time_begin=iso(since - 1.0)
    )
    link_deltas(ctx, todo, [record_facts(r) for r in records], ev)
