"""Export of reseller balances: one ``ResellerQuota`` document per distributor quota.

Read: every quota issued to each reseller in scope (one listing each), then the distributor
quotas they come from (50 ids per call). Written: the balance each reseller holds from each
distributor quota now, counted as the plan counts it (:func:`.diff.live_balance`), so ``plan``
on the result shows no changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.gitops import yamlout as y
from reconciler.kinds.reseller_quota.diff import STATUS_NAMES, VALID, live_balance
from reconciler.kinds.reseller_quota.reads import ISSUED
from reconciler.plan.model import ZERO, fmt_money, money
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import CouponQuota, IndirectPartner, IssuedQuota
    from reconciler.gitops.account import ExportAccount, ExportProgress
    from reconciler.kinds.reseller_quota.desired import QuotaTarget

QUOTA_IDS_PER_CALL = 50
#: Which (distributor quota id, reseller) pairs to write.
Keep = Callable[[tuple[str, "IndirectPartner"]], bool]


@dataclass
class QuotaExport:
    """What export read: reseller id -> every quota issued to it; the distributor quotas."""

    issued: dict[str, list[IssuedQuota]] = field(default_factory=dict)
    distributor_quotas: dict[str, CouponQuota] = field(default_factory=dict)


def of(account: ExportAccount, kind_id: str) -> QuotaExport:
    found = account.data.get(kind_id)
    return found if isinstance(found, QuotaExport) else QuotaExport()


async def read(
    client: BssClient, account: ExportAccount, shown: ExportProgress, kind_id: str
) -> None:
    data = account.data[kind_id] = QuotaExport()
    ids = sorted(r.indirect_partner_id for r in account.resellers)
    shown.expect(ISSUED, len(ids))

    async def issued(rid: str) -> list[IssuedQuota]:
        found = await client.all_issued_coupon_quotas(indirect_partner_id=rid)
        shown.done(ISSUED)
        return found

    lists = await pool_map(ids, issued, workers_for(client.rate_for(ISSUED.api)))
    data.issued = dict(zip(ids, lists, strict=True))
    parents = sorted({q.parent_quota_id for qs in lists for q in qs if q.parent_quota_id})
    for start in range(0, len(parents), QUOTA_IDS_PER_CALL):
        batch = parents[start : start + QUOTA_IDS_PER_CALL]
        async for quota in client.iter_quota_coupons(quota_ids=batch):
            data.distributor_quotas[quota.quota_id] = quota
    for missing in sorted(set(parents) - set(data.distributor_quotas)):
        account.warnings.append(
            f"distributor quota {missing} has quotas issued from it but is not listed among "
            "yours (expired or of another type?): its reseller balances are not exported"
        )


def render(
    account: ExportAccount, data: QuotaExport, schema_dir: str, keep: Keep
) -> tuple[str, str]:
    resellers = y.sorted_resellers(account)
    unique = y.unique_names(r.account_name for r in resellers)
    docs: list[list[str]] = []
    targets = 0
    parents = sorted(data.distributor_quotas.values(), key=lambda q: q.quota_id)
    for index, parent in enumerate(parents):
        pairs = _balances(data, parent, resellers, unique, keep)
        if not pairs:
            continue
        targets += sum(1 for code, _ in pairs if code.startswith("    - "))
        name = y.document_name(f"quota-{parent.quota_id}", index, "quota")
        doc = [*y.envelope("ResellerQuota", name), "spec:"]
        doc += y.lines([(f"  distributorQuota: {y.quoted(parent.quota_id)}", _parent_note(parent))])
        doc += ["  resellers:", *y.lines(pairs)]
        docs.append(doc)
    lines = y.header(
        schema_dir,
        account,
        "One document per distributor quota: the balance each reseller holds from it now",
        "(valid quotas only). Raising a balance issues the difference; lowering one reclaims",
        "whole reseller quotas, and what a reseller already spent never comes back.",
    )
    if not docs:
        lines.append("# No reseller holds quota issued from your distributor quotas.")
    for n, doc in enumerate(docs):
        lines += (["---", y.modeline(schema_dir)] if n else []) + doc
    return y.text(lines), f"{len(docs)} distributor quotas, {targets} reseller balances"


def _balances(
    data: QuotaExport,
    parent: CouponQuota,
    resellers: Sequence[IndirectPartner],
    unique: set[str],
    keep: Keep,
) -> y.Pairs:
    pairs: y.Pairs = []
    for reseller in resellers:
        children = [
            q
            for q in data.issued.get(reseller.indirect_partner_id, [])
            if q.parent_quota_id == parent.quota_id
        ]
        if children and keep((parent.quota_id, reseller)):
            ref, note = y.reseller_ref(reseller, unique)
            pairs.append((f"    - {ref}", note))
            balance = fmt_money(live_balance(children))
            pairs.append((f"      balance: {y.quoted(balance)}", _balance_note(children)))
    return pairs


def _parent_note(parent: CouponQuota) -> str:
    cur = parent.currency or "CNY"
    parts = [f"{y.number(parent.quota_value)} {cur}", f"balance {y.number(parent.balance)}"]
    if parent.quota_status not in (None, VALID):
        parts.append(STATUS_NAMES.get(parent.quota_status, f"status {parent.quota_status}"))
    if parent.expire_time:
        parts.append(f"until {parent.expire_time}")
    return ", ".join(parts)


def _balance_note(children: Sequence[IssuedQuota]) -> str | None:
    valid = [q for q in children if q.quota_status == VALID]
    parts = []
    if valid:
        issued = money(sum((q.quota_value or ZERO for q in valid), ZERO))
        spent = money(
            sum((max(ZERO, (q.quota_value or ZERO) - (q.balance or ZERO)) for q in valid), ZERO)
        )
        noun = "quota" if len(valid) == 1 else "quotas"
        parts.append(f"{len(valid)} {noun}: issued {fmt_money(issued)}, spent {fmt_money(spent)}")
    reclaimed = sum(1 for q in children if q.reclaimed)
    if reclaimed:
        parts.append(f"{reclaimed} reclaimed")
    for q in children:
        if q.quota_status not in (VALID, 6):
            status = STATUS_NAMES.get(q.quota_status or -1, f"status {q.quota_status}")
            parts.append(f"{q.quota_id} {status} with {fmt_money(q.balance or ZERO)}, not counted")
    return "; ".join(parts) or None


def undeclared(entries: Sequence[QuotaTarget]) -> Keep:
    """The (distributor quota, reseller) pairs none of ``entries`` declares."""
    pairs: set[tuple[str, str]] = set()
    for target in entries:
        ref = target.reseller
        pairs.add((target.distributor_quota_id, ref.reseller_id or f"name:{ref.account_name}"))

    def keep(pair: tuple[str, IndirectPartner]) -> bool:
        parent, reseller = pair
        return (parent, reseller.indirect_partner_id) not in pairs and (
            parent,
            f"name:{reseller.account_name}",
        ) not in pairs

    return keep
