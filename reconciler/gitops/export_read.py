"""What export reads: the scope asked for and the live account it is written from.

Kept apart from :mod:`reconciler.gitops.export` (which writes files) so the YAML renderer
(:mod:`reconciler.gitops.export_yaml`) can depend on it without an import circle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.emulator.clock import SystemClock
from reconciler.errors import ConfigError
from reconciler.plan.eta import RateMeter, estimate_eta
from reconciler.plan.pools import pool_map, workers_for
from reconciler.plan.progress import Progress, ReadCounters
from reconciler.plan.reader import LIST_ISSUED, LIST_RESOURCES, QUOTA_IDS_PER_CALL
from reconciler.plan.references import by_id_or_name, customer_directory, reseller_directory

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import CouponQuota, Customer, IndirectPartner, IssuedQuota, Resource
    from reconciler.emulator.clock import Clock

KINDS = ("account-manager", "auto-renew", "reseller-quota")
FILES = {
    "account-manager": "account-managers.yaml",
    "auto-renew": "auto-renew.yaml",
    "reseller-quota": "reseller-quotas.yaml",
    "settings": "settings.yaml",
}


@dataclass(frozen=True)
class ExportScope:
    """What to export: kinds, and customers / resellers by account name or ID (empty: all)."""

    kinds: frozenset[str] = frozenset(KINDS)
    customers: tuple[str, ...] = ()
    resellers: tuple[str, ...] = ()

    @property
    def needs_customers(self) -> bool:
        return bool(self.kinds & {"account-manager", "auto-renew"})


@dataclass
class LiveAccount:
    """The live state an export is written from."""

    partner_id: str
    endpoint: str
    agency_name: str | None
    customers: list[Customer] = field(default_factory=list)
    #: customer id -> its main yearly/monthly resources
    resources: dict[str, list[Resource]] = field(default_factory=dict)
    resellers: list[IndirectPartner] = field(default_factory=list)
    #: reseller id -> every quota issued to it
    issued: dict[str, list[IssuedQuota]] = field(default_factory=dict)
    distributor_quotas: dict[str, CouponQuota] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class ExportProgress:
    """Export's progress on a terminal: the plan's status line, with an ETA from the rate the
    resource and quota listings are measured to answer at."""

    def __init__(self, client: BssClient, progress: Progress | None, clock: Clock | None) -> None:
        self.client = client
        self.progress = progress or Progress()
        self.clock = clock or SystemClock()
        self.counters = ReadCounters()
        self.meter = RateMeter()

    def done(self, api: str) -> None:
        c = self.counters
        c.calls += 1
        if api == LIST_RESOURCES:
            c.resource_lists_done += 1
        else:
            c.quota_lists_done += 1
        self.meter.record(api, self.clock.time())
        left = {
            LIST_RESOURCES: c.resource_lists - c.resource_lists_done,
            LIST_ISSUED: c.resellers - c.quota_lists_done,
        }
        nominal = {a: self.client.rate_for(a) for a in left}
        c.eta_seconds = estimate_eta(left, self.meter.samples(), nominal)
        self.progress.update(c)


async def read_account(
    client: BssClient,
    scope: ExportScope,
    account: LiveAccount,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> None:
    """Fill ``account`` with what ``scope`` asks for; unknown filter values are an error."""
    shown = ExportProgress(client, progress, clock)
    shown.progress.line("Reading the partner account (export)...")
    unknown: list[str] = []
    try:
        if scope.needs_customers:
            account.customers = await _customers(client, scope.customers, unknown)
        if "reseller-quota" in scope.kinds:
            account.resellers = await _resellers(client, scope.resellers, unknown)
        if unknown:
            raise ConfigError(
                "not found in the partner account: "
                + ", ".join(unknown)
                + " (give account names or IDs exactly)"
            )
        c = shown.counters
        c.customers = c.customers_found = len(account.customers)
        c.resellers = c.resellers_found = len(account.resellers)
        c.resource_lists = len(account.customers) if "auto-renew" in scope.kinds else 0
        shown.progress.update(c)
        await asyncio.gather(
            _resources(client, scope, account, shown), _quotas(client, account, shown)
        )
    finally:
        shown.progress.finish()


async def _customers(
    client: BssClient, wanted: Sequence[str], unknown: list[str]
) -> list[Customer]:
    if not wanted:
        return await client.all_sub_customers()

    d = customer_directory(client)
    found = await pool_map(
        wanted, lambda v: by_id_or_name(v, d), workers_for(client.rate_for(d.api))
    )
    unknown += [f"customer {v!r}" for v, c in zip(wanted, found, strict=True) if c is None]
    return list({c.customer_id: c for c in found if c is not None}.values())


async def _resellers(
    client: BssClient, wanted: Sequence[str], unknown: list[str]
) -> list[IndirectPartner]:
    if not wanted:
        return await client.all_indirect_partners()

    d = reseller_directory(client)
    found = await pool_map(
        wanted, lambda v: by_id_or_name(v, d), workers_for(client.rate_for(d.api))
    )
    unknown += [f"reseller {v!r}" for v, r in zip(wanted, found, strict=True) if r is None]
    return list({r.indirect_partner_id: r for r in found if r is not None}.values())


async def _resources(
    client: BssClient, scope: ExportScope, account: LiveAccount, shown: ExportProgress
) -> None:
    if "auto-renew" not in scope.kinds:
        return
    ids = sorted(c.customer_id for c in account.customers)

    async def main_resources(cid: str) -> list[Resource]:
        found = [
            r
            async for r in client.iter_customer_resources(cid, only_main_resource=1)
            if r.is_main_resource
        ]
        shown.done(LIST_RESOURCES)
        return found

    rate = client.rate_for(LIST_RESOURCES)
    lists = await pool_map(ids, main_resources, workers_for(rate))
    account.resources = dict(zip(ids, lists, strict=True))


async def _quotas(client: BssClient, account: LiveAccount, shown: ExportProgress) -> None:
    ids = sorted(r.indirect_partner_id for r in account.resellers)
    rate = client.rate_for(LIST_ISSUED)

    async def issued(rid: str) -> list[IssuedQuota]:
        found = await client.all_issued_coupon_quotas(indirect_partner_id=rid)
        shown.done(LIST_ISSUED)
        return found

    lists = await pool_map(ids, issued, workers_for(rate))
    account.issued = dict(zip(ids, lists, strict=True))
    parents = sorted({q.parent_quota_id for qs in lists for q in qs if q.parent_quota_id})
    for start in range(0, len(parents), QUOTA_IDS_PER_CALL):
        batch = parents[start : start + QUOTA_IDS_PER_CALL]
        async for quota in client.iter_quota_coupons(quota_ids=batch):
            account.distributor_quotas[quota.quota_id] = quota
    for missing in sorted(set(parents) - set(account.distributor_quotas)):
        account.warnings.append(
            f"distributor quota {missing} has quotas issued from it but is not listed among "
            "yours (expired or of another type?): its reseller balances are not exported"
        )


# -- the command's work ---------------------------------------------------------------------
