# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Walking every page: offsets, de-duplication, and the stop conditions."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from reconciler.emulator.clock import VirtualClock
from reconciler.errors import IncompleteListingError

from .fakes import FakeBss, make_client, reply

CUSTOMERS = "/v2/partners/sub-customers/query"
RESOURCES = "/v2/orders/suscriptions/resources/query"
ISSUED = "/v2/partners/issued-coupon-quotas"


class Pager:
    """Serves ``rows`` by offset/limit; ``overrides`` replace the page at an offset."""

    def __init__(self, rows, items_key, total_key, *, total=None, overrides=None, in_body=True):
        self.rows = rows
        self.items_key = items_key
        self.total_key = total_key
        self.total = len(rows) if total is None else total
        self.overrides = overrides or {}
        self.in_body = in_body
        self.asked: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.in_body:
            params = json.loads(request.content)
        else:
            params = {k: int(v) for k, v in request.url.params.items() if k in ("offset", "limit")}
        offset, limit = params["offset"], params["limit"]
        self.asked.append((offset, limit))
        page = self.overrides.get(offset, self.rows[offset : offset + limit])
        body = {self.items_key: page}
        if self.total >= 0:
            body[self.total_key] = self.total
        return reply(200, body)


def _collect(path, method, pager, iterate, latency=0.02):
    clock = VirtualClock()
    fake = FakeBss(clock, latency=latency)
    fake.on(method, path, pager)

    async def main():
        async with make_client(fake) as client:
            return [item async for item in iterate(client)]

    return clock.run(main()), clock


def _customers(n):
    return [{"customer_id": f"c{i:04d}", "account_name": f"acct{i}"} for i in range(n)]


def test_all_pages_in_order_with_prefetch():
    pager = Pager(_customers(250), "customer_infos", "count")
    items, _ = _collect(CUSTOMERS, "POST", pager, lambda c: c.iter_sub_customers())
    assert [c.customer_id for c in items] == [f"c{i:04d}" for i in range(250)]
    assert sorted(pager.asked) == [(0, 100), (100, 100), (200, 100)]


def test_duplicates_across_pages_are_dropped_and_the_item_a_shift_hid_fails_closed():
    rows = _customers(200)
    # After the first page, an insert upstream shifted the window by one: the second page
    # repeats c0099, the total is 201, and the inserted customer was never on a page read.
    inserted = [{"customer_id": "c-new", "account_name": "new"}, *rows]
    pager = Pager(inserted, "customer_infos", "count", overrides={0: rows[:100]})
    seen = []

    async def iterate(client):
        async for item in client.iter_sub_customers(prefetch=1):
            seen.append(item.customer_id)
            yield item

    with pytest.raises(IncompleteListingError, match="returned 200 of the 201 items"):
        _collect(CUSTOMERS, "POST", pager, iterate)
    assert len(seen) == len(set(seen)) == 200
    assert seen.count("c0099") == 1 and "c-new" not in seen


def test_stops_when_total_reached():
    pager = Pager(_customers(200), "customer_infos", "count")
    items, _ = _collect(CUSTOMERS, "POST", pager, lambda c: c.iter_sub_customers(prefetch=1))
    assert len(items) == 200
    assert pager.asked == [(0, 100), (100, 100)]


def test_a_listing_short_of_its_own_total_fails_closed():
    pager = Pager(_customers(150), "customer_infos", "count", total=1000)
    with pytest.raises(IncompleteListingError) as err:
        _collect(CUSTOMERS, "POST", pager, lambda c: c.iter_sub_customers(prefetch=1))
    assert pager.asked == [(n * 100, 100) for n in range(10)]  # every page up to the total
    assert str(err.value).startswith(
        "POST /v2/partners/sub-customers/query (list_sub_customers) returned 150 of the 1000 "
        "items its own total announces: its pages ran short of it while the total stayed the same"
    )


class Clamping(Pager):
    """An API that clamps the page size to ``most`` instead of refusing a larger limit."""

    def __init__(self, rows, most, **kw):
        super().__init__(rows, "customer_infos", "count", **kw)
        self.most = most

    def __call__(self, request):
        params = json.loads(request.content)
        offset, limit = params["offset"], params["limit"]
        self.asked.append((offset, limit))
        return reply(200, {"customer_infos": self.rows[offset : offset + min(limit, self.most)],
                           "count": self.total})  # fmt: skip


