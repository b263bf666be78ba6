"""The baseline: the same reads as a plain sequential loop over the client, one call at a time.

List every customer page, then each customer's resources one by one, then the resellers, their
issued quotas, the distributor quotas and the agency checks. It builds the same
:class:`~reconciler.kinds.base.LiveState` as :class:`~reconciler.plan.reader.Reader` (the benchmark
checks that both give the same plan), so the ratio of their times is what pipelining and keeping
every API's pacer busy buys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from reconciler.bss import queries as q
from reconciler.bss.client import BssClient
from reconciler.bss.models import IssuedQuota, Page, Resource
from reconciler.kinds.auto_renew import diff as auto_renew
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.kinds.base import LiveState
from reconciler.kinds.reseller_quota.reads import ISSUED
from reconciler.manifests.desired import DesiredState
from reconciler.plan.planner import agency_problem

T = TypeVar("T")
Key = tuple[str | None, str | None]
PAGE = 100
RESOURCE_PAGE = q.MAX_RESOURCE_PAGE


async def _every_page(fetch: Callable[[int, int], Awaitable[Page[T]]], limit: int) -> list[T]:
    items: list[T] = []
    offset = 0
    while True:
        page = await fetch(offset, limit)
        items += page.items
        offset += limit
        if len(page.items) < limit or offset >= page.total:
            return items


async def sequential_read(client: BssClient, desired: DesiredState) -> LiveState:
    """Everything :meth:`Reader.read` reads for ``desired``, one call after another."""
    live = LiveState()
    await _customers(client, desired, live)
    await _resellers(client, desired, live)
    quota_ids = sorted({t.distributor_quota_id for t in desired.entries_of("reseller-quota")})
    for start in range(0, len(quota_ids), 50):
        page = await client.list_quota_coupons(quota_ids=quota_ids[start : start + 50], limit=PAGE)
        for quota in page.items:
            live.distributor_quotas[quota.quota_id] = quota
    found, _ = auto_renew.candidates(desired, live)
    agency = client.agency_name
    for cid in sorted(auto_renew.customers_needing_agency(found)):
        live.agency[cid] = (
            await agency_problem(client, cid, agency, keep=False) if agency else "no agency"
        )
    return live


async def _customers(client: BssClient, desired: DesiredState, live: LiveState) -> None:
    renew = {
        (r.customer.customer_id, r.customer.account_name) for r in desired.entries_of("auto-renew")
    }
    wanted = renew | {
        (r.customer.customer_id, r.customer.account_name)
        for r in desired.entries_of("account-manager")
    }
    customers = await _every_page(
        lambda offset, limit: client.list_sub_customers(offset=offset, limit=limit), PAGE
    )
    for c in customers:
        keys: tuple[Key, Key] = ((c.customer_id, None), (None, c.account_name))
        for key in keys:
            if key in wanted and key not in live.customer_refs:
                live.customer_refs[key] = c.customer_id
                live.customers[c.customer_id] = c
                if c.account_manager:
                    live.managers_seen.add(c.account_manager)
    for key in sorted(renew, key=str):
        cid = live.customer_refs.get(key)
        if cid is None or cid in live.lists(RESOURCES):
            continue

        async def resources(offset: int, limit: int, cid: str = cid) -> Page[Resource]:
            return await client.list_customer_resources(
                cid, offset=offset, limit=limit, only_main_resource=1
            )

        items = await _every_page(resources, RESOURCE_PAGE)
        live.lists(RESOURCES)[cid] = [r for r in items if r.is_main_resource]


async def _resellers(client: BssClient, desired: DesiredState, live: LiveState) -> None:
    wanted = {
        (t.reseller.reseller_id, t.reseller.account_name)
        for t in desired.entries_of("reseller-quota")
    }
    if not wanted:
        return
    resellers = await _every_page(
        lambda offset, limit: client.list_indirect_partners(offset=offset, limit=limit), PAGE
    )
    for r in resellers:
        keys: tuple[Key, Key] = ((r.indirect_partner_id, None), (None, r.account_name))
        for key in keys:
            if key in wanted:
                live.reseller_refs[key] = r.indirect_partner_id
                live.resellers[r.indirect_partner_id] = r
    for rid in live.resellers:

        async def issued(offset: int, limit: int, rid: str = rid) -> Page[IssuedQuota]:
            return await client.list_issued_coupon_quotas(
                offset=offset, limit=limit, indirect_partner_id=rid
            )

        live.lists(ISSUED)[rid] = await _every_page(issued, PAGE)
