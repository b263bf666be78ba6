"""What the reader keeps of each object it reads, so a 100,000-customer plan holds less than a
kilobyte a customer at its peak, manifests and live state together (docs/scale.md):

* of a **customer record**, the fields some kind naming that customer uses
  (:attr:`~reconciler.kinds.spec.Kind.customer_fields`, refined per entry by
  :meth:`~reconciler.kinds.spec.Kind.customer_fields_for`) besides those every plan shows
  (:data:`ALWAYS`); its ID and account-name strings are the manifest's when a manifest names
  it so, and its account manager one shared string per manager;
* of a **listing**, what the kind's ``prune`` says its diff needs, given the entries the object
  is read for (:class:`~reconciler.kinds.reads.EachListing`); the rest are counted.

Which entries name an object is read from every key that can name it: its ID, its account name
(whether or not that name resolved to it: more entries only keep more) and the references
resolved to it so far, so a kind is never told fewer entries than its diff will see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.bss.models import Customer

if TYPE_CHECKING:
    from collections.abc import Iterable

    from reconciler.kinds.base import LiveState
    from reconciler.kinds.reads import Subject
    from reconciler.plan.declared import Key, Wanted

#: Customer fields every plan keeps: its label (account name and ID) and the manager check.
ALWAYS = frozenset({"customer_id", "account_name", "account_manager"})
#: The others, dropped unless a kind naming the customer uses them.
OPTIONAL = tuple(f for f in Customer.FIELDS if f not in ALWAYS)


def object_keys(oid: str, name: str | None, resolved: Iterable[Key] = ()) -> list[Key]:
    """Every reference key that may name the object ``oid`` called ``name``."""
    keys: list[Key] = [(oid, None)]
    if name:
        keys.append((None, name))
    keys += [key for key in resolved if key not in keys]
    return keys


def entries_naming(
    live: LiveState, want: Wanted, subject: Subject, oid: str, others: list[Key], *, resolved: bool
) -> tuple[Any, ...]:
    """``want``'s entries naming the object ``oid`` (read): by the references resolved to it
    so far (``resolved``: what the agency check asks), or by any that may name it (what a
    listing is pruned and a record slimmed by). ``others``: the references other than its bare
    ID resolved to it."""
    seen: dict[str, Any] = live.customers if subject == "customer" else live.resellers
    keys = object_keys(oid, seen[oid].account_name, others)
    if resolved:
        found = live.customer_refs if subject == "customer" else live.reseller_refs
        keys = [(oid, None), *(k for k in keys[1:] if found.get(k) == oid)]
    return want.naming(subject, keys)


class Records:
    """Slim customer records (see the module docstring)."""

    def __init__(self) -> None:
        self._shared: dict[str, str] = {}

    def share(self, text: str | None) -> str | None:
        """One string object for equal strings that many records hold (managers)."""
        return None if text is None else self._shared.setdefault(text, text)

    def customer(
        self,
        customer: Customer,
        wants: Iterable[Wanted],
        keys: list[Key],
        kept: Customer | None,
        ident: str | None,
        name: str | None,
    ) -> Customer:
        """What to keep of ``customer`` (read again: ``kept`` is what was kept the first time,
        completed with the fields the keys now name need). ``ident`` and ``name``: the
        manifest's strings of its ID and account name, when a manifest names it so (kept
        instead of the answer's equal strings: one string each per customer, not two)."""
        needed: set[str] = set()
        for want in wants:
            entries = want.naming("customer", keys)
            if entries:
                needed |= want.kind.customer_fields_for(entries, customer)
        if kept is not None:
            more = {f: getattr(customer, f) for f in needed if getattr(kept, f) is None}
            return kept.replace(**more) if any(v is not None for v in more.values()) else kept
        drop: dict[str, Any] = {f: None for f in OPTIONAL if f not in needed}
        cid = ident if ident == customer.customer_id else customer.customer_id
        written = name if name == customer.account_name else customer.account_name
        return customer.replace(
            customer_id=cid,
            account_name=written,
            account_manager=self.share(customer.account_manager),
            **drop,
        )
