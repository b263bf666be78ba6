"""Read the live state the manifests mention, with the fewest calls, at each API's rate.

Every partner API allows about 10 calls per second and a customer's yearly/monthly resources can
only be listed one customer at a time, so the time a plan takes is set by how well each API's
budget is used. The reader therefore:

* **Reads only what the manifests mention, with the fewest calls.** Customers and resellers named
  in manifests are resolved either by one targeted query each (``customer_id`` /
  ``indirect_partner_id`` exact filters; ``account_name`` fuzzy filter, then an exact match) or
  by listing every page, whichever costs fewer calls. With a handful of references the targeted
  queries are made straight away; otherwise the first page of the listing tells the total, so
  the choice is made with numbers, not guessed. Resources are read for the customers that have
  AutoRenew rules (``only_main_resource=1``, 100 per page: the safe maximum, §7.3), issued
  quotas per reseller in scope (100 per page), distributor quotas by id (50 per call).
* **Pipelines.** Each customer found on a listing page (or by a targeted query) queues its
  resource listing at once; nothing waits for the whole customer list. Likewise reseller ->
  issued quotas, and (through :meth:`Reader.read`'s ``on_resources`` hook) customer resources
  -> the planner's agency check.
* **Keeps every API's pacer busy.** Each API has an :class:`ApiPool` of workers. By Little's law
  ``rate x latency`` calls are in flight when an API is used at its rate, so the pool holds that
  many workers plus one waiting at the pacer for the next slot. The latency is the slowest recent
  answer of that API (about its p99) with a margin, so the pool follows the API when it slows
  down; before the first answer it assumes :data:`LATENCY_ALLOWANCE`. There is no parallelism
  knob, and no 429 of our making: the client's pacer spaces the calls.
* **Fetches the pages of a long listing together.** The first page tells the total; the other
  pages are queued ahead of new work (so a customer's listing finishes early and its pages are
  not held in memory for long) and fetched concurrently by the same pool.
* **Survives offset paging over a changing set** (research B8 T10). Items are de-duplicated by
  id. A resource or quota listing whose total moved between its pages is read again (twice at
  most, then kept de-duplicated with a warning). A reference that a whole-partner listing did not
  find is looked up directly before it is called unknown, so a customer that moved between pages
  while the listing ran (a deletion shifts later offsets) is never reported missing.

Memory and CPU are linear in the objects read: listing pages are matched against a dict of the
references and dropped, only the customers and resellers the manifests mention are kept.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.bss import queries as q
from reconciler.bss.redact import get_logger
from reconciler.emulator.clock import SystemClock
from reconciler.errors import ManifestProblem
from reconciler.kinds.base import LiveState
from reconciler.plan.census import Census
from reconciler.plan.eta import RateMeter, estimate_eta
from reconciler.plan.pools import ApiPool, Job
from reconciler.plan.progress import Progress, ReadCounters
from reconciler.plan.references import (
    LIST_CUSTOMERS,
    Directory,
    Fetch,
    Key,
    Listing,
    Ref,
    customer_directory,
    customer_refs,
    reseller_directory,
    reseller_refs,
    unique,
    whole,
)
from reconciler.plan.resolve import REREADS, Resolution

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner, IssuedQuota, Page, Resource
    from reconciler.emulator.clock import Clock
    from reconciler.manifests.desired import DesiredState

log = get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R")

RESOURCE_PAGE = q.MAX_RESOURCE_PAGE
ISSUED_PAGE = 100
QUOTA_IDS_PER_CALL = 50

LIST_RESOURCES = "list_pay_per_use_customer_resources"
LIST_ISSUED = "list_issued_coupon_quotas"
LIST_QUOTAS = "list_quota_coupons"


class Reader(Resolution):
    """Scoped, pipelined, rate-saturating reads of the live partner account."""

    def __init__(
        self, client: BssClient, *, progress: Progress | None = None, clock: Clock | None = None
    ) -> None:
        self.client = client
        self.clock = clock or SystemClock()
        self.meter = RateMeter()
        self.live = LiveState()
        self.problems: list[ManifestProblem] = []
        #: names, IDs and managers seen on listings (did-you-mean, the manager check)
        self.census = Census()
        self._unresolved: list[tuple[list[Ref], Directory[Any]]] = []
        self.progress = progress or Progress()
        self.counters = ReadCounters()
        self._pools: dict[str, ApiPool] = {}
        self._failure: BaseException | None = None
        self._renew: set[Key] = set()
        self._resources_started: set[str] = set()
        self._issued_started: set[str] = set()
        self._on_resources: Callable[[str], None] | None = None
        self._keys: dict[str, list[Key]] = {}

    # -- the pools -------------------------------------------------------------------------

    def pool(self, api: str) -> ApiPool:
        """The worker pool of ``api`` (created on first use); the planner queues jobs here too."""
        pool = self._pools.get(api)
        if pool is None:
            pool = self._pools[api] = ApiPool(self.client, api, self._abort)
        return pool

    def _abort(self, exc: BaseException) -> None:
        """A job failed: stop every pool; the first failure is what :meth:`read` raises."""
        if self._failure is None:
            self._failure = exc
        for pool in self._pools.values():
            pool.cancel()

    async def _join(self, *apis: str) -> None:
        for api in apis:
            await self.pool(api).join()
        if self._failure is not None:
            raise self._failure

    async def _drain(self) -> None:
        """Until every pool is idle at once (jobs may queue jobs on other pools)."""
        while True:
            busy = [p for p in self._pools.values() if not p.idle]
            if not busy:
                break
            for pool in busy:
                await pool.join()
        if self._failure is not None:
            raise self._failure

    # -- entry point -----------------------------------------------------------------------

    async def read(
        self, desired: DesiredState, *, on_resources: Callable[[str], None] | None = None
    ) -> LiveState:
        """Everything ``desired`` mentions. ``on_resources(customer_id)`` runs as soon as a
        customer's resources are in ``live.resources`` (it may queue jobs on :meth:`pool`)."""
        # Say what is about to happen first: the rest can take hours against the real API.
        self._renew = {
            (r.customer.customer_id, r.customer.account_name) for r in desired.auto_renew
        }
        managed = {(m.customer.customer_id, m.customer.account_name) for m in desired.managers}
        resellers = {(t.reseller.reseller_id, t.reseller.account_name) for t in desired.quotas}
        c = self.counters
        c.customers, c.resellers = len(self._renew | managed), len(resellers)
        c.resource_lists = len(self._renew)
        self.progress.line(
            f"Reading live state for {c.customers:,} customers, {c.resellers:,} resellers..."
        )
        customer_list = customer_refs(desired)
        reseller_list = reseller_refs(desired)
        self._on_resources = on_resources
        branches = (
            self._customers_then_resources(customer_list),
            self._resellers_then_quotas(reseller_list),
            self._distributor_quotas(sorted({t.distributor_quota_id for t in desired.quotas})),
        )
        try:
            results = await asyncio.gather(*branches, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise self._failure or result
            await self._drain()
            await self._explain_unresolved()
        except BaseException as exc:
            self._abort(exc)
            raise
        finally:
            self.progress.finish()
        return self.live

    def _tick(self, api: str) -> None:
        c = self.counters
        c.calls += 1
        self.meter.record(api, self.clock.time())
        c.eta_seconds = self._eta()
        self.progress.update(c)

    def _eta(self) -> float | None:
        """Seconds left for the calls still known to be needed, at each API's measured rate
        (:func:`reconciler.plan.eta.estimate_eta`)."""
        c = self.counters
        left = {
            LIST_RESOURCES: c.resource_lists - c.resource_lists_done + self._pages_pending(),
            LIST_ISSUED: c.resellers - c.quota_lists_done,
        }
        customer_pool = self._pools.get(LIST_CUSTOMERS)
        if customer_pool is not None:
            left[LIST_CUSTOMERS] = customer_pool.queued
        nominal = {api: self.client.rate_for(api) for api in left}
        return estimate_eta(left, self.meter.samples(), nominal)

    def _pages_pending(self) -> int:
        pool = self._pools.get(LIST_RESOURCES)
        return 0 if pool is None else len(pool._urgent)

    # -- customers and their resources -----------------------------------------------------

    async def _customers_then_resources(self, refs: list[Ref]) -> None:
        await self._resolve(refs, customer_directory(self.client), self._customer_found)
        await self._join(LIST_RESOURCES)

    def references(self, customer_id: str) -> list[Key]:
        """The manifest references (``(customer_id, account_name)``) resolved to a customer."""
        return self._keys.get(customer_id, [])

    def _customer_found(self, ref: Ref, customer: Customer) -> None:
        cid = customer.customer_id
        self.live.customer_refs[ref.key] = cid
        self._keys.setdefault(cid, []).append(ref.key)
        self.counters.customers_found += 1
        if cid not in self.live.customers:
            self.live.customers[cid] = customer
            if customer.account_manager:
                self.live.managers_seen.add(customer.account_manager)
        if ref.key in self._renew and cid not in self._resources_started:
            self._resources_started.add(cid)
            self._list_all(
                self.pool(LIST_RESOURCES),
                _resource_fetch(self.client, cid),
                RESOURCE_PAGE,
                lambda r: r.resource_id,
                functools.partial(self._resources_read, cid),
            )
        elif ref.key in self._renew:
            self.counters.resource_lists -= 1  # a second reference to a customer already read

    def _resources_read(self, cid: str, items: list[Resource]) -> None:
        self.live.resources[cid] = [r for r in items if r.is_main_resource]
        self.counters.resource_lists_done += 1
        if self._on_resources is not None:
            self._on_resources(cid)

    # -- resellers and their quotas --------------------------------------------------------

    async def _resellers_then_quotas(self, refs: list[Ref]) -> None:
        await self._resolve(refs, reseller_directory(self.client), self._reseller_found)
        await self._join(LIST_ISSUED)

    def _reseller_found(self, ref: Ref, reseller: IndirectPartner) -> None:
        rid = reseller.indirect_partner_id
        self.live.reseller_refs[ref.key] = rid
        self.counters.resellers_found += 1
        self.live.resellers.setdefault(rid, reseller)
        if reseller.account_manager_id:
            self.live.managers_seen.add(reseller.account_manager_id)
        if rid in self._issued_started:
            self.counters.resellers -= 1
            return
        self._issued_started.add(rid)
        self._list_all(
            self.pool(LIST_ISSUED),
            _issued_fetch(self.client, rid),
            ISSUED_PAGE,
            lambda x: x.quota_id,
            functools.partial(self._issued_read, rid),
        )

    def _issued_read(self, rid: str, items: list[IssuedQuota]) -> None:
        self.live.issued[rid] = items
        self.counters.quota_lists_done += 1

    async def _distributor_quotas(self, quota_ids: Sequence[str]) -> None:
        pool = self.pool(LIST_QUOTAS)
        for start in range(0, len(quota_ids), QUOTA_IDS_PER_CALL):
            batch = list(quota_ids[start : start + QUOTA_IDS_PER_CALL])

            async def job(batch: list[str] = batch) -> None:
                async for quota in self.client.iter_quota_coupons(quota_ids=batch):
                    self.live.distributor_quotas[quota.quota_id] = quota
                self._tick(LIST_QUOTAS)

            pool.submit(job)
        await self._join(LIST_QUOTAS)
        if set(quota_ids) - self.live.distributor_quotas.keys():  # for a "did you mean"
            async for quota in self.client.iter_quota_coupons():
                self.live.known_quota_ids.add(quota.quota_id)

    # -- listings of several pages ---------------------------------------------------------

    def _list_all(
        self,
        pool: ApiPool,
        fetch: Fetch[T],
        limit: int,
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
        attempt: int = 0,
    ) -> None:
        """Queue a whole listing: the first page, then (urgently) the others it announces."""

        async def first() -> None:
            page = await fetch(0, limit)
            if len(page.items) < limit or 0 <= page.total <= limit:
                done(whole(pool.api, limit, [page], key))
            elif page.total < 0:  # no total: one page after another until a short one
                items = list(page.items)
                while len(page.items) == limit:
                    self._tick(pool.api)
                    page = await fetch(len(items), limit)
                    items += page.items
                done(unique(items, key))
            else:
                listing: Listing[T] = Listing(page, limit, attempt)
                for n in range(1, len(listing.pages)):
                    pool.submit(self._page_job(pool, listing, n, fetch, key, done), urgent=True)
            self._tick(pool.api)

        pool.submit(first)

    def _page_job(
        self,
        pool: ApiPool,
        listing: Listing[T],
        n: int,
        fetch: Fetch[T],
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
    ) -> Job:
        async def job() -> None:
            page = await fetch(n * listing.limit, listing.limit)
            listing.pages[n] = page
            listing.totals.add(page.total)
            listing.remaining -= 1
            if not listing.remaining:
                self._complete(pool, listing, fetch, key, done)
            self._tick(pool.api)

        return job

    def _complete(
        self,
        pool: ApiPool,
        listing: Listing[T],
        fetch: Fetch[T],
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
    ) -> None:
        """Every page is in: hand the items over, or read again if the total moved meanwhile."""
        consistent = listing.consistent()
        if not consistent and listing.attempt < REREADS:
            log.info("total moved while paging %s; reading again", sorted(listing.totals))
            self._list_all(pool, fetch, listing.limit, key, done, listing.attempt + 1)
            return
        if not consistent:
            log.warning(
                "a listing kept changing while it was read (totals %s); keeping what was read, "
                "de-duplicated, if it holds as many items as its totals say",
                sorted(listing.totals),
            )
        done(whole(pool.api, listing.limit, listing.pages, key))


def _resource_fetch(client: BssClient, cid: str) -> Fetch[Resource]:
    async def fetch(offset: int, limit: int) -> Page[Resource]:
        return await client.list_customer_resources(
            cid, offset=offset, limit=limit, only_main_resource=1
        )

    return fetch


def _issued_fetch(client: BssClient, rid: str) -> Fetch[IssuedQuota]:
    async def fetch(offset: int, limit: int) -> Page[IssuedQuota]:
        return await client.list_issued_coupon_quotas(
            offset=offset, limit=limit, indirect_partner_id=rid
        )

    return fetch
