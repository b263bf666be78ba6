"""Export of cash: the net cash each resale customer holds and what each reseller's allocatable
account holds, as floors (``topUpTo``), so that ``plan`` on the result shows no changes.

Read: the balances of the partner's resale customers in scope (100 per call); for each reseller
in scope, its accounts and its resale customers with their balances (as the plan reads them).
A customer whose debt exceeds its cash is left out with a warning: a floor would fund its debt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.bss.cash import allocatable
from reconciler.gitops import yamlout as y
from reconciler.kinds.account_funds.desired import KIND_NAME
from reconciler.kinds.account_funds.reads import RESALE, ResellerBook
from reconciler.plan.model import ZERO, fmt_money
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.bss.cash import AccountBalance, CustomerBalance
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner
    from reconciler.gitops.account import ExportAccount, ExportProgress
    from reconciler.kinds.account_funds.desired import FundsEntry

BALANCES = "list_customers_balances_detail"
ACCOUNTS = "list_partner_balances"


@dataclass
class FundsExport:
    """What export read."""

    balances: dict[str, CustomerBalance] = field(default_factory=dict)
    accounts: dict[str, AccountBalance | None] = field(default_factory=dict)
    books: dict[str, ResellerBook] = field(default_factory=dict)


def of(account: ExportAccount, kind_id: str) -> FundsExport:
    found = account.data.get(kind_id)
    return found if isinstance(found, FundsExport) else FundsExport()


async def read(
    client: BssClient, account: ExportAccount, shown: ExportProgress, kind_id: str
) -> None:
    data = account.data[kind_id] = FundsExport()
    resale = [c.customer_id for c in account.customers if c.association_type == RESALE]
    if resale:
        data.balances = await client.all_customers_balances_detail(resale)
    rids = sorted(r.indirect_partner_id for r in account.resellers)
    # Not counted on the status line: its reseller counter is one list per reseller, the
    # reseller quota export's (these reads would count each reseller twice).

    async def reseller(rid: str) -> tuple[AccountBalance | None, ResellerBook]:
        found = allocatable(await client.list_partner_balances(indirect_partner_id=rid))
        customers = await client.all_sub_customers(indirect_partner_id=rid, association_type=RESALE)
        ids = [c.customer_id for c in customers]
        balances = await client.all_customers_balances_detail(ids, indirect_partner_id=rid)
        return found, ResellerBook(tuple(customers), balances)

    read_all = await pool_map(rids, reseller, workers_for(client.rate_for(ACCOUNTS)))
    for rid, (found, book) in zip(rids, read_all, strict=True):
        data.accounts[rid], data.books[rid] = found, book
        if found is None:
            account.warnings.append(
                f"reseller {rid} has no single allocatable account (account_type 8): left out "
                "of account-funds.yaml"
            )
    for balances in (data.balances, *(b.balances for b in data.books.values())):
        for balance in balances.values():
            if balance.amount < balance.debt_amount:
                account.warnings.append(
                    f"customer {balance.customer_id} owes {fmt_money(balance.debt_amount)} and "
                    f"holds {fmt_money(balance.amount)}: left out of account-funds.yaml (a floor "
                    "would fund its debt)"
                )


def render(
    account: ExportAccount, data: FundsExport, schema_dir: str, keep: Callable[[Any], bool]
) -> tuple[str, str]:
    pairs: y.Pairs = []
    customers = y.sorted_customers(account)
    _customers([(None, c) for c in customers], data.balances, keep, pairs)
    resellers = y.sorted_resellers(account)
    unique = y.unique_names(r.account_name for r in resellers)
    for r in resellers:
        book = data.books.get(r.indirect_partner_id, ResellerBook())
        owned = sorted(book.customers, key=lambda c: (c.account_name or "", c.customer_id))
        _customers([(r, c) for c in owned], book.balances, keep, pairs, unique)
    counted = sum(1 for code, _ in pairs if code.startswith("    - {customer"))
    reseller_pairs = _resellers(resellers, data, keep, unique)
    lines = y.header(
        schema_dir,
        account,
        "The cash each resale customer holds now (net of its debt; customers without cash are",
        "left out) and each reseller's allocatable account, as floors (topUpTo): plan tops up",
        "what falls below them. Add atMost to cap a balance (the excess is reclaimed).",
    )
    lines += [*y.envelope(KIND_NAME, "account-funds"), "spec:"]
    if pairs:
        lines += ["  customers:", *y.lines(pairs)]
    if reseller_pairs:
        lines += ["  resellers:", *y.lines(reseller_pairs)]
    if not pairs and not reseller_pairs:
        lines += ["  customers: []  # no resale customer or reseller to export"]
    summary = f"{counted} customers, {len(reseller_pairs)} resellers"
    return y.text(lines), summary


def _customers(
    owned: Sequence[tuple[IndirectPartner | None, Customer]],
    balances: dict[str, CustomerBalance],
    keep: Callable[[Any], bool],
    pairs: y.Pairs,
    reseller_names: set[str] | None = None,
) -> None:
    unique = y.unique_names(c.account_name for _, c in owned)
    for reseller, c in owned:
        balance = balances.get(c.customer_id)
        if balance is None or not keep((reseller, c)):
            continue
        net = balance.amount - balance.debt_amount
        if net <= ZERO:
            continue  # nothing to keep (no cash), or a debt a floor would fund (warned)
        ref, note = y.customer_ref(c, unique)
        if reseller is not None:
            owner, _ = y.reseller_ref(reseller, reseller_names or set())
            ref = f"{ref}, {owner}"
        text = f"cash {y.number(balance.amount)}, debt {y.number(balance.debt_amount)}"
        pairs.append((f"    - {{{ref}, topUpTo: {y.quoted(fmt_money(net))}}}",
                      f"{note}; {text}" if note else text))  # fmt: skip


def _resellers(
    resellers: Sequence[IndirectPartner],
    data: FundsExport,
    keep: Callable[[Any], bool],
    unique: set[str],
) -> y.Pairs:
    pairs: y.Pairs = []
    for r in resellers:
        found = data.accounts.get(r.indirect_partner_id)
        if found is None or not keep(r):
            continue
        ref, note = y.reseller_ref(r, unique)
        text = f"allocatable {y.number(found.amount)}, {y.number(found.designated)} designated"
        amount: Decimal = found.amount
        pairs.append((f"    - {{{ref}, topUpTo: {y.quoted(fmt_money(amount))}}}",
                      f"{note}; {text}" if note else text))  # fmt: skip
    return pairs


def undeclared(entries: Sequence[FundsEntry]) -> Callable[[Any], bool]:
    """For merging: accepts a ``(reseller or None, customer)`` pair or a reseller that none of
    ``entries`` declares (by ID or account name, as written)."""
    declared: set[tuple[str | None, str]] = set()
    for e in entries:
        owner = _written(e.reseller.reseller_id, e.reseller.account_name) if e.reseller else None
        if e.customer is not None:
            declared.add((owner, _written(e.customer.customer_id, e.customer.account_name)))
        else:
            declared.add(("reseller", owner or ""))

    def keep(obj: Any) -> bool:
        if isinstance(obj, tuple):
            reseller, customer = obj
            owners: list[str | None] = [None]
            if reseller is not None:
                owners = [f"id:{reseller.indirect_partner_id}", f"name:{reseller.account_name}"]
            names = (f"id:{customer.customer_id}", f"name:{customer.account_name}")
            return not any((o, n) in declared for o in owners for n in names)
        names = (f"id:{obj.indirect_partner_id}", f"name:{obj.account_name}")
        return not any(("reseller", n) in declared for n in names)

    return keep


def _written(ident: str | None, name: str | None) -> str:
    return f"id:{ident}" if ident is not None else f"name:{name}"
