"""What every kind shares: the live state it diffs against, the result it returns, and how its
drift is shown (the defaults a kind may refine)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.plan.model import ZERO, Change, Notice

if TYPE_CHECKING:
    from reconciler.bss.models import (
        CouponQuota,
        Customer,
        IndirectPartner,
    )
    from reconciler.kinds.reads import Batched, EachCall, EachListing, Once
    from reconciler.manifests.desired import CustomerRef, ResellerRef

T = TypeVar("T")


@dataclass
class LiveState:
    """What the reader found, indexed for O(1) lookups. Only what the manifests mention."""

    customers: dict[str, Customer] = field(default_factory=dict)
    resellers: dict[str, IndirectPartner] = field(default_factory=dict)
    distributor_quotas: dict[str, CouponQuota] = field(default_factory=dict)
    #: customer id -> None when the agency is granted, else the reason it cannot be used
    agency: dict[str, str | None] = field(default_factory=dict)
    #: False when the plan was made without asking IAM (``--skip-agency-check``)
    agency_verified: bool = True
    #: account managers seen on any customer or reseller read
    managers_seen: set[str] = field(default_factory=set)
    #: the partner's coupon quota IDs, listed only when a manifest names one not found
    known_quota_ids: set[str] = field(default_factory=set)
    #: reference text -> resolved id, filled by the reader; a reference by ID alone has no
    #: entry (100,000 of them): it names the customer with that ID when it was read
    customer_refs: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    reseller_refs: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    #: what the kinds' declared reads found (:mod:`reconciler.kinds.reads`), by read name
    reads: dict[str, Any] = field(default_factory=dict)
    #: read name -> items its ``prune`` left out as already in sync (``in_sync``)
    pruned: dict[str, int] = field(default_factory=dict)

    def customer(self, ref: CustomerRef) -> Customer | None:
        cid = self.customer_id(ref.customer_id, ref.account_name)
        return self.customers.get(cid) if cid else None

    def named_otherwise(self) -> set[str]:
        """The customers a reference names other than by its bare ID (by account name): only
        they can be named by two entries of one kind, as the manifest load refuses one key
        twice in a kind; a diff's declared-twice table need hold no other."""
        return set(self.customer_refs.values())

    def customer_id(self, ident: str | None, name: str | None) -> str | None:
        """The ID of the customer a reference (as written) resolved to, if it did."""
        cid = self.customer_refs.get((ident, name))
        if cid is None and name is None and ident is not None and ident in self.customers:
            cid = ident
        return cid

    def reseller(self, ref: ResellerRef) -> IndirectPartner | None:
        rid = self.reseller_refs.get((ref.reseller_id, ref.account_name))
        return self.resellers.get(rid) if rid else None

    def lists(self, read: EachListing[T]) -> dict[str, list[T]]:
        """Object id -> the items of its listing (absent: not read)."""
        found: dict[str, list[T]] = self.reads.setdefault(read.name, {})
        return found

    def each(self, read: EachCall[T] | Batched[T]) -> dict[str, T]:
        """Object id -> what the read found of it (absent: not read, or unknown to the API)."""
        found: dict[str, T] = self.reads.setdefault(read.name, {})
        return found

    def in_sync(self, read: EachListing[T]) -> int:
        """How many items of ``read`` its ``prune`` left out of :meth:`lists` because they are
        already as their entries want."""
        return self.pruned.get(read.name, 0)

    def once(self, read: Once[T]) -> T | None:
        """What a read made once found (``None``: not read)."""
        found: T | None = self.reads.get(read.name)
        return found


# -- shared pools ----------------------------------------------------------------------------

#: The pool of a coupon quota (:class:`reconciler.kinds.spec.Draw`): reseller quota is issued
#: from it and customer coupons are cut from it, the partner's own or a reseller's alike.
COUPON_QUOTA = "coupon-quota"


def quota_balance(
    live: LiveState, pool: tuple[str, str], held: Callable[[], Iterable[Any]]
) -> Decimal | None:
    """The balance of the coupon quota ``pool`` names, as read (``None``: not a coupon quota,
    or not read): the partner's own (read by ID), else the first of ``held()`` (the resellers'
    quotas the kind read, looked at only then) with that ID."""
    if pool[0] != COUPON_QUOTA:
        return None
    quota = live.distributor_quotas.get(pool[1])
    if quota is not None:
        return quota.balance
    return next((q.balance for q in held() if q.quota_id == pool[1]), None)


# -- drift -----------------------------------------------------------------------------------

#: How a drifted object is healed: by ``apply``, by a person, or not at all (drift format 1.0).
HEAL_APPLY, HEAL_MANUAL, HEAL_NONE = "apply", "manual", "none"


class DriftView:
    """Both sides of each drifted object of one kind, for the drift report. This default shows
    a change's ``before`` as the live side and nothing for a state apply cannot reach."""

    def change_live(self, change: Change) -> Mapping[str, Any]:
        return dict(change.before)

    def notice_sides(self, notice: Notice) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """(desired, live) of a declared state apply cannot reach."""
        return {}, {}


def money_heal_text(change: Change) -> str:
    """``apply reclaims X then issues Y; Z already spent cannot come back``."""
    m = change.money
    if m is None:
        return f"apply makes the change ({change.action})"
    parts = []
    if m.reclaim > ZERO:
        parts.append(f"reclaims {m.reclaim:,.2f} {m.currency}")
    if m.issue > ZERO:
        parts.append(f"issues {m.issue:,.2f} {m.currency}")
    text = "apply " + " then ".join(parts)
    if m.unrecoverable > ZERO:
        text += f"; {m.unrecoverable:,.2f} {m.currency} already spent cannot come back"
    return text


@dataclass
class KindResult:
    """One kind's share of a plan."""

    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)
    in_scope: int = 0

    def problem(self, source: SourcePosition, path: str, message: str) -> None:
        self.problems.append(ManifestProblem(source, path, message))

    def first_declaration(
        self, seen: dict[str, SourcePosition], key: str, source: SourcePosition, what: str
    ) -> bool:
        """False (and a problem) when ``key`` was already declared, e.g. by name and by id."""
        earlier = seen.setdefault(key, source)
        if earlier == source:  # positions are values (packed integers), not objects
            return True
        return self._declared_twice(source, earlier, what)

    def _declared_twice(self, source: SourcePosition, earlier: SourcePosition, what: str) -> bool:
        self.problem(source, "", f"{what} is declared twice; also declared at {earlier}")
        return False

    def first_entry(
        self, seen: dict[str, Any], key: str, entry: Any, what: Callable[[], str]
    ) -> bool:
        """:meth:`first_declaration` for one entry per key, where ``seen`` holds the entries
        themselves (a position is made on each access: 100,000 of them would be 3 MB more)
        and ``what`` is worded only for a problem."""
        earlier = seen.setdefault(key, entry)
        if earlier is entry:
            return True
        return self._declared_twice(entry.source, earlier.source, what())


def customer_label(customer: Customer) -> str:
    name = customer.account_name or customer.customer_id
    return f"{name} ({customer.customer_id})"


def reseller_label(reseller: IndirectPartner) -> str:
    name = reseller.account_name or reseller.indirect_partner_id
    return f"{name} ({reseller.indirect_partner_id})"


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` -> ``138****5678``: enough for a reviewer to recognise, no more."""
    if not value:
        return value
    digits = value.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 10 else 1
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def mask_email(value: str | None) -> str | None:
    """``zhang.wei@example.com`` -> ``z***@example.com``."""
    if not value:
        return value
    local, sep, domain = value.partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"
