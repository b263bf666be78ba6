"""``AutoRenew``: whether customers' yearly/monthly main resources renew automatically."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.kinds.auto_renew import desired, diff, executor
from reconciler.kinds.auto_renew import export as export_module
from reconciler.kinds.auto_renew.drift import RenewDrift
from reconciler.kinds.auto_renew.reads import READS, resources_of
from reconciler.kinds.auto_renew.settle import OPERATIONS
from reconciler.kinds.spec import HEAL_APPLY, ExportModule, Group, Kind, References

if TYPE_CHECKING:
    from reconciler.errors import ManifestProblem
    from reconciler.kinds.auto_renew.desired import AutoRenewRule
    from reconciler.kinds.base import KindResult, LiveState
    from reconciler.kinds.spec import DriftView
    from reconciler.manifests.desired import DesiredState
    from reconciler.manifests.document import Document
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper


class AutoRenew(Kind["AutoRenewRule"]):
    """Switched with the customer's temporary credentials (the agency it granted); expired and
    frozen resources cannot be switched (:mod:`.diff`)."""

    id = diff.KIND
    manifest_kind = "AutoRenew"
    title = "Auto-renew"
    order = 20
    actions = ("disable", "enable")
    marks = MappingProxyType({"enable": "+", "disable": "-"})
    owns = frozenset({diff.RENEW_ON, diff.RENEW_OFF, "autoRenew", "AutoRenewRule"})
    published_schema = "auto-renew.schema.json"
    pattern_hints: ClassVar[Mapping[str, str]] = {
        r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$": (
            "is not a service type code (e.g. hws.service.type.ebs)"
        ),
    }
    canonical_key = "autoRenew"
    uses_agency = True
    reads = READS
    operations = OPERATIONS
    export_file = "auto-renew.yaml"
    export_subjects = frozenset({"customer"})
    export: ClassVar[ExportModule | None] = export_module
    table_columns = ("Resource", "Auto-renew")

    # manifests ---------------------------------------------------------------------------

    streamed_list: ClassVar[str | None] = "customers"

    def build(self, doc: Document) -> Sequence[AutoRenewRule]:
        return desired.build(doc)

    def canonical(self, entries: Sequence[AutoRenewRule]) -> Iterator[Mapping[str, Any]]:
        return desired.canonical(entries)

    def crosschecks(self) -> Callable[[Document], Iterable[ManifestProblem]]:
        return desired.checks(self.manifest_kind)

    def references(self, entry: AutoRenewRule) -> References:
        return References(customer=entry.customer)

    # reads, plan ---------------------------------------------------------------------------

    def needs_agency(
        self, entries: Sequence[AutoRenewRule], customer_id: str, live: LiveState
    ) -> bool:
        customer = live.customers[customer_id]
        return diff.needs_agency(list(entries), customer, resources_of(live, customer_id))

    def agency_customers(self, desired: DesiredState, live: LiveState) -> set[str]:
        found, _ = diff.candidates(desired, live)
        return diff.customers_needing_agency(found)

    def diff(self, desired: DesiredState, live: LiveState) -> KindResult:
        return diff.diff(desired, live)

    # apply, drift --------------------------------------------------------------------------

    def groups(self, changes: Sequence[Change]) -> Sequence[Group]:
        return executor.groups(changes)

    def heal(self, change: Change) -> tuple[str, str]:
        if change.manual:
            return super().heal(change)
        state = "on" if change.after.get("auto_renew") else "off"
        return (
            HEAL_APPLY,
            f"apply switches auto-renew {state} (as the customer, through the agency)",
        )

    def drift_view(self, desired: DesiredState, live: LiveState) -> DriftView:
        return RenewDrift(desired, live)

    # render --------------------------------------------------------------------------------

    def change_text(self, change: Change, esc: Escaper) -> str:
        before = "on" if change.before.get("auto_renew") else "off"
        extra = [
            f"{k}={esc(change.after[k])}"
            for k in ("period_type", "renew_times")
            if k in change.after
        ]
        after = ("on" if change.after.get("auto_renew") else "off") + (
            f" ({', '.join(extra)})" if extra else ""
        )
        return f"auto-renew {before} -> {after}"

    def side_text(self, values: Mapping[str, Any], esc: Escaper) -> str:
        text = "on" if values.get("auto_renew") else "off"
        status = values.get("status")
        if status and status != "in use":
            text += f" ({esc(status)})"
        return text

    def table_cells(self, change: Change, esc: Escaper) -> tuple[str, ...]:
        values = self.change_text(change, esc)
        return (values.removeprefix("auto-renew ").replace(" -> ", " → "),)
