"""What the manifests want of each customer, carried through the read, in little memory.

A 100,000-customer plan must fit in about a kilobyte a customer, manifests and live state
together (docs/scale.md), so the reader keeps of each customer only what the diff needs:

* its **resources**, pruned by its AutoRenew rule as they are read
  (:func:`reconciler.kinds.auto_renew.prune`): the 99% already as the rule wants are counted,
  not kept;
* a **slim customer record** without contact details (name, label, telephone, e-mail) unless an
  AccountManagers entry will change its manager (the plan shows the masked contact then);
* strings the manifests already hold (the customer ID) and the few managers' names, once each.

Each reference to a customer (an ID or an account name) is one :class:`Want` holding the rules
and entries that use it. A want is the reference the reader resolves, then travels with the
customer's resource listing and is let go of: when the read ends no index per customer is left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from reconciler.bss.models import Customer
    from reconciler.errors import SourcePosition
    from reconciler.manifests.desired import AutoRenewRule, DesiredState, ManagerAssignment

T = TypeVar("T")


class Want:
    """One customer reference of the manifests: its AutoRenew rules and AccountManagers entries
    (several of a kind only when the manifests declare the customer twice, a problem the diff
    reports)."""

    __slots__ = ("assignments", "ident", "name", "rules", "where")

    def __init__(self, ident: str | None, name: str | None, where: SourcePosition) -> None:
        self.ident = ident
        self.name = name
        self.where = where  # the first place the manifests name the customer this way
        self.rules: AutoRenewRule | list[AutoRenewRule] | None = None
        self.assignments: ManagerAssignment | list[ManagerAssignment] | None = None

    def add_rule(self, rule: AutoRenewRule) -> None:
        self.rules = _add(self.rules, rule)

    def add_assignment(self, assignment: ManagerAssignment) -> None:
        self.assignments = _add(self.assignments, assignment)

    def all_rules(self) -> Iterator[AutoRenewRule]:
        yield from _each(self.rules)

    def all_assignments(self) -> Iterator[ManagerAssignment]:
        yield from _each(self.assignments)


def _add(held: T | list[T] | None, item: T) -> T | list[T]:
    if held is None:
        return item
    return [*held, item] if isinstance(held, list) else [held, item]


def _each(held: T | list[T] | None) -> Iterator[T]:
    if isinstance(held, list):
        yield from held
    elif held is not None:
        yield held


def customer_wants(desired: DesiredState) -> list[Want]:
    """One :class:`Want` per customer reference of the manifests, in manifest order."""
    wants: dict[str, Want] = {}
    for assignment in desired.managers:
        _want(wants, assignment).add_assignment(assignment)
    for rule in desired.auto_renew:
        _want(wants, rule).add_rule(rule)
    return list(wants.values())


def _want(wants: dict[str, Want], ref: ManagerAssignment | AutoRenewRule) -> Want:
    key = ref.ident if ref.ident is not None else "\0" + (ref.name or "")
    found = wants.get(key)
    if found is None:
        found = wants[key] = Want(ref.ident, ref.name, ref.where)
    return found


class Records:
    """Makes the customer records the reader keeps (see the module docstring)."""

    def __init__(self) -> None:
        self._shared: dict[str, str] = {}

    def record(
        self, customer_id: str, customer: Customer, wants: list[Want], kept: Customer | None
    ) -> Customer:
        """The record to keep of ``customer`` found by ``wants``; ``kept``: the record kept
        for it already (another reference found it before)."""
        manager = customer.account_manager
        if manager is not None:
            manager = self._shared.setdefault(manager, manager)
        # An entry that changes the manager: the plan shows the customer's masked contact.
        changing = any(a.manager != manager for want in wants for a in want.all_assignments())
        if kept is not None and not changing:
            return kept
        if changing:
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
