"""The reads kind ``AccountFunds`` declares, and the live state the diff gets from them.

The shared reader resolves the customers and resellers the entries reference (a reseller's
customer references its reseller; the customer itself is found among that reseller's customers,
below) and makes these reads, each at its API's rate:

* the partner's accounts, once (``list_partner_balances``);
* the balances of the partner's own declared customers, 100 per call
  (``list_customers_balances_detail``);
* per referenced reseller: its accounts (``list_partner_balances`` with ``indirect_partner_id``)
  and its resale customers with their balances (``list_sub_customers`` with
  ``indirect_partner_id`` and ``association_type`` "2", then their balances 100 per call), from
  which the reseller's declared customers are resolved by ID or account name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.errors import did_you_mean
from reconciler.kinds.account_funds.live import FundsLive
from reconciler.kinds.reads import Batched, EachCall, Once

if TYPE_CHECKING:
    from reconciler.bss.cash import AccountBalance, CustomerBalance
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer
    from reconciler.kinds.account_funds.desired import FundsEntry
    from reconciler.kinds.base import KindResult, LiveState

RESALE = "2"
BALANCE_BATCH = 100


@dataclass(frozen=True)
class ResellerBook:
    """A reseller's resale customers and their balances (absent: not a resale customer)."""

    customers: tuple[Customer, ...] = ()
    balances: dict[str, CustomerBalance] = field(default_factory=dict)


async def _partner_accounts(client: BssClient) -> tuple[AccountBalance, ...]:
    return await client.list_partner_balances()


async def _customer_balances(client: BssClient, ids: Sequence[str]) -> list[CustomerBalance]:
    return list(await client.list_customers_balances_detail(ids))


async def _reseller_accounts(client: BssClient, rid: str) -> tuple[AccountBalance, ...]:
    return await client.list_partner_balances(indirect_partner_id=rid)


async def _reseller_book(client: BssClient, rid: str) -> ResellerBook:
    customers = await client.all_sub_customers(indirect_partner_id=rid, association_type=RESALE)
    ids = [c.customer_id for c in customers]
    balances = await client.all_customers_balances_detail(ids, indirect_partner_id=rid)
    return ResellerBook(tuple(customers), balances)


PARTNER_ACCOUNTS: Once[tuple[AccountBalance, ...]] = Once(
    "account-funds/partner-accounts", "list_partner_balances", _partner_accounts,
    "partner accounts",
)  # fmt: skip
CUSTOMER_BALANCES: Batched[CustomerBalance] = Batched(
    "account-funds/customer-balances", "list_customers_balances_detail", "customer",
    BALANCE_BATCH, _customer_balances, lambda b: b.customer_id, "customer balances",
)  # fmt: skip
RESELLER_ACCOUNTS: EachCall[tuple[AccountBalance, ...]] = EachCall(
    "account-funds/reseller-accounts", "list_partner_balances", "reseller", _reseller_accounts,
    "reseller accounts",
)  # fmt: skip
RESELLER_CUSTOMERS: EachCall[ResellerBook] = EachCall(
    "account-funds/reseller-customers", "list_sub_customers", "reseller", _reseller_book,
    "reseller customer lists",
)  # fmt: skip
READS = (PARTNER_ACCOUNTS, CUSTOMER_BALANCES, RESELLER_ACCOUNTS, RESELLER_CUSTOMERS)


def funds_live(items: Sequence[FundsEntry], live: LiveState, result: KindResult) -> FundsLive:
    """What the diff needs, from the shared live state; a reseller's declared customer that is
    not among its resale customers is a problem here (with a "did you mean")."""
    funds = FundsLive(customers=dict(live.customers), resellers=dict(live.resellers))
    funds.reseller_refs = dict(live.reseller_refs)
    partner = live.once(PARTNER_ACCOUNTS)
    if partner is not None:
        funds.accounts[None] = partner
    funds.accounts.update(live.each(RESELLER_ACCOUNTS))
    for cid, balance in live.each(CUSTOMER_BALANCES).items():
        funds.balances[(None, cid)] = balance
    for entry in items:  # the customers the shared reader resolved (named without a reseller)
        ref = entry.customer
        found = None if ref is None else live.customer_id(ref.customer_id, ref.account_name)
        if ref is not None and found is not None and entry.reseller is None:
            funds.customer_refs[(None, ref.customer_id, ref.account_name)] = found
    books = live.each(RESELLER_CUSTOMERS)
    for entry in items:
        reseller = funds.reseller(entry.reseller)
        if entry.customer is None or reseller is None:
            continue
        rid = reseller.indirect_partner_id
        book = books.get(rid)
        if book is not None:
            _resolve(entry, rid, book, funds, result)
    return funds


def _resolve(
    entry: FundsEntry, rid: str, book: ResellerBook, funds: FundsLive, result: KindResult
) -> None:
    ref = entry.customer
    assert ref is not None
    for customer in book.customers:
        if ref.customer_id in (None, customer.customer_id) and ref.account_name in (
            None,
            customer.account_name,
        ):
            funds.customers[customer.customer_id] = customer
            funds.customer_refs[(rid, ref.customer_id, ref.account_name)] = customer.customer_id
            if customer.customer_id in book.balances:
                funds.balances[(rid, customer.customer_id)] = book.balances[customer.customer_id]
            return
    names = [c.account_name for c in book.customers if c.account_name]
    ids = [c.customer_id for c in book.customers]
    word = ref.customer_id or ref.account_name or ""
    hint = did_you_mean(word, ids if ref.customer_id else names)
    reseller = funds.resellers[rid]
    result.problem(
        ref.source,
        "",
        f"{ref.text} is not a resale customer of reseller "
        f"{reseller.account_name or rid} ({rid}){hint}",
    )
