"""The two writes of CustomerCoupons, each through the journal (:func:`reconciler.apply.ops.
journalled`: intent, fenced attempts, outcome), each preceded by the check for other writers on
the quota's records, each followed by attributing its record (so the next check knows it is
ours).

A coupon record names no operator; it is ours when its id is attributed to one of our items,
or (for issues whose answer was lost) when one of our items of the same customer, face value and
result accounts for it (:class:`reconciler.apply.writers.OurRecords`). Records of the system
(expiry, unbinding: types 3-9) are not writers and are not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.apply.evidence import SKEW, RecordFacts, records_from, window_begin
from reconciler.apply.journal import ItemOutcome, ItemSpec, OpSpec
from reconciler.apply.ops import journalled
from reconciler.apply.writers import outside_writes
from reconciler.kinds.customer_coupons.change import ISSUE, RECLAIM
from reconciler.kinds.customer_coupons.evidence import WRITER_TYPES
from reconciler.kinds.customer_coupons.settle import records_of
from reconciler.plan.model import fmt_money, money

if TYPE_CHECKING:
    from reconciler.apply.ops import ExecContext, Sent
    from reconciler.bss.coupons import CouponIssueResult, CouponReclaimResult, CouponRecord
    from reconciler.kinds.customer_coupons.batch import IssueBatch
    from reconciler.kinds.customer_coupons.work import Reclaim, Work


def record_facts(record: CouponRecord) -> RecordFacts:
    issue = record.operation_type == "1"
    return RecordFacts(
        id=record.id,
        recipient=record.customer_id,
        amount=record.operation_amount,
        result=record.result,
        time=record.operation_time,
        operator=None,  # coupon records name no operator
        remark=record.remark,
        subject=record.coupon_id,
        delta=issue,
        noun="coupon issue" if issue else "coupon reclaim",
    )


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
    """Records of coupons our items made or reclaimed, still unattributed (a run that stopped
    between its answer and the attribution, a reclaim refused inside HTTP 200): theirs, before
    anyone asks whose they are. A coupon is issued once and reclaimed once, so its record of the
    matching type and result is the item's."""
    since = window_begin(ctx.started_at, ctx.client.clock_offset()) - ctx.horizon - SKEW
    known: dict[tuple[str, str, str], tuple[str, str]] = {}
    for op in ctx.journal.operations(partner_id=ctx.partner_id, target=quota_id, sent_since=since):
        for item in op.items:
            result = _result(op.operation, op.state, item.state)
            coupon = item.item_id if op.operation == RECLAIM.name else item.quota_id
            if result and coupon and not item.record_id:
                known[(op.operation, coupon, result)] = (op.op_id, item.item_id)
    if not known:
        return
    taken = ctx.journal.attributed_record_ids(ctx.partner_id)
    for record in records:
        operation = ISSUE.name if record.operation_type == "1" else RECLAIM.name
        key = (operation, record.coupon_id or "", record.result)
        if key not in known or record.id in taken:
            continue
        hit = known.pop(key)
        if operation == RECLAIM.name and record.result == "0":
            amount = fmt_money(money(record.operation_amount))
            ctx.journal.update_item(*hit, record_id=record.id, amount=amount)
        else:
            ctx.journal.update_item(*hit, record_id=record.id)


def _result(operation: str, op_state: str, item_state: str) -> str | None:
    """The record result an item of ours left: "0" committed; "-1" a reclaim refused inside
    HTTP 200 (the API records it against the coupon); None: nothing to look for."""
    if operation not in (ISSUE.name, RECLAIM.name):
        return None
    if item_state in ("committed", "settled-committed"):
        return "0"
    if operation == RECLAIM.name and item_state == "failed" and op_state == "committed":
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
    """Give each committed item (item id -> its coupon id) the record of its coupon (type
    ``kind``, successful, in this run): its id, and for a reclaim the amount that came back."""
    if not by_coupon:
        return {}
    found: dict[str, CouponRecord] = {}
    since = records_from(ctx.started_at, ctx.client.clock_offset())
    records = await records_of(
        ctx.client, owner, coupon_ids=sorted(by_coupon.values()), operation_types=[kind],
        operation_time_begin=since,
    )  # fmt: skip
    for item_id, coupon_id in by_coupon.items():
        mine = [r for r in records if r.coupon_id == coupon_id and r.result == "0"]
        if len(mine) != 1:
            continue  # none yet, or more than one: leave it unattributed
        found[item_id] = mine[0]
        if kind == "2":  # a reclaim moves what the coupon held then, as its record says
            amount = fmt_money(money(mine[0].operation_amount))
            ctx.journal.update_item(sent.op_id, item_id, record_id=mine[0].id, amount=amount)
        else:
            ctx.journal.update_item(sent.op_id, item_id, record_id=mine[0].id)
    return found
