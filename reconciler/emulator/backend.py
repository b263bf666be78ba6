"""Business rules shared by the operations, and the customer/reseller listings (§7.1, §7.2).

No HTTP here: functions take the state and plain arguments and raise typed errors. Resources live
in ``resources.py``, coupon quotas in ``quotas.py``, temporary credentials in ``iam.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from reconciler.emulator.errors import BusinessError
from reconciler.emulator.models import Customer, Reseller, State

T = TypeVar("T")

NOT_YOUR_RESELLER = "CBC.99000037"


def own_reseller(state: State, indirect_partner_id: str) -> Reseller:
    """The distributor's reseller ``indirect_partner_id``, or 400 ``CBC.99000037``."""
    reseller = state.resellers.get(indirect_partner_id)
    if reseller is None:
        raise BusinessError(
            NOT_YOUR_RESELLER,
            f"You have no permission to operate on reseller {indirect_partner_id}.",
        )
    return reseller


def acting_for(state: State, indirect_partner_id: str | None) -> str | None:
    """Whose data a call is about: ``None`` for the partner itself, else one of the distributor's
    resellers (any other id is 400 ``CBC.99000037``, also for a solution provider)."""
    if indirect_partner_id is None:
        return None
    return own_reseller(state, indirect_partner_id).indirect_partner_id


def page(items: Sequence[T], offset: int, limit: int) -> list[T]:
    return list(items[offset : offset + limit])


def fuzzy(value: str | None, needle: str | None, *, case_sensitive: bool = False) -> bool:
    """Prefix/suffix/infix match; ``needle=None`` matches everything."""
    if needle is None:
        return True
    if value is None:
        return False
    if case_sensitive:
        return needle in value
    return needle.lower() in value.lower()


def in_window(value: str | None, begin: str | None, end: str | None, *, inclusive: bool) -> bool:
    """Timestamp window filter. The API's ``*_begin``/``*_end`` are strict unless documented."""
    if begin is None and end is None:
        return True
    if value is None:
        return False
    if inclusive:
        return (begin is None or value >= begin) and (end is None or value <= end)
    return (begin is None or value > begin) and (end is None or value < end)


@dataclass(frozen=True)
class CustomerFilter:
    account_name: str | None = None
    customer: str | None = None
    label: str | None = None
    association_type: str | None = None
    associated_on_begin: str | None = None
    associated_on_end: str | None = None
    customer_id: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)

    def matches(self, c: Customer) -> bool:
        # associated_on_begin is documented inclusive; the end is taken inclusive too.
        return (
            (self.customer_id is None or c.customer_id == self.customer_id)
            and (self.association_type is None or c.association_type == self.association_type)
            and fuzzy(c.account_name, self.account_name)
            and fuzzy(c.customer, self.customer)
            and fuzzy(c.label, self.label, case_sensitive=True)
            and in_window(
                c.associated_on, self.associated_on_begin, self.associated_on_end, inclusive=True
            )
        )


def list_customers(
    state: State, owner: str | None, flt: CustomerFilter, offset: int, limit: int
) -> tuple[list[Customer], int]:
    """One page of the partner's (``owner=None``) or a reseller's customers, and the total."""
    if flt.customer_id is not None:
        found = state.customers.get(flt.customer_id)
        candidates = [found] if found is not None and found.indirect_partner_id == owner else []
    else:
        candidates = state.customer_order(owner)
    if not flt.is_empty():
        candidates = [c for c in candidates if flt.matches(c)]
    return page(candidates, offset, limit), len(candidates)


@dataclass(frozen=True)
class ResellerFilter:
    account_name: str | None = None
    associated_on_begin: str | None = None
    associated_on_end: str | None = None
    indirect_partner_id: str | None = None

    def matches(self, r: Reseller) -> bool:
        return (
            (self.indirect_partner_id is None or r.indirect_partner_id == self.indirect_partner_id)
            and fuzzy(r.account_name, self.account_name)
            and in_window(
                r.associated_on, self.associated_on_begin, self.associated_on_end, inclusive=True
            )
        )


def list_resellers(
    state: State, flt: ResellerFilter, offset: int, limit: int
) -> tuple[list[Reseller], int]:
    ordered = sorted(
        state.resellers.values(), key=lambda r: (r.associated_on or "", r.indirect_partner_id)
    )
    matched = [r for r in ordered if flt.matches(r)]
    return page(matched, offset, limit), len(matched)
