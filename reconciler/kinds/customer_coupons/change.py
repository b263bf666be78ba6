"""One customer's coupon change: the calls, the money, the words a reviewer reads.

A change covers one customer: first every reclaim (one ``reclaim_partner_coupons`` per coupon:
its whole balance goes back to its quota; what the customer already spent never comes back),
then every issue (one ``create_partner_coupons`` per coupon, with this customer alone in
``customer_ids``; apply batches customers that get the same coupon into one call).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.bss import operations as ops
from reconciler.kinds.base import COUPON_QUOTA, customer_label
from reconciler.kinds.customer_coupons.desired import TIME_FORMAT
from reconciler.kinds.customer_coupons.match import Held, Matching, Wanted
from reconciler.kinds.spec import Draw
from reconciler.plan.model import ZERO, Call, Change, MoneyImpact, fingerprint, fmt_money, money

if TYPE_CHECKING:
    from reconciler.bss.coupons import PartnerCoupon
    from reconciler.kinds.customer_coupons.desired import CustomerCoupons
    from reconciler.kinds.customer_coupons.live import Holder

KIND = "customer-coupons"
ISSUE = ops.CREATE_PARTNER_COUPONS
RECLAIM = ops.RECLAIM_PARTNER_COUPONS


def change_key(customer_id: str) -> str:
    return f"{KIND}/{customer_id}"


def subject(holder: Holder) -> str:
    text = customer_label(holder.customer)
    if holder.owner is None:
        return text
    return f"{text}, customer of reseller {holder.owner_label or holder.owner}"


def issue_body(want: Wanted, customer_id: str, owner: str | None) -> dict[str, Any]:
    """The ``create_partner_coupons`` body for one coupon to one customer, as declared (absent
    validity and restrictions: the quota's), in the REFERENCE's field order."""
    d = want.coupon
    body: dict[str, Any] = {
        "quota_id": d.quota_id,
        "customer_ids": [customer_id],
        "face_value": fmt_money(d.face_value),
        "valid_time": d.valid_time,
        "expire_time": d.expire_time,
        "cloud_service_types": list(d.cloud_service_types) if d.cloud_service_types else None,
        "product_ids": list(d.product_ids) if d.product_ids else None,
        "memo": d.memo,
        "indirect_partner_id": owner,
    }
    return {k: v for k, v in body.items() if v is not None}


def reclaim_body(held: Held, owner: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"coupon_id": held.coupon.coupon_id}
    if owner:
        body["indirect_partner_id"] = owner
    return body


def spent(coupon: PartnerCoupon) -> Decimal:
    return max(ZERO, money(coupon.face_value - coupon.balance))


def live_object(
    customer_id: str, owner: str | None, held: Iterable[Held], reclaim_ids: Iterable[str] = ()
) -> dict[str, Any]:
    """What the change was computed from: the customer's coupons that are not reclaimed, with
    the balance only of those it reclaims (spending elsewhere does not make the plan stale)."""
    balances = set(reclaim_ids)
    rows = []
    for h in sorted(held, key=lambda h: h.coupon.coupon_id):
        c = h.coupon
        row: list[Any] = [c.coupon_id, c.status, h.spec.to_dict()]
        if c.coupon_id in balances:
            row.append(fmt_money(c.balance))
        rows.append(row)
    return {"customer": customer_id, "owner": owner, "coupons": rows}


def _when(value: int | None) -> str:
    return "from issue" if value is None else time.strftime(TIME_FORMAT, time.gmtime(value))


def restrictions_text(limits: Iterable[Sequence[str]]) -> str:
    """``cloud_service_types: a, b; product_ids: c``, or ``no restrictions``."""
    by_key: dict[str, list[str]] = {}
    for key, value in sorted((str(k), str(v)) for k, v in limits):
        by_key.setdefault(key, []).append(value)
    if not by_key:
        return "no restrictions"
    return "; ".join(f"{key}: {', '.join(values)}" for key, values in by_key.items())


def coupon_row(held: Held) -> dict[str, Any]:
    """A live coupon as the change records it: its spec (the same fields as a declared coupon's)
    with its id, status, balance and what was spent. Apply reads its reclaims back from it."""
    c = held.coupon
    return {
        "coupon_id": c.coupon_id,
        "status": c.status,
        **held.spec.to_dict(),
        "balance": fmt_money(c.balance),
        "spent": fmt_money(spent(c)),
    }


def declared_row(want: Wanted, held_by: Held | None) -> dict[str, Any]:
    """A declared coupon as the change records it: its spec, where it is declared, and the live
    coupon that stands for it (``held_by`` None: the change issues it, in the order of the
    change's issue calls)."""
    return {
        **want.spec.to_dict(),
        "source": str(want.coupon.source),
        "held_by": held_by.coupon.coupon_id if held_by else None,
    }


def _notes(m: Matching) -> list[str]:
    notes = []
    for h in m.reclaim:
        c = h.coupon
        notes.append(
            f"reclaims coupon {c.coupon_id} ({fmt_money(c.face_value)} from quota "
            f"{h.spec.quota_id}): already spent {fmt_money(spent(c))} (cannot come back), "
            f"returns {fmt_money(c.balance)} to {h.spec.quota_id}"
        )
    for w in m.issue:
        s = w.spec
        notes.append(
            f"issues a {fmt_money(s.face_value)} coupon from quota {s.quota_id}, valid "
            f"{_when(s.effective)} to {_when(s.expire)}, {restrictions_text(s.limits)}"
        )
    return notes


def action(m: Matching) -> str:
    if m.reclaim and m.issue:
        return "reclaim-reissue"
    return "reclaim" if m.reclaim else "issue"


def build_change(
    entry: CustomerCoupons, holder: Holder, m: Matching, held: Sequence[Held], currency: str
) -> Change:
    cid, owner = holder.customer.customer_id, holder.owner
    calls = [
        Call(RECLAIM.name, RECLAIM.method, RECLAIM.path, reclaim_body(h, owner)) for h in m.reclaim
    ]
    calls += [
        Call(ISSUE.name, ISSUE.method, ISSUE.path, issue_body(w, cid, owner)) for w in m.issue
    ]
    reclaim_ids = [h.coupon.coupon_id for h in m.reclaim]
    return Change(
        kind=KIND,
        key=change_key(cid),
        action=action(m),
        subject=subject(holder),
        before={"coupons": [coupon_row(h) for h in held if h.status in (1, 2)]},
        after={
            "coupons": [declared_row(w, h) for w, h in m.kept]
            + [declared_row(w, None) for w in m.issue],
            "exclusive": entry.exclusive,
        },
        calls=tuple(calls),
        source=entry.source,
        fingerprint=fingerprint(live_object(cid, owner, held, reclaim_ids)),
        money=MoneyImpact(
            issue=money(sum((w.spec.face_value for w in m.issue), ZERO)),
            reclaim=money(sum((h.coupon.balance for h in m.reclaim), ZERO)),
            unrecoverable=money(sum((spent(h.coupon) for h in m.reclaim), ZERO)),
            currency=currency,
        ),
        notes=tuple(_notes(m)),
    )


def draws(change: Change) -> tuple[Draw, ...]:
    """What one customer's change takes from each quota (the face values it issues) and gives
    back to it (the balances of the coupons it reclaims, as the plan saw them)."""
    takes: dict[str, Decimal] = {}
    returns: dict[str, Decimal] = {}
    rows = {row["coupon_id"]: row for row in change.before.get("coupons", ())}
    for call in change.calls:
        body = call.body or {}
        if call.operation == ISSUE.name:
            quota = str(body["quota_id"])
            takes[quota] = takes.get(quota, ZERO) + Decimal(str(body["face_value"]))
        elif call.operation == RECLAIM.name:
            row = rows[body["coupon_id"]]
            quota = str(row["quota_id"])
            returns[quota] = returns.get(quota, ZERO) + Decimal(str(row["balance"]))
    return tuple(
        Draw((COUPON_QUOTA, q), money(takes.get(q, ZERO)), money(returns.get(q, ZERO)))
        for q in sorted(takes.keys() | returns.keys())
    )