@pytest.mark.parametrize("prefetch", [1, 4])
def test_a_clamped_page_size_is_named_and_fails_closed(prefetch):
    pager = Clamping(_customers(150), 50)
    with pytest.raises(IncompleteListingError) as err:
        _collect(CUSTOMERS, "POST", pager, lambda c: c.iter_sub_customers(prefetch=prefetch))
    assert "returned 100 of the 150 items" in str(err.value)
    assert "served at most 50 items per page although limit=100 was asked" in str(err.value)
    assert "(it clamped the page size)" in str(err.value)


def test_a_clamped_first_page_fails_closed_too():
    pager = Clamping(_customers(80), 50)
    with pytest.raises(IncompleteListingError, match="returned 50 of the 80 items"):
        _collect(CUSTOMERS, "POST", pager, lambda c: c.iter_sub_customers())
    assert pager.asked == [(0, 100)]


def test_a_listing_whose_set_changed_says_so():
    rows = _customers(200)
    pager = Pager(rows, "customer_infos", "count", overrides={100: rows[110:200]})

    def moving(request):  # the second page reports the total of a set that lost 10 items
        response = pager(request)
        body = json.loads(response.content)
        if body["customer_infos"] and body["customer_infos"][0]["customer_id"] == "c0110":
            body["count"] = 210
        return reply(200, body)

    with pytest.raises(IncompleteListingError, match="the set changed while it was read"):
        _collect(CUSTOMERS, "POST", moving, lambda c: c.iter_sub_customers(prefetch=1))


def test_unknown_total_pages_one_at_a_time_until_short():
    pager = Pager(_customers(230), "customer_infos", "count", total=-1)
    items, _ = _collect(CUSTOMERS, "POST", pager, lambda c: c.iter_sub_customers())
    assert len(items) == 230
    assert pager.asked == [(0, 100), (100, 100), (200, 100)]


def test_resources_page_at_most_100_and_carry_the_customer():
    rows = [
        {
            "resource_id": f"r{i}",
            "expire_policy": 3 if i % 2 else 0,
            "is_main_resource": 1,
            "status": 2,
            "service_type_code": "hws.service.type.ec2",
        }
        for i in range(150)
    ]
    pager = Pager(rows, "data", "total_count")
    items, _ = _collect(
        RESOURCES,
        "POST",
        pager,
        lambda c: c.iter_customer_resources("cust-7", page_size=100, only_main_resource=1),
    )
    assert len(items) == 150
    assert {r.customer_id for r in items} == {"cust-7"}
    assert sum(r.auto_renew for r in items) == 75
    assert items[0].is_main_resource
    assert pager.asked == [(0, 100), (100, 100)]


def test_issued_quotas_via_get_paging():
    rows = [
        {
            "quota_id": f"q{i}",
            "parent_quota_id": "p-1",
            "balance": "1.10",
            "quota_value": 5,
            "quota_status": 0,
        }
        for i in range(120)
    ]
    pager = Pager(rows, "quotas", "total_count", in_body=False)

    async def collect(c):
        return await c.all_issued_coupon_quotas(indirect_partner_id="ip-1")

    clock = VirtualClock()
    fake = FakeBss(clock)
    fake.on("GET", ISSUED, pager)

    async def main():
        async with make_client(fake) as client:
            return await collect(client)

    items = clock.run(main())
    assert len(items) == 120
    assert items[0].balance == Decimal("1.10") and items[0].quota_value == Decimal("5.00")
    assert all(s.query.startswith(b"indirect_partner_id=ip-1&limit=100&offset=") for s in fake.seen)


def test_breaking_out_early_cancels_prefetched_pages():
    pager = Pager(_customers(1000), "customer_infos", "count")
    clock = VirtualClock()
    fake = FakeBss(clock, latency=0.5)
    fake.on("POST", CUSTOMERS, pager)

    async def main():
        async with make_client(fake) as client:
            walker = client.iter_sub_customers(prefetch=3)
            first = [item async for item in _take(walker, 150)]
            await walker.aclose()  # type: ignore[attr-defined]
            return first

    items = clock.run(main())
    assert len(items) == 150
    assert len(pager.asked) <= 4


async def _take(iterator, n):
    count = 0
    async for item in iterator:
        yield item
        count += 1
        if count == n:
            return


@pytest.mark.parametrize("page_size", [0, 101])
def test_page_size_validated(page_size):
    clock = VirtualClock()
    fake = FakeBss(clock)
    client = make_client(fake)
    with pytest.raises(ValueError, match="limit"):
        client.iter_sub_customers(page_size=page_size)
    clock.run(client.aclose())
