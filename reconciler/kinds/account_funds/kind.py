"""Kind ``AccountFunds``: the cash a resale customer or a reseller should be topped up to, or hold
at most, funded from and reclaimed to the partner's allocatable account (REFERENCE §7.17-§7.23).

The semantics (docs/manifests.md, "AccountFunds"): :mod:`.money` (the arithmetic), :mod:`.diff`
(the plan and its supply checks), :mod:`.execute` (apply, in four phases), :mod:`.evidence` and
:mod:`.records` (what the cash ledger proves, and other writers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.kinds.account_funds import desired as funds_desired
from reconciler.kinds.account_funds import diff as funds_diff
from reconciler.kinds.account_funds import execute, records, render
from reconciler.kinds.account_funds import export as export_module
from reconciler.kinds.account_funds.changes import FUND, KIND, OPERATIONS, RECLAIM
from reconciler.kinds.account_funds.desired import FundsEntry
from reconciler.kinds.account_funds.drift import FundsDrift
from reconciler.kinds.account_funds.guards import GUARDS, funded, reclaimed
from reconciler.kinds.account_funds.reads import READS, funds_live
from reconciler.kinds.base import KindResult
from reconciler.kinds.spec import (
    HEAL_APPLY,
    ExportModule,
    Group,
    GuardSpec,
    Kind,
    OperationSpec,
    References,
)

if TYPE_CHECKING:
    from reconciler.errors import ManifestProblem
    from reconciler.kinds.base import LiveState
    from reconciler.kinds.reads import Subject
    from reconciler.kinds.spec import DriftView
    from reconciler.manifests.desired import DesiredState
    from reconciler.manifests.document import Document
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper


def _operation(name: str, money: str) -> OperationSpec:
    return OperationSpec(
        name=name,
        settle=records.settle,
        describe=records.describe,
        where_to_look=records.where_to_look,
        money="out" if money == FUND else "in",
        delta=True,
    )


class AccountFunds(Kind[FundsEntry]):
    id: ClassVar[str] = KIND
    manifest_kind: ClassVar[str] = funds_desired.KIND_NAME
    title: ClassVar[str] = "Account funds"
    order: ClassVar[int] = 12
    actions: ClassVar[tuple[str, ...]] = (RECLAIM, FUND)
    marks: ClassVar[Mapping[str, str]] = {RECLAIM: "-", FUND: "+"}
    owns: ClassVar[frozenset[str]] = frozenset(
        {"accountFunds", "FundsEntry", *(op.name for op in OPERATIONS.values())}
    )
    published_schema: ClassVar[str] = "account-funds.schema.json"
    canonical_key: ClassVar[str] = "accountFunds"
    reads = READS
    guards: ClassVar[tuple[GuardSpec, ...]] = GUARDS
    operations: ClassVar[tuple[OperationSpec, ...]] = tuple(
        _operation(op.name, action) for (_, action), op in OPERATIONS.items()
    )
    table_columns: ClassVar[tuple[str, ...]] = ("Cash", "Moves")
    export_file: ClassVar[str | None] = "account-funds.yaml"
    export_subjects: ClassVar[frozenset[Subject]] = frozenset({"customer", "reseller"})
    export: ClassVar[ExportModule | None] = export_module

    def build(self, doc: Document) -> Sequence[FundsEntry]:
        return funds_desired.entries(doc)

    def canonical(self, entries: Sequence[FundsEntry]) -> Iterator[Mapping[str, Any]]:
        return funds_desired.canonical(entries)

    def crosschecks(self) -> Callable[[Document], Iterable[ManifestProblem]]:
        return funds_desired.Checks()

    def references(self, entry: FundsEntry) -> References:
        # Both set: a customer of that reseller, found among the reseller's customers (reads.py).
        return References(customer=entry.customer, reseller=entry.reseller)

    def diff(self, desired: DesiredState, live: LiveState) -> KindResult:
        items = self.entries(desired)
        problems = KindResult()
        funds = funds_live(items, live, problems)
        result = funds_diff.diff(items, funds)
        result.problems[:0] = problems.problems
        return result

    def groups(self, changes: Sequence[Change]) -> Sequence[Group]:
        if not changes:
            return ()
        ordered = tuple(changes)
        return (Group(ordered, lambda ctx: execute.run(ctx, ordered)),)

    def drift_view(self, desired: DesiredState, live: LiveState) -> DriftView:
        return FundsDrift(self.entries(desired), live)

    def heal(self, change: Change) -> tuple[str, str]:
        return HEAL_APPLY, render.heal_text(change)

    def change_text(self, change: Change, esc: Escaper) -> str:
        return render.change_text(change, esc)

    def side_text(self, values: Mapping[str, Any], esc: Escaper) -> str:
        return render.side_text(values, esc)

    def table_cells(self, change: Change, esc: Escaper) -> tuple[str, ...]:
        amount = funded(change) or reclaimed(change)
        verb = "transfer" if change.action == FUND else "reclaim"
        currency = change.money.currency if change.money else "CNY"
        return (render.change_text(change, esc), f"{verb} {amount:,.2f} {esc(currency)}")
