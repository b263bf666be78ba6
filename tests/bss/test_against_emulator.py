# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Contract check: the client against the independently written in-process emulator.

The emulator verifies signatures from the raw bytes, enforces 10/s per API and models IAM, so
these tests catch any disagreement between the client and the REFERENCE that both follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, Credentials, Secret
from reconciler.emulator import (
    DEFAULT_DOMAIN_ID,
    DEFAULT_PARTNER_AK,
    DEFAULT_PARTNER_SK,
    DEFAULT_XACCOUNT_TYPE,
    DEMO_SEED_PATH,
    Emulator,
    VirtualClock,
)
from reconciler.errors import AuthError, OutcomeUnknownError


def _run(body: Callable[[BssClient, Emulator], Awaitable[Any]]) -> Any:
    clock = VirtualClock()
    emulator = Emulator(clock=clock, seed=DEMO_SEED_PATH)
    creds = Credentials(DEFAULT_PARTNER_AK, Secret(DEFAULT_PARTNER_SK), DEFAULT_DOMAIN_ID)

    async def main() -> Any:
        async with BssClient(
            "https://bss.myhuaweicloud.com",
            creds,
            transport=emulator.async_transport(),
            clock=clock,
            agency_name=DEFAULT_XACCOUNT_TYPE,
            rng_seed=1,
        ) as client:
            return await body(client, emulator)

    return clock.run(main())


def test_reads_and_quota_round_trip():
    async def body(client, _emulator):
        customers = await client.all_sub_customers()
        resellers = await client.all_indirect_partners()
        (quota, *_) = await client.all_quota_coupons()
        ids = [r.indirect_partner_id for r in resellers[:2]]
        issued = await client.update_coupon_quotas(quota.quota_id, ids, Decimal("100.10"))
        reclaimed = await client.reclaim_coupon_quotas(list(issued.successes.values()))
        records = await client.all_coupon_quotas_records(parent_quota_id=quota.quota_id)
        after = (await client.list_quota_coupons(quota_ids=[quota.quota_id])).items[0]
        return customers, issued, reclaimed, records, quota, after, client.stats()

    customers, issued, reclaimed, records, before, after, stats = _run(body)
    assert customers and all(c.customer_id for c in customers)
    assert len(issued.successes) == 2 and not issued.failures
    assert set(reclaimed.successes) == set(issued.successes.values())
    amounts = {(r.operation_type, r.amount) for r in records if r.quota_id in reclaimed.successes}
    assert amounts == {("10", Decimal("100.10")), ("11", Decimal("100.10"))}
    assert after.balance == before.balance
    assert all(s.throttled == 0 for s in stats.values())


def test_auto_renew_as_the_customer():
    async def body(client, _emulator):
        customer = (await client.all_sub_customers())[0]
        resources = await client.all_customer_resources(customer.customer_id, only_main_resource=1)
        target = resources[0]
        first = await client.cancel_auto_renewal_resources(customer.customer_id, target.resource_id)
        second = await client.cancel_auto_renewal_resources(
            customer.customer_id, target.resource_id
        )
        off = await client.all_customer_resources(customer.customer_id, only_main_resource=1)
        await client.auto_renewal_resources(customer.customer_id, target.resource_id)
        on = await client.all_customer_resources(customer.customer_id, only_main_resource=1)
        await client.set_resources_renew_config(customer.customer_id, "DEDUCTION_DATE", "3")
        policy = (
            {r.resource_id: r.auto_renew for r in off},
            {r.resource_id: r.auto_renew for r in on},
        )
        return target.resource_id, first, second, policy, client.iam_calls

    rid, first, second, (off, on), iam_calls = _run(body)
    assert (first, second) == (True, False)
    assert off[rid] is False and on[rid] is True
    assert iam_calls == 1


def test_agency_not_granted_and_lost_answer():
    async def body(client, emulator):
        denied = []
        for customer in await client.all_sub_customers():
            try:
                await client.customer_credentials(customer.customer_id)
            except AuthError as exc:
                denied.append(exc)
        (quota, *_) = await client.all_quota_coupons()
        reseller = (await client.all_indirect_partners())[0].indirect_partner_id
        emulator.add_fault(operation="update_coupon_quotas", kind="commit_then_drop")
        with pytest.raises(OutcomeUnknownError):
            await client.update_coupon_quotas(quota.quota_id, [reseller], Decimal("1.00"))
        records = await client.all_coupon_quotas_records(indirect_partner_id=reseller)
        return denied, [r for r in records if r.amount == Decimal("1.00")], client.stats()

    denied, settled, stats = _run(body)
    assert denied and "through the agency" in str(denied[0])
    assert len(settled) == 1  # the lost call did take effect, exactly once
    assert stats["update_coupon_quotas"].calls == 1


def test_pacing_keeps_the_emulator_rate_limiter_quiet():
    async def body(client, _emulator):
        await asyncio.gather(
            *(client.list_sub_customers(limit=10) for _ in range(40)),
            *(client.list_quota_coupons() for _ in range(40)),
        )
        return client.stats()

    stats = _run(body)
    assert stats["list_sub_customers"].calls == 40
    assert stats["list_sub_customers"].throttled == 0
    assert stats["list_quota_coupons"].throttled == 0
