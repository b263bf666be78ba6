"""The fair baseline: what a competent engineer writes in forty lines with ``gather`` and a
semaphore over the same client, instead of the reconciler's reader.

Every phase is concurrent (at most ``CONCURRENCY`` calls in flight, the client's pacer keeping
each API at its rate), but the phases follow each other: all customer pages, then every
customer's resources, then resellers and their quotas, then the agency checks. It builds the same
:class:`~reconciler.kinds.base.LiveState` as the reader (the benchmark checks that both give the
same plan), so the ratio of their times is what pipelining the phases and sizing the pools buys
over the obvious concurrent program.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from reconciler.bss.client import BssClient
from reconciler.bss.models import Page
from reconciler.kinds.auto_renew.diff import candidates, customers_needing_agency
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.kinds.base import LiveState
from reconciler.kinds.reseller_quota.reads import ISSUED
from reconciler.manifests.desired import DesiredState
from reconciler.plan.planner import agency_problem

T = TypeVar("T")
R = TypeVar("R")
#: Calls in flight at most: enough for 10 per second at latencies up to about 1.5 s.
CONCURRENCY = 16
PAGE, RESOURCE_PAGE = 100, 100  # REFERENCE §7.3: resources at most 100 a page
AR, AM, RQ = "auto-renew", "account-managers", "reseller-quota"


async def bounded(items: Iterable[T], fn: Callable[[T], Awaitable[R]]) -> list[R]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: T) -> R:
        async with gate:
            return await fn(item)

    return await asyncio.gather(*(one(item) for item in items))


async def every_page(fetch: Callable[[int, int], Awaitable[Page[T]]], limit: int) -> list[T]:
    first = await fetch(0, limit)
    rest = await bounded(range(limit, max(first.total, 0), limit), lambda o: fetch(o, limit))
    return [item for page in (first, *rest) for item in page.items]


async def peer_read(client: BssClient, desired: DesiredState) -> LiveState:
    """Everything :meth:`Reader.read` reads for ``desired``, a phase at a time."""
    live = LiveState()
    wanted = {(r.customer.customer_id, r.customer.account_name) for r in desired.entries_of(AR)}
    wanted |= {(m.customer.customer_id, m.customer.account_name) for m in desired.entries_of(AM)}
    customers = await every_page(lambda o, n: client.list_sub_customers(offset=o, limit=n), PAGE)
    for c in customers:
        for key in ((c.customer_id, None), (None, c.account_name)):
            if key in wanted:
                live.customer_refs[key] = c.customer_id
                live.customers[c.customer_id] = c
                if c.account_manager:
                    live.managers_seen.add(c.account_manager)
    renew = {live.customer_refs.get((r.customer.customer_id, r.customer.account_name))
             for r in desired.entries_of(AR)} - {None}  # fmt: skip

    async def resources(cid: str | None) -> None:
        assert cid is not None
        items = await every_page(
            lambda o, n: client.list_customer_resources(
                cid, offset=o, limit=n, only_main_resource=1
            ),
            RESOURCE_PAGE,
        )
        live.lists(RESOURCES)[cid] = [r for r in items if r.is_main_resource]

    await bounded(sorted(renew, key=str), resources)
    await _resellers(client, desired, live)
    found, _ = candidates(desired, live)
    agency = client.agency_name or ""

    async def check(cid: str) -> None:
        live.agency[cid] = await agency_problem(client, cid, agency, keep=False)

    await bounded(sorted(customers_needing_agency(found)), check)
    return live


async def _resellers(client: BssClient, desired: DesiredState, live: LiveState) -> None:
    wanted = {(t.reseller.reseller_id, t.reseller.account_name) for t in desired.entries_of(RQ)}
    if not wanted:
        return
    resellers = await every_page(
        lambda o, n: client.list_indirect_partners(offset=o, limit=n), PAGE
    )
    for r in resellers:
        for key in ((r.indirect_partner_id, None), (None, r.account_name)):
            if key in wanted:
                live.reseller_refs[key] = r.indirect_partner_id
                live.resellers[r.indirect_partner_id] = r

    async def issued(rid: str) -> None:
        live.lists(ISSUED)[rid] = await every_page(
            lambda o, n: client.list_issued_coupon_quotas(offset=o, limit=n,
                                                          indirect_partner_id=rid),
            PAGE,
        )  # fmt: skip

    await bounded(list(live.resellers), issued)
    ids = sorted({t.distributor_quota_id for t in desired.entries_of(RQ)})

    async def quotas(start: int) -> None:
        page = await client.list_quota_coupons(quota_ids=ids[start : start + 50], limit=PAGE)
        for quota in page.items:
            live.distributor_quotas[quota.quota_id] = quota

    await bounded(range(0, len(ids), 50), quotas)
