"""Settling an unknown outcome of an issue or a reclaim from the quota records (§7.9-§7.12).

Rules (docs/apply.md, "Settlement rules"; the shared part is :mod:`reconciler.apply.evidence`):

* **issue of A from P to reseller R**: committed on exactly one of our issue records and R's
  issued value from P (the sum of its quotas' ``quota_value``) grown by A plus what the other
  issue records in the window account for; or on no record at all and growth of exactly A
  (records that lag). Absent: no record of ours and growth equal to the others.
* **reclaim of quota Q**: committed when Q is reclaimed (status 6) and a successful reclaim record
  of Q names this operation; not committed when Q was reclaimed by a record that is not ours;
  absent while Q is still valid with no such record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.apply.evidence import (
    DeltaFacts,
    Evidence,
    Verdict,
    delta_verdict,
    in_window,
    unknown_owner,
)
from reconciler.apply.journal import iso
from reconciler.kinds.reseller_quota.diff import ISSUE, RECLAIM, VALID
from reconciler.kinds.reseller_quota.records import ISSUED, RECLAIMED, record_facts
from reconciler.kinds.spec import OperationSpec
from reconciler.plan.model import ZERO, fmt_money, money

if TYPE_CHECKING:
    from reconciler.apply.journal import Item, Journal, Operation
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import IssuedQuota, QuotaRecord

QUOTA_RECLAIMED = 6


def _sent(op: Operation) -> float:
    return op.sent_at if op.sent_at is not None else op.intent_at


def _snapshot(op: Operation, reseller_id: str | None) -> list[list[Any]]:
    resellers: Mapping[str, Any] = op.pre_state.get("resellers") or {}
    entry = resellers.get(reseller_id or "") or {}
    quotas: list[list[Any]] = entry.get("quotas") or []
    return quotas


def _value(raw: Any) -> Decimal:
    return money(raw) if raw not in (None, "") else ZERO


def issued_value(children: Sequence[IssuedQuota]) -> Decimal:
    return sum(
        (q.quota_value if q.quota_value is not None else (q.balance or ZERO) for q in children),
        ZERO,
    )


def issue_facts(
    op: Operation,
    rid: str,
    children: Sequence[IssuedQuota],
    records: Sequence[QuotaRecord],
    taken: Collection[str],
    begin: float,
    earlier: Collection[str] = (),
) -> DeltaFacts:
    """The evidence about one issued item. ``earlier``: ids of records proven to belong to
    calls that ended before this one's snapshot was read (their value is in ``before``)."""
    snap = _snapshot(op, rid)
    before = sum((_value(q[3] if q[3] is not None else q[2]) for q in snap), ZERO)
    window = tuple(
        facts
        for facts in map(record_facts, records)
        if facts.recipient == rid
        and facts.ok
        and facts.delta
        and in_window(facts, begin)
        and facts.id not in earlier
    )
    return DeltaFacts(
        money(op.request["quota_amount"]),
        before,
        issued_value(children),
        window,
        frozenset(taken),
        noun="issue",
        measure="issued value from the quota",
        holder="the reseller's issued value",
        where="on quota",
    )


async def issue_verdicts(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    parent = op.target
    records = await client.all_coupon_quotas_records(
        parent_quota_id=parent,
        operation_type=ISSUED,
        operation_time_begin=ev.records_from(_sent(op)),
    )
    ev = ev.measured(client.clock_offset())
    begin = ev.begin(_sent(op))
    taken = journal.attributed_record_ids(op.partner_id)
    earlier = journal.attributed_record_ids(op.partner_id, finished_before=op.intent_at)
    out: dict[str, Verdict] = {}
    for item in items:
        rid = item.reseller_id or item.item_id
        children = await client.all_issued_coupon_quotas(
            indirect_partner_id=rid, parent_quota_id=parent
        )
        facts = issue_facts(op, rid, children, records, taken, begin, earlier)
        out[item.item_id] = delta_verdict(facts, ev.operator)
        if out[item.item_id].record_id:
            taken.add(str(out[item.item_id].record_id))
    return out


def reclaim_verdict(
    op_id: str, quota: IssuedQuota | None, records: Sequence[QuotaRecord], ev: Evidence
) -> Verdict:
    """A reclaim record is this call's when it is of the quota, names the operation in its
    remark and carries our operator; one without an operator or a remark has an unknown owner
    and decides nothing (docs/apply.md, "Settlement rules")."""
    if quota is None:
        return Verdict(None, "the quota is no longer listed among the reseller's quotas")
    done = [record_facts(r) for r in records if r.quota_id == quota.quota_id and r.result == "0"]
    ours = [r for r in done if r.names(op_id) and not ev.foreign(r)]
    where = f"of quota {quota.quota_id}"
    unknown = unknown_owner([r for r in done if r.unowned], where) or unknown_owner(
        [r for r in done if r not in ours and not (r.remark or "").strip()], where, "a remark"
    )
    status = quota.quota_status
    if unknown is not None:
        return unknown
    if status == QUOTA_RECLAIMED and ours:
        amount = fmt_money(ours[0].amount) if ours[0].amount is not None else None
        return Verdict(True, f"reclaim record {ours[0].id}", ours[0].id, quota.quota_id, amount)
    if status == QUOTA_RECLAIMED and done:
        return Verdict(False, f"reclaimed by someone else (record {done[0].id})")
    if status == VALID and not ours:
        return Verdict(
            False, "the quota is still valid and no reclaim record names this call", absent=True
        )
    return Verdict(
        None, f"quota status {status} with {len(ours)} reclaim record(s) naming this call"
    )


async def reclaim_verdicts(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    parent = op.target
    records = await client.all_coupon_quotas_records(
        parent_quota_id=parent,
        operation_type=RECLAIMED,
        operation_time_begin=ev.records_from(_sent(op)),
    )
    ev = ev.measured(client.clock_offset())
    quotas: dict[str, IssuedQuota] = {}
    for rid in sorted({i.reseller_id for i in items if i.reseller_id}):
        for q in await client.all_issued_coupon_quotas(
            indirect_partner_id=rid, parent_quota_id=parent
        ):
            quotas[q.quota_id] = q
    return {i.item_id: reclaim_verdict(op.op_id, quotas.get(i.item_id), records, ev) for i in items}


def describe_issue(op: Operation, item: Item) -> str:
    return (
        f"issue of {op.request.get('quota_amount')} from quota {op.target} "
        f"to reseller {item.item_id}"
    )


def describe_reclaim(op: Operation, item: Item) -> str:
    return f"reclaim of quota {item.item_id} (reseller {item.reseller_id})"


def where_to_look(op: Operation) -> str:
    begin = iso(_sent(op))
    kind = ISSUED if op.operation == ISSUE else RECLAIMED
    return (
        f"Check the issue and reclaim records of quota {op.target} since {begin} in "
        "Partner Center (or GET /v2/partners/coupon-quotas/records?parent_quota_id="
        f"{op.target}&operation_type={kind}&operation_time_begin={begin}), and the "
        "reseller's quotas (GET /v2/partners/issued-coupon-quotas?indirect_partner_id=...)."
    )


OPERATIONS = (
    OperationSpec(ISSUE, issue_verdicts, describe_issue, where_to_look, money="out", delta=True),
    OperationSpec(RECLAIM, reclaim_verdicts, describe_reclaim, where_to_look, money="in"),
)
