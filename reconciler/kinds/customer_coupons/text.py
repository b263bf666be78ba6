"""CustomerCoupons in words, for plans, drift reports and pull-request comments. Every value from
live data or a manifest passes the escaper of the medium it is written to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.kinds.customer_coupons.change import RECLAIM, restrictions_text
from reconciler.kinds.customer_coupons.match import STATUS_NAMES
from reconciler.plan.model import ZERO, money
from reconciler.render.words import amount, plural

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper


def _validity(row: Mapping[str, Any], esc: Escaper) -> str:
    start = row.get("effective")
    until = f"until {esc(row.get('expire'))}"
    return f"from {esc(start)} {until}" if start else until


def declared_text(row: Mapping[str, Any], esc: Escaper) -> str:
    """``500.00 from quota Q, from A until B, cloud_service_types: ...``."""
    return (
        f"{esc(row.get('face_value'))} from quota {esc(row.get('quota_id'))}, "
        f"{_validity(row, esc)}, {esc(restrictions_text(row.get('limits') or ()))}"
    )


def held_text(row: Mapping[str, Any], esc: Escaper) -> str:
    """``coupon CP1 5000.00 usable, 3200.00 left (1800.00 spent)``."""
    status = row.get("status")
    name = STATUS_NAMES.get(status, str(status)) if isinstance(status, int) else esc(status)
    return (
        f"coupon {esc(row.get('coupon_id'))} {esc(row.get('face_value'))} {name}, "
        f"{esc(row.get('balance'))} left ({esc(row.get('spent'))} spent)"
    )


def change_text(change: Change, esc: Escaper) -> str:
    """``reclaim coupon X ...; issue 500.00 from quota Q ...``."""
    reclaimed = {
        str((call.body or {}).get("coupon_id"))
        for call in change.calls
        if call.operation == RECLAIM.name
    }
    before = [r for r in change.before.get("coupons") or () if r.get("coupon_id") in reclaimed]
    parts = [f"reclaim {held_text(row, esc)}" for row in before]
    issued = [r for r in change.after.get("coupons") or () if r.get("held_by") is None]
    parts += [f"issue {declared_text(row, esc)}" for row in issued]
    return "; ".join(parts)


def side_text(values: Mapping[str, Any], esc: Escaper) -> str:
    """One side of a customer's coupons: what it holds, or what it should hold."""
    rows = list(values.get("coupons") or ())
    if not rows:
        return "no coupons"
    shown = [held_text(r, esc) if "coupon_id" in r else declared_text(r, esc) for r in rows]
    exclusive = " (and no other usable coupon)" if values.get("exclusive") else ""
    return "; ".join(shown) + exclusive


def money_text(change: Change) -> str:
    m = change.money
    if m is None:
        return ""
    parts = []
    if m.reclaim:
        parts.append(f"-{amount(m.reclaim, m.currency)}")
    if m.issue:
        parts.append(f"+{amount(m.issue, m.currency)}")
    if m.unrecoverable:
        parts.append(f"({amount(m.unrecoverable, m.currency)} spent, unrecoverable)")
    return " ".join(parts)


def reclaim_banner(changes: Sequence[Change]) -> str | None:
    """The warning atop a pull-request comment whose coupon changes take money back."""
    reclaims = [c for c in changes if c.money and c.money.reclaim > ZERO]
    if not reclaims:
        return None
    back = money(sum((c.money.reclaim for c in reclaims if c.money), ZERO))
    lost = money(sum((c.money.unrecoverable for c in reclaims if c.money), ZERO))
    text = (
        f"> [!WARNING]\n> **Customer coupons will be reclaimed** from "
        f"{plural(len(reclaims), 'customer')}: {amount(back)} goes back to the coupon quotas."
    )
    if lost > ZERO:
        text += f" {amount(lost)} the customers already spent cannot come back."
    return text
