"""The two writes of CustomerCoupons, each through the journal (:func:`reconciler.apply.ops.
journalled`: intent, fenced attempts, outcome), each preceded by the check for other writers on
the quota's records, each followed by attributing its record (so the next check knows it is
ours).

A coupon record names no operator, so it is ours only when an answer proves it (docs/apply.md,
"Other writers"): it is the record of the coupon our answer returned (an issue) or of the coupon
we reclaimed, of the item's customer (and, for an issue, its face value), of the type and result
the answer said, stamped within that call's window, and no other item's. Every other record of a
customer on the quota is another writer's (:class:`reconciler.apply.writers.OurRecords`: a
record without an operator is never ours by amount and time alone). Records of the system
(expiry, unbinding: types 3-9) are not writers and are not checked.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.apply.evidence import RecordFacts, in_window
from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec
from reconciler.apply.ops import journalled
from reconciler.apply.writers import clock_off, outside_writes
from reconciler.kinds.customer_coupons.change import ISSUE, RECLAIM
from reconciler.kinds.customer_coupons.evidence import WRITER_TYPES, record_facts
from reconciler.kinds.customer_coupons.settle import records_of
from reconciler.plan.model import fmt_money, money

if TYPE_CHECKING:
    from reconciler.apply.journal import Item, Operation
    from reconciler.apply.ops import ExecContext, Sent
    from reconciler.bss.coupons import CouponIssueResult, CouponReclaimResult, CouponRecord
    from reconciler.kinds.customer_coupons.batch import IssueBatch
    from reconciler.kinds.customer_coupons.work import Reclaim, Work


async def others_on(
    ctx: ExecContext, quota_id: str, owner: str | None, customers: Sequence[str]
) -> dict[str, str]:
    """Customer id -> why another writer is active on it (records of ``quota_id`` this run)."""

    async def fetch(begin: str) -> list[RecordFacts]:
        found = await records_of(ctx.client, owner, quota_id=quota_id, operation_time_begin=begin)
        _attribute_known(ctx, quota_id, found)
        return [record_facts(r) for r in found if r.operation_type in WRITER_TYPES]

    return await outside_writes(ctx, quota_id, customers, fetch, {ISSUE.name})


def _attribute_known(ctx: ExecContext, quota_id: str, records: Sequence[CouponRecord]) -> None:
    """Link the records of coupons our answers named, still unlinked (a run that stopped between
    its answer and the link, a reclaim refused inside HTTP 200), before anyone asks whose they
    are (:func:`_proof`)."""
    ev = ctx.evidence()
    since = ev.begin(ctx.started_at) - ctx.horizon
    taken = ctx.journal.attributed_record_ids(ctx.partner_id)
    for op in ctx.journal.operations(partner_id=ctx.partner_id, target=quota_id, sent_since=since):
        for item in op.items:
            coupon = item.item_id if op.operation == RECLAIM.name else item.quota_id
            result = _result(op.operation, op.state, item.state)
            if result is None or item.record_id or (result == "0" and not coupon):
                continue
            record = _proof(ctx, op, item, coupon, result, records, taken)
            if record is not None:
                taken.add(record.id)
                _link(ctx, op.op_id, item.item_id, record)


def _proof(
    ctx: ExecContext,
    op: Operation,
    item: Item,
    coupon: str | None,
    result: str,
    records: Sequence[CouponRecord],
    taken: Collection[str],
) -> CouponRecord | None:
    """The one record of ``coupon`` (named by our answer; None: a failed issue, which names
    none) of ``op``'s type and ``result``, of the item's customer and (issue) face value,
    stamped within the call's window and linked to no other item. Our coupon's record outside
    the window means the records clock is further off than the allowance: reported
    (:func:`reconciler.apply.writers.clock_off`), not linked."""
    issue = op.operation == ISSUE.name
    candidates = [
        r
        for r in records
        if r.operation_type == ("1" if issue else "2")
        and (r.coupon_id or None) == coupon
        and r.result == result
        and r.customer_id == item.reseller_id
        and (not issue or fmt_money(money(r.operation_amount)) == item.amount)
        and r.id not in taken
    ]
    ev = ctx.evidence()
    window = ev.window(op)
    inside = [r for r in candidates if in_window(record_facts(r), *window)]
    if not inside and len(candidates) == 1 and coupon is not None:
        clock_off(ctx, record_facts(candidates[0]), op, window, ev.skew)
    return inside[0] if len(inside) == 1 else None  # none yet, or several: unlinked


def _link(ctx: ExecContext, op_id: str, item_id: str, record: CouponRecord) -> None:
    """A reclaim moves what the coupon held then, as its successful record says."""
    if record.operation_type == "2" and record.result == "0":
        amount = fmt_money(money(record.operation_amount))
        ctx.journal.update_item(op_id, item_id, record_id=record.id, amount=amount)
    else:
        ctx.journal.update_item(op_id, item_id, record_id=record.id)


def _result(operation: str, op_state: str, item_state: str) -> str | None:
    """The record result an item of ours left: "0" committed; "-1" refused inside HTTP 200
    (the API records the failure); None: nothing to look for."""
    if operation not in (ISSUE.name, RECLAIM.name):
        return None
    if item_state in ("committed", "settled-committed"):
        return "0"
    if item_state == "failed" and op_state == "committed":
        return "-1"
    return None


async def reclaim(ctx: ExecContext, work: Work, item: Reclaim) -> Sent:
    body = {
        "coupon_id": item.coupon_id,
        **({"indirect_partner_id": work.owner} if work.owner else {}),
    }
    spec = OpSpec(
        operation=RECLAIM.name,
        target=item.quota_id,
        request=body,
        pre_state={
            "customer": work.customer_id,
            "coupons": [h.coupon.coupon_id for h in work.held],
        },
        items=[
            ItemSpec(item.coupon_id, work.change.key, work.customer_id, fmt_money(item.balance))
        ],
    )

    async def call(_op: str) -> CouponReclaimResult:
        return await ctx.client.reclaim_partner_coupons(
            item.coupon_id, indirect_partner_id=work.owner
        )

    def interpret(result: CouponReclaimResult) -> dict[str, ItemOutcome]:
        if result.failure is None:
            return {item.coupon_id: ItemOutcome("committed")}
        f = result.failure
        return {item.coupon_id: ItemOutcome("failed", None, f.error_code, f.error_msg)}

    sent = await journalled(ctx, spec, call, interpret, money=True)
    ctx.progress(f"  reclaim coupon {item.coupon_id}: {sent.state} [{sent.op_id}]")
    return sent


async def issue(ctx: ExecContext, batch: IssueBatch, works: dict[str, Work]) -> Sent:
    body = batch.body()
    ids = batch.customer_ids
    owner = body.get("indirect_partner_id")
    coupon = batch.units[0].spec
    assert coupon is not None, body
    spec = OpSpec(
        operation=ISSUE.name,
        target=str(body["quota_id"]),
        request=body,
        pre_state={
            "spec": coupon.to_dict(),
            "customers": {cid: [h.coupon.coupon_id for h in works[cid].held] for cid in ids},
        },
        items=[ItemSpec(cid, works[cid].change.key, cid, str(body["face_value"])) for cid in ids],
    )

    async def call(_op: str) -> CouponIssueResult:
        return await ctx.client.create_partner_coupons(
            str(body["quota_id"]),
            ids,
            Decimal(str(body["face_value"])),
            valid_time=body.get("valid_time"),
            expire_time=body.get("expire_time"),
            cloud_service_types=body.get("cloud_service_types"),
            product_ids=body.get("product_ids"),
            memo=body.get("memo"),
            indirect_partner_id=owner,
        )

    def interpret(result: CouponIssueResult) -> dict[str, ItemOutcome]:
        out = {c: ItemOutcome("committed", quota_id=k) for c, k in result.successes.items()}
        for f in result.failures:
            out[f.id] = ItemOutcome("failed", None, f.error_code, f.error_msg)
        return {
            c: out.get(c) or ItemOutcome("unknown", detail=result.unknown_detail(c)) for c in ids
        }

    sent = await journalled(ctx, spec, call, interpret, money=True)
    ctx.progress(
        f"  issue a {body['face_value']} coupon from {body['quota_id']} to {len(ids)} "
        f"customer(s): {sent.state} [{sent.op_id}]"
    )
    return sent


async def attribute(
    ctx: ExecContext, sent: Sent, owner: str | None, by_coupon: dict[str, str], kind: str
) -> dict[str, CouponRecord]:
    """Link each committed item (item id -> the coupon id its answer named) to the record of
    its coupon (type ``kind``, successful, in the call's window: :func:`_proof`): its id, and
    for a reclaim the amount that came back."""
    op = ctx.journal.operation(sent.op_id)
    if not by_coupon or op is None:
        return {}
    records = await records_of(
        ctx.client, owner, coupon_ids=sorted(by_coupon.values()), operation_types=[kind],
        operation_time_begin=ctx.evidence().records_from(op.sent_at or op.intent_at),
    )  # fmt: skip
    taken = ctx.journal.attributed_record_ids(ctx.partner_id)
    items = {i.item_id: i for i in op.items}
    found: dict[str, CouponRecord] = {}
    for item_id, coupon_id in by_coupon.items():
        record = _proof(ctx, op, items[item_id], coupon_id, "0", records, taken)
        if record is not None:
            taken.add(record.id)
            found[item_id] = record
            _link(ctx, op.op_id, item_id, record)
    return found
