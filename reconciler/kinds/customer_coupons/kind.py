"""The CustomerCoupons kind on the registry's interface (:class:`reconciler.kinds.spec.Kind`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.kinds.base import KindResult, quota_balance
from reconciler.kinds.customer_coupons import desired as entries_module
from reconciler.kinds.customer_coupons import export as export_module
from reconciler.kinds.customer_coupons import text
from reconciler.kinds.customer_coupons.change import KIND
from reconciler.kinds.customer_coupons.change import draws as change_draws
from reconciler.kinds.customer_coupons.desired import CustomerCoupons
from reconciler.kinds.customer_coupons.executor import groups as executor_groups
from reconciler.kinds.customer_coupons.guards import GUARDS
from reconciler.kinds.customer_coupons.plan import diff as plan_diff
from reconciler.kinds.customer_coupons.reads import READS, RESELLERS
from reconciler.kinds.customer_coupons.resolve import coupons_live
from reconciler.kinds.customer_coupons.settle import OPERATIONS
from reconciler.kinds.spec import (
    Draw,
    ExportModule,
    Group,
    GuardSpec,
    Kind,
    OperationSpec,
    PoolKey,
    QuotaRef,
    References,
    Subject,
)

if TYPE_CHECKING:
    from reconciler.errors import ManifestProblem, SourcePosition
    from reconciler.kinds.base import LiveState
    from reconciler.kinds.reads import Read
    from reconciler.manifests.desired import DesiredState
    from reconciler.manifests.document import Document
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper


class CustomerCouponsKind(Kind[CustomerCoupons]):
    """The partner coupons each resale customer should hold (see the package docstring)."""

    id: ClassVar[str] = KIND
    manifest_kind: ClassVar[str] = "CustomerCoupons"
    title: ClassVar[str] = "Customer coupons"
    order: ClassVar[int] = 15
    actions: ClassVar[tuple[str, ...]] = ("reclaim", "reclaim-reissue", "issue")
    marks: ClassVar[Mapping[str, str]] = {"reclaim": "-", "reclaim-reissue": "~", "issue": "+"}
    owns: ClassVar[frozenset[str]] = frozenset({"customerCoupons", "DeclaredCoupon"})
    published_schema: ClassVar[str] = "customer-coupons.schema.json"
    pattern_hints: ClassVar[Mapping[str, str]] = {
        entries_module.FACE_VALUE_PATTERN: (
            'is not an amount more than zero with two decimals, e.g. "500.00"'
        ),
        entries_module.TIME_PATTERN: "is not a UTC time written 2026-01-01T00:00:00Z",
    }
    canonical_key: ClassVar[str] = "customerCoupons"
    reads: ClassVar[tuple[Read, ...]] = READS
    #: only resale customers (``association_type`` "2") can hold partner coupons
    customer_fields: ClassVar[frozenset[str]] = frozenset({"association_type"})
    guards: ClassVar[tuple[GuardSpec, ...]] = GUARDS
    operations: ClassVar[tuple[OperationSpec, ...]] = OPERATIONS
    table_columns: ClassVar[tuple[str, ...]] = ("Customer", "Coupons", "Money")
    export_file: ClassVar[str | None] = "customer-coupons.yaml"
    export_subjects: ClassVar[frozenset[Subject]] = frozenset({"customer", "reseller"})
    export: ClassVar[ExportModule | None] = export_module

    # manifests -----------------------------------------------------------------------------

    def build(self, doc: Document) -> Sequence[CustomerCoupons]:
        return entries_module.build(doc)

    def canonical(self, entries: Sequence[CustomerCoupons]) -> Iterator[Mapping[str, Any]]:
        return iter(entries_module.canonical(entries))

    def crosschecks(self) -> Callable[[Document], Iterable[ManifestProblem]]:
        """Impossible dates, coupons without a quota, empty non-exclusive entries and customers
        declared twice; documents their schema rejected are left to the schema's errors."""
        seen: dict[tuple[str, str], SourcePosition] = {}

        def check(doc: Document) -> list[ManifestProblem]:
            try:
                built = entries_module.build(doc)
            except (AssertionError, TypeError, ValueError, InvalidOperation):
                return []
            return entries_module.local_problems(built, seen)

        return check

    def references(self, entry: CustomerCoupons) -> References:
        if entry.reseller is not None:
            # a reseller's customer and quotas are only listed with its indirect_partner_id:
            # this kind's reseller read finds them (see reads.py)
            return References(reseller=entry.reseller)
        quotas: dict[str, QuotaRef] = {}
        for coupon in entry.coupons:
            if coupon.quota_id:
                quotas.setdefault(coupon.quota_id, QuotaRef(coupon.quota_id, coupon.quota_source))
        return References(customer=entry.customer, quotas=tuple(quotas.values()))

    def target_names(self, entry: CustomerCoupons) -> set[str]:
        names = self.references(entry).names()
        names.update(v for v in (entry.customer.customer_id, entry.customer.account_name) if v)
        return names

    # plan ----------------------------------------------------------------------------------

    def diff(self, desired: DesiredState, live: LiveState) -> KindResult:
        entries = self.entries(desired)
        result = KindResult()
        found = coupons_live(entries, live, result)
        planned = plan_diff(entries, found)
        planned.problems[:0] = result.problems
        return planned

    # apply ---------------------------------------------------------------------------------

    def groups(self, changes: Sequence[Change]) -> Sequence[Group]:
        return executor_groups(changes)

    def draws(self, change: Change) -> Sequence[Draw]:
        return change_draws(change)

    def balance(self, pool: PoolKey, live: LiveState) -> Decimal | None:
        """A quota of the partner (read by ID) or of a reseller (its coupon read)."""
        return quota_balance(
            live, pool, lambda: (q for b in live.each(RESELLERS).values() for q in b.quotas)
        )

    # render --------------------------------------------------------------------------------

    def change_text(self, change: Change, esc: Escaper) -> str:
        return text.change_text(change, esc)

    def side_text(self, values: Mapping[str, Any], esc: Escaper) -> str:
        return text.side_text(values, esc)

    def table_cells(self, change: Change, esc: Escaper) -> tuple[str, ...]:
        return (text.change_text(change, esc), text.money_text(change))

    def reclaim_banner(self, changes: Sequence[Change]) -> str | None:
        return text.reclaim_banner(changes)
