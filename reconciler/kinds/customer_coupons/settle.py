"""Settling this kind's journal operations from the coupon records and the coupon list (the rules
are in :mod:`.evidence`; the shared settlement applies the in-flight horizon and freezes what
stays open).

Journal shape. ``create_partner_coupons``: target the quota, request the body sent, pre-state
``{"spec": <the coupon asked for>, "customers": {customer id: [coupon ids it held]}}``, one item
per customer (item id and recipient the customer, amount the face value; a committed item keeps
the new coupon's id in its ``quota_id`` column, the object the answer returned).
``reclaim_partner_coupons``: target the coupon's quota, request the body sent, one item (the
coupon id; recipient its customer; amount its balance when sent, the record's once settled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.apply.evidence import Verdict
from reconciler.apply.journal import iso
from reconciler.kinds.customer_coupons.change import ISSUE, RECLAIM
from reconciler.kinds.customer_coupons.evidence import (
    CouponVerdict,
    IssueFacts,
    issue_verdict,
    reclaim_verdict,
)
from reconciler.kinds.customer_coupons.spec import CouponSpec
from reconciler.kinds.spec import OperationSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from reconciler.apply.evidence import Evidence
    from reconciler.apply.journal import Item, Journal, Operation
    from reconciler.bss.client import BssClient
    from reconciler.bss.coupons import (
        CouponRecord,
        CouponRecordFilters,
        IssuedCouponFilters,
        PartnerCoupon,
    )

PAGE = 100
COUPONS_PATH = ISSUE.path
RECORDS_PATH = f"{ISSUE.path}/records/query"


def owner_of(request: Mapping[str, Any]) -> str | None:
    """The reseller the call acted for (``indirect_partner_id``), if any."""
    owner = request.get("indirect_partner_id")
    return str(owner) if owner else None


async def coupons_of(
    client: BssClient, owner: str | None, **flt: Unpack[IssuedCouponFilters]
) -> list[PartnerCoupon]:
    if owner:
        flt["indirect_partner_id"] = owner
    return await client.all_issued_partner_coupons(page_size=PAGE, **flt)


async def records_of(
    client: BssClient, owner: str | None, **flt: Unpack[CouponRecordFilters]
) -> list[CouponRecord]:
    if owner:
        flt["indirect_partner_id"] = owner
    return await client.all_partner_coupons_record(page_size=PAGE, **flt)


def verdict(found: CouponVerdict) -> Verdict:
    return Verdict(found.committed, found.detail, absent=found.absent)


def _sent(op: Operation) -> float:
    return op.sent_at if op.sent_at is not None else op.intent_at


def claimed_coupons(journal: Journal, op: Operation) -> set[str]:
    """Coupon ids that other issue items of this journal are known to have created."""
    return {
        item.quota_id
        for other in journal.operations(partner_id=op.partner_id, target=op.target)
        if other.operation == ISSUE.name and other.op_id != op.op_id
        for item in other.items
        if item.committed and item.quota_id
    }


async def settle_issue(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    owner = owner_of(op.request)
    ev = ev.measured(client.clock_offset())
    spec = CouponSpec.from_dict(op.pre_state["spec"])
    held: Mapping[str, Sequence[str]] = op.pre_state.get("customers") or {}
    records = await records_of(
        client,
        owner,
        quota_id=op.target,
        operation_types=["1"],
        operation_time_begin=ev.records_from(_sent(op)),
    )
    begin, end = ev.measured(client.clock_offset()).window(op)
    taken = journal.attributed_record_ids(op.partner_id)
    claimed = claimed_coupons(journal, op)
    out: dict[str, Verdict] = {}
    for item in items:
        coupons = await coupons_of(client, owner, customer_id=item.item_id)
        before = frozenset(held.get(item.item_id, ()))
        facts = IssueFacts(item.item_id, spec, before, begin, end)
        out[item.item_id] = verdict(issue_verdict(facts, records, coupons, taken, claimed))
    return out


async def settle_reclaim(
    client: BssClient, journal: Journal, op: Operation, items: Sequence[Item], ev: Evidence
) -> dict[str, Verdict]:
    owner = owner_of(op.request)
    taken = journal.attributed_record_ids(op.partner_id)
    out: dict[str, Verdict] = {}
    for item in items:
        records = await records_of(client, owner, coupon_ids=[item.item_id])
        listed = await coupons_of(client, owner, coupon_id=item.item_id)
        coupon = next((c for c in listed if c.coupon_id == item.item_id), None)
        out[item.item_id] = verdict(reclaim_verdict(item.item_id, records, coupon, taken))
    return out


def describe_issue(op: Operation, item: Item) -> str:
    face = op.request.get("face_value")
    return f"issue of a {face} coupon from quota {op.target} to customer {item.item_id}"


def describe_reclaim(op: Operation, item: Item) -> str:
    return (
        f"reclaim of coupon {item.item_id} (customer {item.reseller_id}) back to quota {op.target}"
    )


def where_to_look(op: Operation) -> str:
    begin = iso(_sent(op))
    return (
        f"Check the coupon records of quota {op.target} since {begin} in Partner Center (or GET "
        f"{RECORDS_PATH}?quota_id={op.target}&operation_time_begin={begin}) and the customer's "
        f"coupons (GET {COUPONS_PATH}?customer_id=...): the records name no operator, so look "
        "for the coupon this call asked for."
    )


OPERATIONS = (
    OperationSpec(ISSUE.name, settle_issue, describe_issue, where_to_look, "out", delta=True),
    OperationSpec(RECLAIM.name, settle_reclaim, describe_reclaim, where_to_look, "in"),
)
