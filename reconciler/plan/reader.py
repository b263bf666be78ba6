"""Read the live state the manifests mention, with the fewest calls, at each API's rate.

Every partner API allows about 10 calls per second and a customer's yearly/monthly resources can
only be listed one customer at a time, so the time a plan takes is set by how well each API's
budget is used. The reader therefore:

* **Reads only what the manifests mention, with the fewest calls.** Customers and resellers named
  in manifests are resolved either by one targeted query each (``customer_id`` /
  ``indirect_partner_id`` exact filters; ``account_name`` fuzzy filter, then an exact match) or
  by listing every page, whichever costs fewer calls. With a handful of references the targeted
  queries are made straight away; otherwise the first page of the listing tells the total, so
  the choice is made with numbers, not guessed. Then what each kind declares
  (:mod:`reconciler.plan.declared`): its per-object reads for the customers and resellers its
  own entries reference (e.g. a customer's resources, a reseller's issued quotas), its batched
  and its one-off reads; and the coupon quotas any entry names, by id (50 per call).
* **Pipelines.** Each customer found on a listing page (or by a targeted query) queues its
  per-object reads at once; nothing waits for the whole customer list. Likewise for resellers,
  and (through :meth:`Reader.read`'s ``on_customer`` hook) a customer's reads -> the planner's
  agency check.
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
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.bss.redact import get_logger
from reconciler.emulator.clock import SystemClock
from reconciler.errors import ManifestProblem
from reconciler.kinds.base import LiveState
from reconciler.manifests.load import cyclic_gc_paused
from reconciler.memory import trimmer
from reconciler.plan.census import Census
from reconciler.plan.declared import SUBJECTS, Wanted, declared
from reconciler.plan.eta import RateMeter, estimate_eta
from reconciler.plan.kept import Records, entries_naming, object_keys
from reconciler.plan.perobject import PENDING, PerObjectReads
from reconciler.plan.pools import ApiPool
from reconciler.plan.progress import Progress, ReadCounters
from reconciler.plan.references import (
    LIST_CUSTOMERS,
    Directory,
    Key,
    Ref,
    customer_directory,
    reseller_directory,
)
from reconciler.plan.resolve import Resolution

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner
    from reconciler.emulator.clock import Clock
    from reconciler.kinds.reads import Subject
    from reconciler.manifests.desired import DesiredState

log = get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R")

QUOTA_IDS_PER_CALL = 50
LIST_QUOTAS = "list_quota_coupons"
#: Calls between two releases of the C heap's free memory (:mod:`reconciler.memory`).
TRIM_EVERY = 1000


class Reader(PerObjectReads, Resolution):
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
        self.wanted: list[Wanted] = []  #: every kind with entries, and its entries by reference
        self._want_of: dict[str, Wanted] = {}  # per-object read name -> its kind's entries
        self._per_subject: dict[str, list[str]] = {}  # subject -> its per-object reads' names
        #: read name -> objects waiting for it: one shared job per read sits in its pool's
        #: queue per object (customers are found far faster than their reads can be made)
        self._queues: dict[str, deque[str]] = {}
        self._jobs: dict[str, Callable[[], Any]] = {}
        #: api -> [per-object reads expected, done] (the ETA)
        self._calls: dict[str, list[int]] = {}
        self._on_customer: Callable[[str], None] | None = None
        #: (subject, object id) -> references resolved to it other than by its ID alone
        self._keys: dict[tuple[str, str], list[Key]] = {}
        self._records = Records()
        self._trim = trimmer(TRIM_EVERY)

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
        self, desired: DesiredState, *, on_customer: Callable[[str], None] | None = None
    ) -> LiveState:
        """Everything ``desired`` mentions. ``on_customer(customer_id)`` runs as soon as every
        per-object read of that customer is in (it may queue jobs on :meth:`pool`)."""
        # Say what is about to happen first: the rest can take hours against the real API.
        with cyclic_gc_paused():  # 200,000 entries: no full collections while they are read
            named = declared(desired)
        self.wanted = named.wants
        self._want_of = {r.name: w for w in self.wanted for s in SUBJECTS for r in w.per_object(s)}
        self._per_subject = {
            s: [r.name for w in self.wanted for r in w.per_object(s)] for s in SUBJECTS
        }
        customer_list, reseller_list = named.refs["customer"], named.refs["reseller"]
        c = self.counters
        c.customers, c.resellers = len(customer_list), len(reseller_list)
        self._expect("customer")
        self._expect("reseller")
        self.progress.line(
            f"Reading live state for {c.customers:,} customers, {c.resellers:,} resellers..."
        )
        self._on_customer = on_customer
        for want in self.wanted:
            for read in want.once():
                self._once(read)
        branches = (
            self._subject("customer", customer_list, customer_directory(self.client)),
            self._subject("reseller", reseller_list, reseller_directory(self.client)),
            self._distributor_quotas(named.quota_ids),
        )
        beat = asyncio.ensure_future(self._heartbeat()) if self.progress.heartbeat else None
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
            if beat is not None:
                beat.cancel()
            self.progress.finish()
        return self.live

    def _expect(self, subject: Subject) -> None:
        """Counts each per-object read's calls of ``subject`` (the ETA) and every read's."""
        for want in self.wanted:
            for read in want.per_object(subject):
                self._calls.setdefault(read.api, [0, 0])[0] += len(want.entries[subject])
            for counted in (*want.per_object(subject), *want.batched(subject)):
                self.counters.expect(
                    counted.name, counted.label, subject, len(want.entries[subject])
                )

    def _tick(self, api: str) -> None:
        c = self.counters
        c.calls += 1
        self._trim()
        self.meter.record(api, self.clock.time())
        self._refresh()

    def _refresh(self) -> None:
        c = self.counters
        c.eta_seconds = self._eta()
        if self.progress.heartbeat is not None:  # a display that shows what the read waits for
            waiting = self.client.waiting()
            c.waiting = "; ".join(str(w) for w in waiting) if waiting else None
        self.progress.update(c)

    async def _heartbeat(self) -> None:
        """Keep the status line current while no call finishes (a slow or failing endpoint)."""
        assert self.progress.heartbeat is not None
        while True:
            await asyncio.sleep(self.progress.heartbeat)
            self._refresh()

    def _eta(self) -> float | None:
        """Seconds left for the calls still known to be needed, at each API's measured rate
        (:func:`reconciler.plan.eta.estimate_eta`)."""
        left = {api: expected - done for api, (expected, done) in self._calls.items()}
        for api in left:
            pool = self._pools.get(api)
            left[api] += 0 if pool is None else len(pool._urgent)  # further pages
        customer_pool = self._pools.get(LIST_CUSTOMERS)
        if customer_pool is not None:
            left[LIST_CUSTOMERS] = customer_pool.queued
        nominal = {api: self.client.rate_for(api) for api in left}
        return estimate_eta(left, self.meter.samples(), nominal)

    # -- customers and resellers, and the reads of each ------------------------------------

    async def _subject(self, subject: Subject, refs: list[Ref], d: Directory[Any]) -> None:
        """Resolve ``refs`` (queuing each object's reads as it is found), then the batched
        reads of the objects found; until every read of the subject is in."""
        await self._resolve(refs, d, functools.partial(self._found, subject))
        apis = {read.api for w in self.wanted for read in w.per_object(subject)}
        for want in self.wanted:
            batched = list(want.batched(subject))
            ids = sorted(self._ids(subject, want.keys(subject))) if batched else []
            for read in batched:
                self._batched(read, ids)
                apis.add(read.api)
            if not any(want.per_object(subject)) and not want.kind.uses_agency:
                want.release(subject)  # nothing looks its entries up by reference again
        await self._join(*sorted(apis))

    def _ids(self, subject: Subject, keys: Iterable[Key]) -> set[str]:
        if subject == "reseller":
            refs = self.live.reseller_refs
            return {refs[k] for k in keys if k in refs}
        found = (self.live.customer_id(*key) for key in keys)
        return {cid for cid in found if cid is not None}

    def entries(
        self, want: Wanted, subject: Subject, oid: str, *, resolved: bool
    ) -> tuple[Any, ...]:
        """``want``'s entries naming the object ``oid`` (read): by the references resolved to it
        so far (``resolved``), or by any reference that may name it (see
        :mod:`reconciler.plan.kept`)."""
        others = self._keys.get((subject, oid), [])
        return entries_naming(self.live, want, subject, oid, others, resolved=resolved)

    def _found(self, subject: Subject, ref: Ref, obj: Any) -> None:
        if subject == "customer":
            again = obj.customer_id in self.live.customers
            oid = self._customer_found(ref, obj)
        else:
            again = obj.indirect_partner_id in self.live.resellers
            oid = self._reseller_found(ref, obj)
        reads = [
            read for w in self.wanted if w.names(subject, ref.key) for read in w.per_object(subject)
        ]
        new = []
        for read in reads:
            found = self.live.reads.setdefault(read.name, {})
            if oid in found:  # a second reference: the read made for it is not made again
                self._calls[read.api][0] -= 1
                self.counters.drop(read.name)
            else:
                found[oid] = PENDING
                new.append(read)
        for read in new:
            self._per_object(subject, oid, read)
        if not again and not new:
            self._ready(subject, oid)

    def _resolved(self, subject: Subject, ref: Ref, oid: str) -> None:
        """Remember a reference other than the object's bare ID (those are implied)."""
        if ref.key != (oid, None):
            self._keys.setdefault((subject, oid), []).append(ref.key)

    def _customer_found(self, ref: Ref, customer: Customer) -> str:
        # the manifest's string when it names the ID: one string per customer, not two
        cid = ref.ident if ref.ident == customer.customer_id else customer.customer_id
        assert cid is not None
        if ref.key != (cid, None):  # found by its ID: implied (LiveState.customer_id)
            self.live.customer_refs[ref.key] = cid
        self._resolved("customer", ref, cid)
        self.counters.customers_found += 1
        kept = self.live.customers.get(cid)
        keys = object_keys(cid, customer.account_name, self._keys.get(("customer", cid), ()))
        record = self._records.customer(customer, self.wanted, keys, kept, ref.ident, ref.name)
        self.live.customers[cid] = record
        if kept is None and record.account_manager:
            self.live.managers_seen.add(record.account_manager)
        return record.customer_id  # the first reference's string, the dict's key

    def _reseller_found(self, ref: Ref, reseller: IndirectPartner) -> str:
        rid = reseller.indirect_partner_id
        self.live.reseller_refs[ref.key] = rid
        self._resolved("reseller", ref, rid)
        self.counters.resellers_found += 1
        self.live.resellers.setdefault(rid, reseller)
        if reseller.account_manager_id:
            self.live.managers_seen.add(reseller.account_manager_id)
        return rid

    def _ready(self, subject: Subject, oid: str) -> None:
        """Every per-object read of one customer or reseller is in."""
        if subject == "customer" and self._on_customer is not None:
            self._on_customer(oid)

    def _batched(self, read: Any, ids: list[str]) -> None:
        pool = self.pool(read.api)
        found: dict[str, Any] = self.live.reads.setdefault(read.name, {})
        tally = self.counters.reads[read.name]
        tally.total = len(ids)  # the objects resolved, each once
        for start in range(0, len(ids), read.batch):

            async def job(batch: list[str] = ids[start : start + read.batch]) -> None:
                for item in await read.fetch(self.client, batch):
                    found[read.key(item)] = item
                tally.done += len(batch)
                self._tick(read.api)

            pool.submit(job)

    def _once(self, read: Any) -> None:
        async def job() -> None:
            self.live.reads[read.name] = await read.fetch(self.client)
            self._tick(read.api)

        self.pool(read.api).submit(job)

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
