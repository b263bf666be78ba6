"""Settling writes whose outcome is unknown, from the API's own records.

An operation is *open* when it was recorded but never answered: the run died, the connection
dropped, or a batch answer left some items out. Apply settles every open operation of the
partner account before it plans or writes anything; the executors also try right after an unknown
answer, but then accept only proof that the call took effect (absence of proof so soon is not
proof of absence: the request may still be in flight).

Rules, per item (REFERENCE §6, §7.9-§7.12):

* never sent (the intent was recorded, the *sent* mark was not): not committed.
* issue ``amount`` from parent P to reseller R. Evidence 1: successful issue records ("10",
  result "0") of R from P since the intent (minus a clock-skew margin) with that amount, on a
  quota that was not among R's quotas in the pre-state snapshot, not already attributed to
  another item. Evidence 2: the growth of R's total issued value from P (the sum of its quotas'
  ``quota_value``) since the snapshot. One record and growth = amount: committed. No record and
  no growth: not committed. No record and growth = amount: committed (a top-up of an existing
  quota, or records that lag). Anything else (two records, other growth, a record without the
  growth) cannot be settled safely.
* reclaim of quota Q: the record "11" of Q whose remark carries the operation id, with Q in
  status 6: committed, for the record's amount. Q still in status 0 and no such record: not
  committed. Q reclaimed by a record that is not ours: not committed. Anything else: unsettled.
* auto-renew of resource X: set-to-state, so the resource's ``expire_policy`` decides.

What cannot be settled stops the run with :class:`UnsettledOperationError`, which says exactly
what to look at and how to record the answer (``reconciler journal settle``). Settling never
writes to the API, and the plan that follows is always computed from fresh reads, so a settlement
only decides what the journal says happened: no stored delta is ever replayed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.apply.journal import Item, Journal, Operation, iso
from reconciler.errors import UnsettledOperationError
from reconciler.plan.model import ZERO, fmt_money, money

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import IssuedQuota, QuotaRecord

#: Seconds before the intent where the API's records are searched: the request signature
#: tolerates 15 minutes of clock difference, so the server's clock may be that far behind.
SKEW = 900.0
ISSUE = "update_coupon_quotas"
RECLAIM = "reclaim_coupon_quotas"
RENEW_ON = "auto_renewal_resources"
RENEW_OFF = "cancel_auto_renewal_resources"
RECLAIMED = 6
VALID = 0


@dataclass(frozen=True)
class Verdict:
    """``committed`` is None when the evidence does not decide."""

    committed: bool | None
    detail: str
    record_id: str | None = None
    quota_id: str | None = None
    amount: str | None = None


async def settle_open(client: BssClient, journal: Journal, partner_id: str, *, by: str) -> int:
    """Settle every open operation of ``partner_id``; returns how many were settled.

    Raises :class:`UnsettledOperationError` naming each one the records cannot decide.
    """
    ops = journal.operations(partner_id=partner_id, open_only=True)
    stuck = []
    for op in ops:
        settled = await settle_operation(client, journal, op, final=True, by=by)
        if settled.open:
            stuck.append(settled)
    if stuck:
        raise UnsettledOperationError("\n\n".join(unsettled_message(op) for op in stuck))
    return len(ops)


async def settle_operation(
    client: BssClient, journal: Journal, op: Operation, *, final: bool, by: str
) -> Operation:
    """Settle what the evidence decides; with ``final=False`` only proven commits."""
    open_items = [i for i in op.items if i.open]
    if op.state == "intent":
        verdicts = {
            i.item_id: Verdict(False, "never sent: the run stopped before sending it")
            for i in open_items
        }
    elif op.operation == ISSUE:
        verdicts = await _issue_verdicts(client, journal, op, open_items)
    elif op.operation == RECLAIM:
        verdicts = await _reclaim_verdicts(client, op, open_items)
    elif op.operation in (RENEW_ON, RENEW_OFF):
        verdicts = await _renew_verdicts(client, op, open_items)
    else:
        unknown = Verdict(None, f"unknown operation {op.operation}")
        verdicts = {i.item_id: unknown for i in open_items}
    for item_id, verdict in verdicts.items():
        if verdict.committed is None or (verdict.committed is False and not final):
            journal.update_item(op.op_id, item_id, detail=verdict.detail)
            continue
        journal.settle_item(
            op.op_id,
            item_id,
            committed=verdict.committed,
            by=by,
            detail=verdict.detail,
            record_id=verdict.record_id,
            quota_id=verdict.quota_id,
            amount=verdict.amount,
        )
    settled = journal.operation(op.op_id)
    assert settled is not None
    return settled


def _begin(op: Operation) -> str:
    return iso(op.intent_at - SKEW)


def _snapshot(op: Operation, reseller_id: str | None) -> list[list[Any]]:
    resellers: Mapping[str, Any] = op.pre_state.get("resellers") or {}
    entry = resellers.get(reseller_id or "") or {}
    quotas: list[list[Any]] = entry.get("quotas") or []
    return quotas


def _value(raw: Any) -> Decimal:
    return money(raw) if raw not in (None, "") else ZERO


async def _issue_verdicts(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item]
) -> dict[str, Verdict]:
    parent = op.target
    amount = money(op.request["quota_amount"])
    records = await client.all_coupon_quotas_records(
        parent_quota_id=parent, operation_type="10", operation_time_begin=_begin(op)
    )
    taken = journal.attributed_record_ids(op.partner_id)
    out: dict[str, Verdict] = {}
    for item in items:
        rid = item.reseller_id or item.item_id
        snap = _snapshot(op, rid)
        children = await client.all_issued_coupon_quotas(
            indirect_partner_id=rid, parent_quota_id=parent
        )
        out[item.item_id] = _issue_verdict(rid, amount, snap, children, records, taken)
        if out[item.item_id].record_id:
            taken.add(str(out[item.item_id].record_id))
    return out


def _issue_verdict(
    rid: str,
    amount: Decimal,
    snap: list[list[Any]],
    children: Sequence[IssuedQuota],
    records: Sequence[QuotaRecord],
    taken: set[str],
) -> Verdict:
    known = {str(q[0]) for q in snap}
    before = sum((_value(q[3] if q[3] is not None else q[2]) for q in snap), ZERO)
    after = sum(
        (q.quota_value if q.quota_value is not None else (q.balance or ZERO) for q in children),
        ZERO,
    )
    growth = money(after - before)
    found = [
        r
        for r in records
        if r.indirect_partner_id == rid
        and r.result == "0"
        and r.amount == amount
        and r.quota_id not in known
        and r.id not in taken
    ]
    facts = (
        f"{len(found)} matching issue record(s); issued value from the quota went from "
        f"{fmt_money(before)} to {fmt_money(after)}"
    )
    if len(found) == 1 and growth == amount:
        rec = found[0]
        return Verdict(True, f"issue record {rec.id} on quota {rec.quota_id}", rec.id, rec.quota_id)
    if not found and growth == ZERO:
        return Verdict(False, f"no issue record and no new value ({facts})")
    if not found and growth == amount:
        return Verdict(True, f"the reseller's issued value grew by {fmt_money(amount)} ({facts})")
    return Verdict(None, facts)


async def _reclaim_verdicts(
    client: BssClient, op: Operation, items: Sequence[Item]
) -> dict[str, Verdict]:
    parent = op.target
    records = await client.all_coupon_quotas_records(
        parent_quota_id=parent, operation_type="11", operation_time_begin=_begin(op)
    )
    quotas: dict[str, IssuedQuota] = {}
    for rid in sorted({i.reseller_id for i in items if i.reseller_id}):
        for q in await client.all_issued_coupon_quotas(
            indirect_partner_id=rid, parent_quota_id=parent
        ):
            quotas[q.quota_id] = q
    return {i.item_id: _reclaim_verdict(op.op_id, quotas.get(i.item_id), records) for i in items}


def _reclaim_verdict(
    op_id: str, quota: IssuedQuota | None, records: Sequence[QuotaRecord]
) -> Verdict:
    if quota is None:
        return Verdict(None, "the quota is no longer listed among the reseller's quotas")
    done = [r for r in records if r.quota_id == quota.quota_id and r.result == "0"]
    ours = [r for r in done if op_id in (r.remark or "")]
    status = quota.quota_status
    if status == RECLAIMED and ours:
        amount = fmt_money(ours[0].amount) if ours[0].amount is not None else None
        return Verdict(True, f"reclaim record {ours[0].id}", ours[0].id, quota.quota_id, amount)
    if status == RECLAIMED and done:
        return Verdict(False, f"reclaimed by someone else (record {done[0].id})")
    if status == VALID and not ours:
        return Verdict(False, "the quota is still valid and no reclaim record names this call")
    return Verdict(
        None, f"quota status {status} with {len(ours)} reclaim record(s) naming this call"
    )


async def _renew_verdicts(
    client: BssClient, op: Operation, items: Sequence[Item]
) -> dict[str, Verdict]:
    want = op.operation == RENEW_ON
    ids = [i.item_id for i in items]
    found = {
        r.resource_id: r for r in await client.all_customer_resources(op.target, resource_ids=ids)
    }
    out: dict[str, Verdict] = {}
    for item in items:
        res = found.get(item.item_id)
        if res is None:
            out[item.item_id] = Verdict(None, "the resource is no longer listed")
        else:
            state = "on" if res.auto_renew else "off"
            out[item.item_id] = Verdict(res.auto_renew == want, f"auto-renew is {state}")
    return out


def unsettled_message(op: Operation) -> str:
    """What the operator must check, and the commands that record the answer."""
    lines = [
        f"Operation {op.op_id} ({op.operation}, run {op.run_id}, recorded {iso(op.intent_at)}) "
        "may or may not have taken effect, and the API's records do not decide it:"
    ]
    for item in op.items:
        if item.open:
            lines.append(f"  - {_what(op, item)}: {item.detail or 'no evidence read yet'}")
    lines.append(_where_to_look(op))
    lines += [
        "Then record the answer (the next plan is computed from live state either way):",
        f"  reconciler journal settle {op.op_id} --committed       # it took effect",
        f"  reconciler journal settle {op.op_id} --not-committed   # it did not",
    ]
    return "\n".join(lines)


def _what(op: Operation, item: Item) -> str:
    if op.operation == ISSUE:
        return (
            f"issue of {op.request.get('quota_amount')} from quota {op.target} "
            f"to reseller {item.item_id}"
        )
    if op.operation == RECLAIM:
        return f"reclaim of quota {item.item_id} (reseller {item.reseller_id})"
    return f"{op.operation} of resource {item.item_id} (customer {op.target})"


def _where_to_look(op: Operation) -> str:
    begin = _begin(op)
    if op.operation in (ISSUE, RECLAIM):
        kind = "10" if op.operation == ISSUE else "11"
        return (
            f"Check the issue and reclaim records of quota {op.target} since {begin} in "
            "Partner Center (or GET /v2/partners/coupon-quotas/records?parent_quota_id="
            f"{op.target}&operation_type={kind}&operation_time_begin={begin}), and the "
            "reseller's quotas (GET /v2/partners/issued-coupon-quotas?indirect_partner_id=...)."
        )
    return (
        f"Check the resource's renewal setting in the customer's console (customer {op.target}), "
        "or its expire_policy in `reconciler plan` (3 = auto-renew)."
    )
