"""``AccountManagers``: which account manager (at most one) each customer has."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.kinds.account_managers import desired, diff
from reconciler.kinds.account_managers import export as export_module
from reconciler.kinds.spec import ExportModule, Kind, References

if TYPE_CHECKING:
    from reconciler.bss.models import Customer
    from reconciler.errors import ManifestProblem
    from reconciler.kinds.account_managers.desired import ManagerAssignment
    from reconciler.kinds.base import KindResult, LiveState
    from reconciler.manifests.desired import DesiredState
    from reconciler.manifests.document import Document
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper


class AccountManagers(Kind["ManagerAssignment"]):
    """The API can read a customer's manager but not set it: every change is manual, with the
    Partner Center steps (:mod:`.diff`)."""

    id = diff.KIND
    manifest_kind = "AccountManagers"
    title = "Account managers"
    order = 30
    actions = ("manual",)
    marks = MappingProxyType({"manual": "!"})
    owns = frozenset({"ManagerAssignment"})
    published_schema = "account-managers.schema.json"
    canonical_key = "accountManagers"
    manual_reason = (
        "the partner API cannot assign account managers: change it in Partner Center (steps in "
        "the notes), or change the manifest to accept the live value"
    )
    manual_hint = (
        "account managers have no API. Assign them in Partner Center (steps below) or change "
        "the manifest to the live manager."
    )
    export_file = "account-managers.yaml"
    export_subjects = frozenset({"customer"})
    export: ClassVar[ExportModule | None] = export_module
    table_columns = ("Customer", "Account manager")
    table_note = (
        "These have no API: a person makes them in Partner Center (steps in the details "
        "below); they stay in the plan until done."
    )

    # manifests ---------------------------------------------------------------------------

    streamed_list: ClassVar[str | None] = "customers"

    def build(self, doc: Document) -> Sequence[ManagerAssignment]:
        return desired.build(doc)

    def canonical(self, entries: Sequence[ManagerAssignment]) -> Iterator[Mapping[str, Any]]:
        return desired.canonical(entries)

    def crosschecks(self) -> Callable[[Document], Iterable[ManifestProblem]]:
        return desired.checks(self.manifest_kind)

    def references(self, entry: ManagerAssignment) -> References:
        return References(customer=entry.customer)

    #: a change's notes show the customer's contact details, masked
    customer_fields = frozenset({"telephone", "email"})

    def customer_fields_for(
        self, entries: Sequence[ManagerAssignment], customer: Customer
    ) -> frozenset[str]:
        """The contact details only when an entry will change the manager (a change shows them);
        the diff's other decisions rest on the manager, which every plan keeps."""
        if all(entry.manager == customer.account_manager for entry in entries):
            return frozenset()
        return self.customer_fields

    def managers_named(self, desired: DesiredState) -> set[str]:
        return {m.manager for m in self.entries(desired) if m.manager}

    def diff(self, desired: DesiredState, live: LiveState) -> KindResult:
        return diff.diff(desired, live)

    # render --------------------------------------------------------------------------------

    def change_text(self, change: Change, esc: Escaper) -> str:
        before = esc(change.before.get("account_manager") or "(none)")
        after = esc(change.after.get("account_manager") or "(none)")
        return f"account manager {before} -> {after}"

    def side_text(self, values: Mapping[str, Any], esc: Escaper) -> str:
        return esc(values.get("account_manager") or "(none)")

    def table_cells(self, change: Change, esc: Escaper) -> tuple[str, ...]:
        before = esc(change.before.get("account_manager") or "(none)")
        after = esc(change.after.get("account_manager") or "(none)")
        return (f"{before} → {after}",)
