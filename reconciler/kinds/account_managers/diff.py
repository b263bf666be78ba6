"""Kind ``AccountManagers``: which account manager (at most one) each customer has.

The public API can read a customer's manager (``list_sub_customers`` ->
``account_managers[].account_name``) but has no call to set one (REFERENCE §8). Every change of
this kind is therefore *manual*: the plan says so and lists the Partner Center console steps, and
the change stays in later plans until a person has made it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from reconciler.errors import did_you_mean
from reconciler.kinds.base import KindResult, LiveState, customer_label, mask_email, mask_phone
from reconciler.plan.model import Change, fingerprint

if TYPE_CHECKING:
    from reconciler.bss.models import Customer
    from reconciler.kinds.account_managers.desired import ManagerAssignment
    from reconciler.manifests.desired import DesiredState

KIND = "account-manager"


def console_steps(customer: Customer, manager: str | None, current: str | None) -> tuple[str, ...]:
    """The Partner Center steps a person follows (user manual: 'Assign an account manager')."""
    who = f"{customer.account_name or ''} (customer ID {customer.customer_id})".strip()
    steps = [
        "Sign in to Partner Center with an account that may assign account managers.",
        f"Open Customers > Customer Management and search for {who}.",
    ]
    if manager is None:
        steps.append(f"Choose 'Assign Account Manager' and remove {current}; save.")
    else:
        steps.append(f"Choose 'Assign Account Manager', select {manager} and confirm.")
    steps.append("Run `reconciler plan` again: this change disappears once the console shows it.")
    return tuple(steps)


def live_object(customer: Customer) -> dict[str, str | None]:
    return {"customer_id": customer.customer_id, "account_manager": customer.account_manager}


def diff(desired: DesiredState, live: LiveState) -> KindResult:
    """Changes for every assignment whose customer was found and whose manager differs.

    ``live.managers_seen`` must hold every manager of the account for a manager the roster
    lacks (the planner's reader looks at every customer before this says "unknown")."""
    result = KindResult()
    known = live.managers_seen | set(desired.settings.account_managers)
    twice = live.named_otherwise()
    seen: dict[str, ManagerAssignment] = {}
    for want in _assignments(desired):
        customer = live.customer(want.customer)
        if customer is None:
            continue  # the reader already reported the unknown customer
        cid = customer.customer_id
        if cid in twice and not result.first_entry(
            seen, cid, want, functools.partial(_label, customer)
        ):
            continue
        if want.manager is not None and want.manager not in known:
            result.problem(
                want.source,
                "manager",
                f"unknown account manager {want.manager!r}{did_you_mean(want.manager, known)}: "
                "no customer or reseller of the partner account has it and it is not in "
                "Settings spec.accountManagers (add it there if the manager is new)",
            )
            continue
        result.in_scope += 1
        if customer.account_manager != want.manager:
            result.changes.append(_change(want, customer))
    return result


def _label(customer: Customer) -> str:
    return f"the account manager of customer {customer_label(customer)}"


def _change(want: ManagerAssignment, customer: Customer) -> Change:
    current = customer.account_manager
    contact = ", ".join(
        v for v in (mask_phone(customer.telephone), mask_email(customer.email)) if v
    )
    notes = console_steps(customer, want.manager, current)
    if contact:
        notes = (f"Customer contact (masked): {contact}", *notes)
    return Change(
        kind=KIND,
        key=f"{KIND}/{customer.customer_id}",
        action="manual",
        subject=customer_label(customer),
        before={"account_manager": current},
        after={"account_manager": want.manager},
        calls=(),
        source=want.source,
        fingerprint=fingerprint(live_object(customer)),
        manual=True,
        notes=notes,
    )


def _assignments(desired: DesiredState) -> tuple[ManagerAssignment, ...]:
    found: tuple[ManagerAssignment, ...] = desired.entries_of(KIND)
    return found
