"""What the manifests want of each customer, indexed for the reader, in little memory.

A 100,000-customer plan must fit in about a kilobyte a customer, manifests and live state
together (docs/scale.md), so the reader keeps of each customer only what the diff needs:

* its **resources**, pruned by its AutoRenew rule as they are read
  (:func:`reconciler.kinds.auto_renew.prune`): the 99% already as the rule wants are counted,
  not kept;
* a **slim customer record** without contact details (name, label, telephone, e-mail) unless an
  AccountManagers entry will change its manager (the plan shows the masked contact then);
* strings the manifests already hold (the customer ID) and the few managers' names, once each.

References are keyed by one string (:func:`~reconciler.plan.references.key_of`: the ID itself,
or NUL + the account name), so the indexes add no object per customer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from reconciler.plan.references import key_of

if TYPE_CHECKING:
    from reconciler.bss.models import Customer
    from reconciler.manifests.desired import AutoRenewRule, DesiredState, ManagerAssignment


class Wanted:
    """AutoRenew rules and AccountManagers entries by reference key, and the keys resolved to
    each customer."""

    def __init__(self, desired: DesiredState) -> None:
        #: key -> its rule (None: several rules name this reference, see ``_more``)
        self.rules: dict[str, AutoRenewRule | None] = {}
        self._more: dict[str, list[AutoRenewRule]] = {}
        #: key -> its entry (None: several entries name this reference)
        self.assignments: dict[str, ManagerAssignment | None] = {}
        for rule in desired.auto_renew:
            key = key_of(rule)
            if key in self.rules:
                self._more.setdefault(key, [r for r in (self.rules[key],) if r]).append(rule)
                self.rules[key] = None
            else:
                self.rules[key] = rule
        for assignment in desired.managers:
            key = key_of(assignment)
            self.assignments[key] = None if key in self.assignments else assignment
        self._names: dict[str, list[str]] = {}  # customer id -> name keys resolved to it
        self._shared: dict[str, str] = {}

    def resolved(self, key: str, customer_id: str) -> None:
        """Reference ``key`` names customer ``customer_id``."""
        if key != customer_id:
            self._names.setdefault(customer_id, []).append(key)

    def keys(self, customer_id: str) -> list[str]:
        """The references resolved to a customer (so far)."""
        own = [customer_id] if customer_id in self.rules or customer_id in self.assignments else []
        return own + self._names.get(customer_id, [])

    def rules_for(self, customer_id: str) -> list[AutoRenewRule]:
        """Every AutoRenew rule naming the customer, by any reference."""
        found: list[AutoRenewRule] = []
        for key in self.keys(customer_id):
            rule = self.rules.get(key)
            found += [rule] if rule is not None else self._more.get(key, [])
        return found

    def rule(self, customer_id: str) -> AutoRenewRule | None:
        """The customer's one AutoRenew rule; None when there is none or several (a problem the
        diff reports, so the reader prunes nothing then)."""
        rules = self.rules_for(customer_id)
        return rules[0] if len(rules) == 1 else None

    def record(self, customer_id: str, customer: Customer) -> Customer:
        """What to keep of a customer read from a listing (see the module docstring)."""
        manager = customer.account_manager
        if manager is not None:
            manager = self._shared.setdefault(manager, manager)
        if self._contact_needed(customer_id, manager):
            return replace(customer, customer_id=customer_id, account_manager=manager)
        return replace(
            customer,
            customer_id=customer_id,
            account_manager=manager,
            name=None,
            label=None,
            telephone=None,
            email=None,
        )

    def _contact_needed(self, customer_id: str, manager: str | None) -> bool:
        for key in self.keys(customer_id):
            if key not in self.assignments:
                continue
            assignment = self.assignments[key]
            if assignment is None or assignment.manager != manager:
                return True
        return False
