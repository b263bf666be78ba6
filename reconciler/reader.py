"""Read the live state the manifests mention, with the fewest calls.

* Customers and resellers named in manifests are resolved either by one targeted query each
  (``customer_id`` / ``indirect_partner_id`` exact filters, ``account_name`` fuzzy filter then an
  exact match) or by listing every page, whichever costs fewer calls. The first listing page
  tells the total, so the choice is made with numbers, not guessed.
* Resources are read per customer in scope (``only_main_resource=1``), issued quotas per reseller,
  and distributor quotas by id, 50 per call.
* Independent reads run concurrently: each API has its own pacer in the client, and a pool of
  workers per API keeps its pacer busy. The pool size follows from the API's rate and a latency
  allowance (Little's law: in flight = rate x latency), not from a fixed knob.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.kinds.base import LiveState

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner, Page
    from reconciler.desired import CustomerRef, DesiredState, ResellerRef

T = TypeVar("T")
R = TypeVar("R")

PAGE = 100
#: Fewer references than this are always resolved one by one, without a probe page.
PROBE_THRESHOLD = 4
#: Seconds of latency the worker pools are sized for (p99 of the API is well below).
LATENCY_ALLOWANCE = 2.0
QUOTA_IDS_PER_CALL = 50


async def pool_map(items: Iterable[T], fn: Callable[[T], Awaitable[R]], workers: int) -> list[R]:
    """``fn`` over ``items`` with at most ``workers`` in flight; results in input order."""
    todo = list(enumerate(items))
    results: list[R | None] = [None] * len(todo)
    it = iter(todo)

    async def worker() -> None:
        for index, item in it:
            results[index] = await fn(item)

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(todo))))))
    return results  # type: ignore[return-value]


def workers_for(rate: float) -> int:
    return max(2, math.ceil(rate * LATENCY_ALLOWANCE))


@dataclass(frozen=True)
class _Ref:
    ident: str | None
    name: str | None
    source: SourcePosition
    text: str


@dataclass
class _Directory(Generic[T]):
    """How to find one object type: by id, by name, or by listing every page."""

    what: str
    id_of: Callable[[T], str]
    name_of: Callable[[T], str | None]
    by_id: Callable[[str], Awaitable[Page[T]]]
    by_name: Callable[[str], Awaitable[Page[T]]]
    page: Callable[[int], Awaitable[Page[T]]]
    hint: str


class Reader:
    """Scoped, concurrent reads of the live partner account."""

    def __init__(self, client: BssClient) -> None:
        self.client = client
        self.live = LiveState()
        self.problems: list[ManifestProblem] = []

    async def read(self, desired: DesiredState) -> LiveState:
        customer_refs = _refs_customers(desired)
        reseller_refs = _refs_resellers(desired)
        renew_ids = {(r.customer.customer_id, r.customer.account_name) for r in desired.auto_renew}
        await asyncio.gather(
            self._customers_then_resources(customer_refs, renew_ids),
            self._resellers_then_quotas(reseller_refs),
            self._distributor_quotas(sorted({q.distributor_quota_id for q in desired.quotas})),
        )
        return self.live

    # -- customers and their resources -----------------------------------------------------

    async def _customers_then_resources(
        self, refs: list[_Ref], renew: set[tuple[str | None, str | None]]
    ) -> None:
        found = await self._resolve(refs, self._customer_directory())
        for ref, customer in found.items():
            self.live.customer_refs[(ref.ident, ref.name)] = customer.customer_id
            self.live.customers[customer.customer_id] = customer
        for customer in self.live.customers.values():
            if customer.account_manager:
                self.live.managers_seen.add(customer.account_manager)
        ids = sorted({self.live.customer_refs[k] for k in renew if k in self.live.customer_refs})
        rate = self.client.rate_for("list_pay_per_use_customer_resources")
        lists = await pool_map(ids, self._resources, workers_for(rate))
        for cid, resources in zip(ids, lists, strict=True):
            self.live.resources[cid] = resources

    async def _resources(self, customer_id: str) -> list:  # type: ignore[type-arg]
        return [
            r
            async for r in self.client.iter_customer_resources(customer_id, only_main_resource=1)
            if r.is_main_resource
        ]

    def _customer_directory(self) -> _Directory[Customer]:
        c = self.client
        return _Directory(
            what="customer",
            id_of=lambda x: x.customer_id,
            name_of=lambda x: x.account_name,
            by_id=lambda v: c.list_sub_customers(customer_id=v, limit=PAGE),
            by_name=lambda v: c.list_sub_customers(account_name=v, limit=PAGE),
            page=lambda offset: c.list_sub_customers(offset=offset, limit=PAGE),
            hint="`reconciler export --kind account-manager` lists your customers",
        )

    # -- resellers and their quotas --------------------------------------------------------

    async def _resellers_then_quotas(self, refs: list[_Ref]) -> None:
        found = await self._resolve(refs, self._reseller_directory())
        for ref, reseller in found.items():
            rid = reseller.indirect_partner_id
            self.live.reseller_refs[(ref.ident, ref.name)] = rid
            self.live.resellers[rid] = reseller
        ids = sorted(self.live.resellers)
        rate = self.client.rate_for("list_issued_coupon_quotas")
        lists = await pool_map(
            ids,
            lambda rid: self.client.all_issued_coupon_quotas(indirect_partner_id=rid),
            workers_for(rate),
        )
        for rid, quotas in zip(ids, lists, strict=True):
            self.live.issued[rid] = quotas

    def _reseller_directory(self) -> _Directory[IndirectPartner]:
        c = self.client
        return _Directory(
            what="reseller",
            id_of=lambda x: x.indirect_partner_id,
            name_of=lambda x: x.account_name,
            by_id=lambda v: c.list_indirect_partners(indirect_partner_id=v, limit=PAGE),
            by_name=lambda v: c.list_indirect_partners(account_name=v, limit=PAGE),
            page=lambda offset: c.list_indirect_partners(offset=offset, limit=PAGE),
            hint="`reconciler export --kind reseller-quota` lists your resellers",
        )

    async def _distributor_quotas(self, quota_ids: Sequence[str]) -> None:
        for start in range(0, len(quota_ids), QUOTA_IDS_PER_CALL):
            batch = list(quota_ids[start : start + QUOTA_IDS_PER_CALL])
            async for quota in self.client.iter_quota_coupons(quota_ids=batch):
                self.live.distributor_quotas[quota.quota_id] = quota

    # -- resolution ------------------------------------------------------------------------

    async def _resolve(self, refs: list[_Ref], d: _Directory[T]) -> dict[_Ref, T]:
        """Each reference -> its object; unknown ones become problems."""
        if not refs:
            return {}
        found: dict[_Ref, T] = {}
        pending = list(refs)
        if len(refs) >= PROBE_THRESHOLD:
            first = await d.page(0)
            pending = _match(pending, first.items, d, found)
            pages_left = max(0, math.ceil(first.total / PAGE) - 1)
            if pending and pages_left <= _targeted_cost(pending):
                offsets = [PAGE * (n + 1) for n in range(pages_left)]
                pages = await pool_map(offsets, d.page, workers_for(10.0))
                for page in pages:
                    pending = _match(pending, page.items, d, found)
                self._unknown(pending, d)
                return found
        lookups = await pool_map(pending, lambda r: _lookup(r, d), workers_for(10.0))
        for ref, obj in zip(pending, lookups, strict=True):
            if obj is None:
                self._unknown([ref], d)
            else:
                found[ref] = obj
        return found

    def _unknown(self, refs: Iterable[_Ref], d: _Directory[T]) -> None:
        for ref in refs:
            if d.what == "customer":
                key = "customerId" if ref.ident else "customer"
            else:
                key = "resellerId" if ref.ident else "reseller"
            self.problems.append(
                ManifestProblem(
                    ref.source,
                    key,
                    f"no {d.what} {ref.ident or ref.name!r} in the partner account ({d.hint})",
                )
            )


def _targeted_cost(refs: Sequence[_Ref]) -> int:
    return len(refs)


def _match(
    pending: list[_Ref], items: Iterable[T], d: _Directory[T], found: dict[_Ref, T]
) -> list[_Ref]:
    by_id: dict[str, T] = {}
    by_name: dict[str, T] = {}
    for item in items:
        by_id[d.id_of(item)] = item
        name = d.name_of(item)
        if name:
            by_name[name] = item
    rest = []
    for ref in pending:
        obj = by_id.get(ref.ident) if ref.ident else by_name.get(ref.name or "")
        if obj is None:
            rest.append(ref)
        else:
            found[ref] = obj
    return rest


async def _lookup(ref: _Ref, d: _Directory[T]) -> T | None:
    if ref.ident:
        page = await d.by_id(ref.ident)
        return next((x for x in page.items if d.id_of(x) == ref.ident), None)
    name = ref.name or ""
    if not name or " " in name:
        return None
    page = await d.by_name(name)
    return next((x for x in page.items if d.name_of(x) == name), None)


def _refs_customers(desired: DesiredState) -> list[_Ref]:
    seen: dict[tuple[str | None, str | None], _Ref] = {}
    refs: list[CustomerRef] = [a.customer for a in desired.managers]
    refs += [r.customer for r in desired.auto_renew]
    for ref in refs:
        key = (ref.customer_id, ref.account_name)
        seen.setdefault(key, _Ref(ref.customer_id, ref.account_name, ref.source, ref.text))
    return list(seen.values())


def _refs_resellers(desired: DesiredState) -> list[_Ref]:
    seen: dict[tuple[str | None, str | None], _Ref] = {}
    refs: list[ResellerRef] = [q.reseller for q in desired.quotas]
    for ref in refs:
        key = (ref.reseller_id, ref.account_name)
        seen.setdefault(key, _Ref(ref.reseller_id, ref.account_name, ref.source, ref.text))
    return list(seen.values())


async def _aiter_list(it: AsyncIterator[T]) -> list[T]:
    return [x async for x in it]
