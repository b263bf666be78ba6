"""The changes of kind ``AccountFunds``: one transfer each, as plan data.

A change's key is ``account-funds/customer/<customer id>`` or ``account-funds/reseller/<reseller
id>``; its action ``fund`` (the partner, or a reseller for its customer, transfers cash to it) or
``reclaim`` (cash goes back). ``before`` holds what the transfer rests on (the amounts its
fingerprint covers), ``after`` the balance the change reaches. The one call in ``calls`` carries
the request body exactly as apply sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.bss import operations as ops
from reconciler.plan.model import Call, Change, MoneyImpact, fingerprint, fmt_money

if TYPE_CHECKING:
    from reconciler.kinds.account_funds.live import FundsLive
    from reconciler.kinds.account_funds.plans import CustomerPlan, ResellerPlan

KIND = "account-funds"
FUND, RECLAIM = "fund", "reclaim"
#: the four transfers, by (recipient kind, action)
OPERATIONS: Mapping[tuple[str, str], ops.Operation] = {
    ("customer", FUND): ops.UPDATE_CUSTOMER_ACCOUNT_AMOUNT,
    ("customer", RECLAIM): ops.RECLAIM_TO_PARTNER_ACCOUNT,
    ("reseller", FUND): ops.UPDATE_INDIRECT_PARTNER_ACCOUNT,
    ("reseller", RECLAIM): ops.RECLAIM_INDIRECT_PARTNER_ACCOUNT,
}


def customer_key(customer_id: str) -> str:
    return f"{KIND}/customer/{customer_id}"


def reseller_key(reseller_id: str) -> str:
    return f"{KIND}/reseller/{reseller_id}"


def customer_snapshot(customer_id: str, owner: str | None, amount: Decimal, debt: Decimal) -> Any:
    """What a customer change's fingerprint covers (apply re-reads and compares it)."""
    return {
        "customer": customer_id,
        "owner": owner,
        "amount": fmt_money(amount),
        "debt_amount": fmt_money(debt),
    }


def reseller_snapshot(reseller_id: str, amount: Decimal, designated: Decimal) -> Any:
    """What a reseller change's fingerprint covers: its allocatable account as planned."""
    return {
        "reseller": reseller_id,
        "amount": fmt_money(amount),
        "designated_amount": fmt_money(designated),
    }


def _call(recipient: str, action: str, body: dict[str, str]) -> Call:
    op = OPERATIONS[(recipient, action)]
    return Call(op.name, op.method, op.path, body)


def customer_change(plan: CustomerPlan, live: FundsLive, currency: str) -> Change:
    move, entry = plan.move, plan.entry
    action = FUND if move.fund else RECLAIM
    amount = move.fund or move.reclaim
    body = {"customer_id": plan.customer_id, "amount": fmt_money(amount)}
    if plan.owner is not None:
        body["indirect_partner_id"] = plan.owner
    subject = plan.label
    if plan.owner is not None:
        subject += f", customer of reseller {_reseller_name(live, plan.owner)}"
    return Change(
        kind=KIND,
        key=customer_key(plan.customer_id),
        action=action,
        subject=subject,
        before={
            "amount": fmt_money(move.amount),
            "debt_amount": fmt_money(move.debt),
            "net": fmt_money(move.net),
        },
        after={"net": fmt_money(move.target)},
        calls=(_call("customer", action, body),),
        source=(entry.floor_source if move.fund else entry.cap_source) or entry.source,
        fingerprint=fingerprint(
            customer_snapshot(plan.customer_id, plan.owner, move.amount, move.debt)
        ),
        money=MoneyImpact(issue=move.fund, reclaim=move.reclaim, currency=currency),
        notes=tuple(_customer_notes(plan, live)),
    )


def _reseller_name(live: FundsLive, rid: str) -> str:
    reseller = live.resellers.get(rid)
    name = reseller.account_name if reseller is not None else None
    return f"{name} ({rid})" if name else rid


def _customer_notes(plan: CustomerPlan, live: FundsLive) -> list[str]:
    move, notes = plan.move, []
    if plan.owner is not None:
        whose = f"the allocatable account of reseller {_reseller_name(live, plan.owner)}"
        notes.append(f"from {whose}" if move.fund else f"back to {whose}")
    if move.debt and move.fund:
        notes.append(
            f"the customer owes {fmt_money(move.debt)}: {fmt_money(move.debt_covered)} of this "
            "transfer stands against the debt (bounds compare the net cash, amount - debt; "
            "whether the API repays the debt with the transfer is not documented, and the net "
            "is the same either way)"
        )
    elif move.debt:
        notes.append(
            f"the customer owes {fmt_money(move.debt)}; its net cash is "
            f"{fmt_money(move.net)} before and {fmt_money(move.target)} after"
        )
    return notes


def reseller_change(plan: ResellerPlan, currency: str) -> Change:
    move = plan.move
    action = FUND if move.fund else RECLAIM
    amount = move.fund or move.reclaim
    before: dict[str, str] = {
        "balance": fmt_money(move.amount),
        "designated_amount": fmt_money(move.designated),
    }
    if move.flows.reclaimed:
        before["from_customers"] = fmt_money(move.flows.reclaimed)
    if move.flows.funded:
        before["to_customers"] = fmt_money(move.flows.funded)
    entry = plan.entry
    assert entry is not None  # an undeclared reseller has no transfer of its own
    return Change(
        kind=KIND,
        key=reseller_key(plan.reseller_id),
        action=action,
        subject=plan.label,
        before=before,
        after={"balance": fmt_money(move.final)},
        calls=(
            _call(
                "reseller",
                action,
                {"indirect_partner_id": plan.reseller_id, "amount": fmt_money(amount)},
            ),
        ),
        source=(entry.floor_source if move.fund else entry.cap_source) or entry.source,
        fingerprint=fingerprint(reseller_snapshot(plan.reseller_id, move.amount, move.designated)),
        money=MoneyImpact(
            issue=move.fund, reclaim=move.reclaim, unrecoverable=move.stuck, currency=currency
        ),
        notes=tuple(_reseller_notes(plan)),
    )


def _reseller_notes(plan: ResellerPlan) -> list[str]:
    move, notes = plan.move, []
    if move.flows.reclaimed or move.flows.funded:
        notes.append(
            f"after this run's transfers with its customers ({fmt_money(move.flows.reclaimed)} "
            f"back from them first, {fmt_money(move.flows.funded)} to them last) it would hold "
            f"{fmt_money(move.projected)}"
        )
    if move.fund:
        notes.append("from the partner's allocatable account")
    else:
        notes.append("back to the partner's allocatable account")
    if move.stuck:
        notes.append(
            f"{fmt_money(move.stuck)} more is above atMost but designated (ring-fenced): it "
            "cannot be reclaimed"
        )
    return notes
