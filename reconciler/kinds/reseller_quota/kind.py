"""``ResellerQuota``: the coupon-quota balance each reseller holds from a distributor quota."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.kinds.base import COUPON_QUOTA, quota_balance
from reconciler.kinds.reseller_quota import desired, diff, executor
from reconciler.kinds.reseller_quota import export as export_module
from reconciler.kinds.reseller_quota.drift import QuotaDrift
from reconciler.kinds.reseller_quota.reads import ISSUED, READS
from reconciler.kinds.reseller_quota.settle import OPERATIONS
from reconciler.kinds.spec import (
    Draw,
    ExportModule,
    Group,
    Kind,
    QuotaRef,
    References,
    count_per_run,
    money_per_recipient,
    money_per_run,
)
from reconciler.plan.model import ZERO, money
from reconciler.render.words import amount, plural

if TYPE_CHECKING:
    from reconciler.errors import ManifestProblem
    from reconciler.kinds.base import KindResult, LiveState
    from reconciler.kinds.reseller_quota.desired import QuotaTarget
    from reconciler.kinds.spec import DriftView, PoolKey
    from reconciler.manifests.desired import DesiredState
    from reconciler.manifests.document import Document
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper

GUARDS = (
    money_per_run(
        "max-issue-per-run",
        "maxIssuePerRun",
        Decimal("200000.00"),
        title="Max issue per run",
        description="Block a plan that issues more coupon quota than this in total.",
        detail="issued by this run",
    ),
    money_per_recipient(
        "max-issue-per-reseller",
        "maxIssuePerReseller",
        Decimal("50000.00"),
        title="Max issue per reseller",
        description="Block a plan that issues more coupon quota than this to one reseller.",
        noun="reseller",
        recipient=lambda change: change.key.rsplit("/", 1)[-1],
    ),
    count_per_run(
        "max-reclaims-per-run",
        "maxReclaimsPerRun",
        10,
        title="Max reclaims per run",
        description="Block a plan that reclaims more reseller quotas than this.",
        unit="reclaims",
        count=lambda change: sum(
            len(call.body.get("quota_ids", ()))
            for call in change.calls
            if call.operation == diff.RECLAIM and call.body is not None
        ),
    ),
)


class ResellerQuota(Kind["QuotaTarget"]):
    """Raising a balance issues the difference from the distributor quota; lowering it reclaims
    whole reseller quotas and issues the remainder again (:mod:`.diff`)."""

    id = diff.KIND
    manifest_kind = "ResellerQuota"
    title = "Reseller quota"
    order = 10
    actions = ("reclaim", "reclaim-reissue", "issue")
    marks = MappingProxyType({"issue": "+", "reclaim": "-", "reclaim-reissue": "~"})
    owns = frozenset({diff.ISSUE, diff.RECLAIM, "resellerQuotas", "QuotaTarget"})
    published_schema = "reseller-quota.schema.json"
    canonical_key = "resellerQuotas"
    guards = GUARDS
    reads = READS
    operations = OPERATIONS
    export_file = "reseller-quotas.yaml"
    export_subjects = frozenset({"reseller"})
    export: ClassVar[ExportModule | None] = export_module
    table_columns = ("Reseller", "Balance", "Reclaim", "Issue")

    # manifests ---------------------------------------------------------------------------

    def build(self, doc: Document) -> Sequence[QuotaTarget]:
        return desired.build(doc)

    def canonical(self, entries: Sequence[QuotaTarget]) -> Iterator[Mapping[str, Any]]:
        return desired.canonical(entries)

    def crosschecks(self) -> Callable[[Document], Iterable[ManifestProblem]]:
        return desired.checks()

    def references(self, entry: QuotaTarget) -> References:
        quota = QuotaRef(entry.distributor_quota_id, entry.quota_source or entry.source)
        return References(reseller=entry.reseller, quotas=(quota,))

    # plan, apply, drift --------------------------------------------------------------------

    def diff(self, desired: DesiredState, live: LiveState) -> KindResult:
        return diff.diff(desired, live)

    def groups(self, changes: Sequence[Change]) -> Sequence[Group]:
        return executor.groups(changes)

    def draws(self, change: Change) -> Sequence[Draw]:
        """Its distributor quota: the issue taken, the reclaims given back. The reseller's
        quotas it reclaims: their whole balance. Its other valid ones: the fingerprint covers
        their balances (a coupon cut from one meanwhile would make the change stale)."""
        parent, m = change.key.split("/")[1], change.money
        assert m is not None, change.key
        reclaimed = [
            str(q)
            for call in change.calls
            if call.operation == diff.RECLAIM and call.body is not None
            for q in call.body["quota_ids"]
        ]
        kept = [str(q) for q in change.before.get("quotas", ()) if q not in reclaimed]
        return (
            Draw((COUPON_QUOTA, parent), takes=m.issue, returns=m.reclaim),
            *(Draw((COUPON_QUOTA, q), whole=True) for q in reclaimed),
            *(Draw((COUPON_QUOTA, q)) for q in kept),
        )

    def balance(self, pool: PoolKey, live: LiveState) -> Decimal | None:
        return quota_balance(
            live, pool, lambda: (q for found in live.lists(ISSUED).values() for q in found)
        )

    def drift_view(self, desired: DesiredState, live: LiveState) -> DriftView:
        return QuotaDrift(self.entries(desired), live)

    # render --------------------------------------------------------------------------------

    def change_text(self, change: Change, esc: Escaper) -> str:
        before, after = change.before.get("balance"), change.after.get("balance")
        return f"balance {esc(before)} -> {esc(after)}"

    def side_text(self, values: Mapping[str, Any], esc: Escaper) -> str:
        return esc(values.get("balance", "?"))

    def table_cells(self, change: Change, esc: Escaper) -> tuple[str, ...]:
        m = change.money
        reclaim = amount(m.reclaim, m.currency) if m and m.reclaim > ZERO else ""
        issue = amount(m.issue, m.currency) if m and m.issue > ZERO else ""
        before, after = change.before.get("balance"), change.after.get("balance")
        return (f"{esc(before)} → {esc(after)}", reclaim, issue)

    def reclaim_banner(self, changes: Sequence[Change]) -> str | None:
        reclaims = [c for c in changes if c.money and c.money.reclaim > ZERO]
        if not reclaims:
            return None
        back = money(sum((c.money.reclaim for c in reclaims if c.money), ZERO))
        lost = money(sum((c.money.unrecoverable for c in changes if c.money), ZERO))
        text = (
            f"> [!WARNING]\n> **Quota will be reclaimed** from "
            f"{plural(len(reclaims), 'reseller')}: {amount(back)} goes back to the distributor "
            "quota."
        )
        if lost > ZERO:
            text += f" {amount(lost)} already spent by resellers cannot come back."
        return text
