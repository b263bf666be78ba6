"""What the plan of kind ``AccountFunds`` reads, indexed for the diff.

Only what the manifests mention: the partner's accounts (``list_partner_balances``), the
accounts of each reseller that is declared or owns a declared customer (the same call with
``indirect_partner_id``), and the balances of the declared customers
(``list_customers_balances_detail``, per owner: the partner, or the reseller whose customers they
are). A customer missing from that answer is not a resale customer of its owner (§7.19 drops
those silently): the diff reports it, it never counts as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.bss.cash import AccountBalance, CustomerBalance
    from reconciler.bss.models import Customer, IndirectPartner
    from reconciler.manifests.desired import CustomerRef, ResellerRef

#: ``(owner reseller id or None for the partner, customer id, account name)`` as written
CustomerKey = tuple[str | None, str | None, str | None]


@dataclass
class FundsLive:
    """The live cash the diff compares with. ``owner`` None is the partner itself."""

    #: every account ``list_partner_balances`` listed, per owner (None: the partner)
    accounts: dict[str | None, tuple[AccountBalance, ...]] = field(default_factory=dict)
    #: (owner, customer id) -> balance; absent: not a resale customer of that owner
    balances: dict[tuple[str | None, str], CustomerBalance] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    resellers: dict[str, IndirectPartner] = field(default_factory=dict)
    #: reference as written -> resolved id
    customer_refs: dict[CustomerKey, str] = field(default_factory=dict)
    reseller_refs: dict[tuple[str | None, str | None], str] = field(default_factory=dict)

    def reseller(self, ref: ResellerRef | None) -> IndirectPartner | None:
        if ref is None:
            return None
        rid = self.reseller_refs.get((ref.reseller_id, ref.account_name))
        return self.resellers.get(rid) if rid else None

    def customer(self, ref: CustomerRef, owner: str | None) -> Customer | None:
        cid = self.customer_refs.get((owner, ref.customer_id, ref.account_name))
        return self.customers.get(cid) if cid else None
