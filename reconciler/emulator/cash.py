"""Cash: transfers to and from resale customers (§7.17, §7.18) and resellers (§7.21, §7.22),
customers' balances (§7.19), the transfer ledger (§7.20) and the partner's accounts (§7.23).

Every transfer goes through the *allocatable* account (``account_type`` 8) of the partner, or of a
reseller when a distributor acts for it (``indirect_partner_id``). What may leave that account is
``amount - designated_amount``; the ring-fenced part never moves.

Money invariant: the allocatable amounts of the partner and its resellers plus the balances of all
resale customers only change through seeding and spending (control plane); each transfer moves an
amount from one to another and writes one ledger record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from reconciler.emulator import ids, timefmt
from reconciler.emulator.backend import in_window, own_reseller, page
from reconciler.emulator.errors import BusinessError, InvalidParameter
from reconciler.emulator.models import Account, AdjustRecord, Customer, Reseller, State

ALLOCATABLE = 8
ACCOUNT_TYPES = (1, 2, 5, 7, 8)
ADJUST = "SOURCE_OPERATION_BEADJUST"
RETRIEVE = "SOURCE_OPERATION_BERETRIEVE"
UNBIND = "SOURCE_OPERATION_BEUNBIND"
OPERATION_TYPES = (ADJUST, RETRIEVE, UNBIND)
INSUFFICIENT = "CBC.99005003"
ZERO = Decimal("0.00")


def allocatable(state: State, owner: str | None) -> Account:
    """The owner's allocatable account; one with 0.00 is opened if the state has none."""
    for account in state.accounts.values():
        if account.owner == owner and account.account_type == ALLOCATABLE:
            return account
    key = f"allocatable:{owner or state.partner.domain_id}"
    account = Account(hashlib.sha256(key.encode()).hexdigest()[:32], ALLOCATABLE, ZERO, owner=owner)
    state.accounts[account.account_id] = account
    return account


def available(account: Account) -> Decimal:
    """What may leave the account: its amount less the designated (ring-fenced) part."""
    return account.amount - (account.designated_amount or ZERO)


def _take(account: Account, amount: Decimal, whose: str) -> None:
    if amount > available(account):
        raise BusinessError(
            INSUFFICIENT,
            f"Insufficient balance: {whose} can transfer at most {available(account)} "
            f"(amount {account.amount} less designated {account.designated_amount or ZERO}).",
        )
    account.amount -= amount


def resale_customer(state: State, customer_id: str, owner: str | None) -> Customer:
    """The owner's resale customer ``customer_id``, else 400 ``CBC.0100`` naming it."""
    customer = state.customers.get(customer_id)
    whose = f"reseller {owner}" if owner else "this partner"
    if customer is None or customer.indirect_partner_id != owner:
        # Not documented for the cash APIs; the emulator refuses with CBC.0100 [INFERRED].
        raise InvalidParameter(f"customer_id {customer_id} is not a customer of {whose}")
    if customer.association_type != "2":
        raise InvalidParameter(
            f"customer_id {customer_id} is not a resale customer (association_type 2) of {whose}"
        )
    return customer


@dataclass(frozen=True)
class Transfer:
    """Who moves what, and when (``owner``: the reseller a distributor acts for)."""

    amount: Decimal
    now: float
    owner: str | None = None


def fund_customer(state: State, customer: Customer, t: Transfer) -> str:
    """§7.17: from the owner's allocatable account to the customer; the ledger id."""
    _take(allocatable(state, t.owner), t.amount, _whose(t.owner))
    customer.amount += t.amount
    return _ledger(state, customer.customer_id, _customer_name(customer), ADJUST, t)


def reclaim_customer(state: State, customer: Customer, t: Transfer) -> str:
    """§7.18: from the customer back to the owner's allocatable account."""
    if t.amount > customer.amount:
        # Not documented for this API; CBC.99005003 is the cash family's code [INFERRED].
        raise BusinessError(
            INSUFFICIENT,
            f"Insufficient balance: customer {customer.customer_id} holds {customer.amount}.",
        )
    customer.amount -= t.amount
    allocatable(state, t.owner).amount += t.amount
    return _ledger(state, customer.customer_id, _customer_name(customer), RETRIEVE, t)


def fund_reseller(state: State, reseller_id: str, t: Transfer) -> str:
    """§7.21: from the distributor's allocatable account to the reseller's."""
    reseller = own_reseller(state, reseller_id)
    _take(allocatable(state, None), t.amount, "the partner")
    allocatable(state, reseller_id).amount += t.amount
    return _ledger(state, reseller_id, _reseller_name(reseller), ADJUST, t)


def reclaim_reseller(state: State, reseller_id: str, t: Transfer) -> str:
    """§7.22: from the reseller's allocatable account back to the distributor's."""
    reseller = own_reseller(state, reseller_id)
    _take(allocatable(state, reseller_id), t.amount, f"reseller {reseller_id}")
    allocatable(state, None).amount += t.amount
    return _ledger(state, reseller_id, _reseller_name(reseller), RETRIEVE, t)


def _whose(owner: str | None) -> str:
    return f"reseller {owner}" if owner else "the partner"


def _customer_name(customer: Customer) -> str:
    return customer.customer or customer.account_name


def _reseller_name(reseller: Reseller) -> str:
    return reseller.name or reseller.account_name


def _ledger(state: State, customer_id: str, name: str, operation: str, t: Transfer) -> str:
    trans_id = ids.trans_id(state, t.now)
    state.adjust_records.append(
        AdjustRecord(
            trans_id=trans_id,
            customer_id=customer_id,
            customer_name=name,
            operation_type=operation,
            amount=t.amount,
            operation_time=timefmt.fmt(t.now),
            owner=t.owner,
        )
    )
    return trans_id


def customer_balances(state: State, customer_ids: list[str], owner: str | None) -> list[Customer]:
    """The owner's resale customers among ``customer_ids``, in the order asked, each once; every
    other id is dropped silently (§7.19)."""
    found: dict[str, Customer] = {}
    for customer_id in customer_ids:
        customer = state.customers.get(customer_id)
        if (
            customer is not None
            and customer.indirect_partner_id == owner
            and customer.association_type == "2"
        ):
            found.setdefault(customer_id, customer)
    return list(found.values())


def balances(state: State, owner: str | None) -> list[Account]:
    """The owner's accounts by type (the allocatable one always among them)."""
    allocatable(state, owner)
    mine = [a for a in state.accounts.values() if a.owner == owner]
    return sorted(mine, key=lambda a: (a.account_type, a.account_id))


@dataclass(frozen=True)
class AdjustFilter:
    customer_id: str | None = None
    operation_type: str | None = None
    trans_id: str | None = None
    begin: str | None = None
    end: str | None = None

    def matches(self, r: AdjustRecord) -> bool:
        return (
            (self.customer_id is None or r.customer_id == self.customer_id)
            and (self.operation_type is None or r.operation_type == self.operation_type)
            and (self.trans_id is None or r.trans_id == self.trans_id)
            and in_window(r.operation_time, self.begin, self.end, inclusive=False)
        )


def list_adjust_records(
    state: State, owner: str | None, flt: AdjustFilter, offset: int, limit: int
) -> tuple[list[AdjustRecord], int]:
    """The owner's ledger in time order."""
    matched = [r for r in state.adjust_records if r.owner == owner and flt.matches(r)]
    return page(matched, offset, limit), len(matched)
