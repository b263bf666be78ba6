"""Customer coupons through the client (§7.13-§7.16), in both modes: issue, reclaim, the issued list
and the records, with the documented errors. The emulator's state is the judge of what moved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import (
    BssClient,
    CouponIssueResult,
    CouponLimit,
    CouponReclaimResult,
    CouponRecord,
    PartnerCoupon,
)
from reconciler.errors import ApiError, AuthError
from tests.emulator import demo

from .harness import Contract, paging, readonly_credentials

D = Decimal
Action = Callable[[BssClient], Awaitable[Any]]
SEEDED_XINGHE = PartnerCoupon(
    coupon_id=demo.COUPON_XINGHE_ECS,
    customer_id=demo.XINGHE,
    status=2,
    coupon_type=1,
    face_value=D("1500.00"),
    balance=D("1500.00"),
    effective_time="2025-12-01T00:00:00Z",
    expire_time="2028-11-30T15:59:59Z",
    create_time="2025-12-01T02:00:00Z",
    last_used_time=None,
    measure_id=1,
    use_limits=(CouponLimit("cloud_service_types", "hws.service.type.ec2", ""),),
)


def quota_balance(contract: Contract, quota_id: str = demo.QUOTA_COUPONS) -> Decimal:
    return D(contract.control.state()["quotas"][quota_id]["balance"])


def coupon_state(contract: Contract, coupon_id: str) -> dict[str, Any]:
    found: dict[str, Any] = contract.control.state()["coupons"][coupon_id]
    return found


def test_issue_list_and_record(contract: Contract) -> None:
    async def scenario(c: BssClient) -> tuple[CouponIssueResult, list[PartnerCoupon], list[Any]]:
        result = await c.create_partner_coupons(
            demo.QUOTA_COUPONS, [demo.XINGHE, demo.HAINA], D("88.80"),
            expire_time="2027-06-30T15:59:59Z", cloud_service_types=["hws.service.type.rds"],
            memo="contract test",
        )  # fmt: skip
        ids = list(result.successes.values())
        listed = [c async for c in c.iter_issued_partner_coupons(status=2) if c.coupon_id in ids]
        records = await c.all_partner_coupons_record(coupon_ids=ids, operation_types=["1"])
        return result, listed, records

    result, listed, records = contract.call(scenario)
    assert set(result.successes) == {demo.XINGHE, demo.HAINA}
    assert (result.failures, result.unaccounted) == ((), ())
    assert quota_balance(contract) == D("90050.00") - 2 * D("88.80")
    for coupon in listed:
        assert (coupon.face_value, coupon.balance, coupon.usable) == (D("88.80"), D("88.80"), True)
        assert (coupon.effective_time, coupon.expire_time) == (
            "2025-06-01T00:00:00Z",
            "2027-06-30T15:59:59Z",
        )
        assert coupon.use_limits == (
            CouponLimit("cloud_service_types", "hws.service.type.rds", ""),
        )
    assert sorted((r.customer_id, r.operation_amount, r.result) for r in records) == sorted(
        [(demo.XINGHE, D("88.80"), "0"), (demo.HAINA, D("88.80"), "0")]
    )
    assert all(r.quota_id == demo.QUOTA_COUPONS and r.quota_type == 0 for r in records)
    (logged,) = contract.control.calls("create_partner_coupons")
    assert logged["body"] == (
        f'{{"quota_id": "{demo.QUOTA_COUPONS}", "customer_ids": ["{demo.XINGHE}", '
        f'"{demo.HAINA}"], "face_value": 88.80, "expire_time": "2027-06-30T15:59:59Z", '
        '"cloud_service_types": ["hws.service.type.rds"], "memo": "contract test"}'
    )


def test_per_customer_failures_are_returned_not_raised(contract: Contract) -> None:
    result = contract.call(
        lambda c: c.create_partner_coupons(
            demo.QUOTA_COUPONS, [demo.XINGHE, demo.MINGYUAN, demo.SHU_BROCADE, demo.HUAXIA],
            D("90050.00"),
        )
    )  # fmt: skip
    assert list(result.successes) == [demo.XINGHE]
    assert [(f.id, f.error_code) for f in result.failures] == [
        (demo.MINGYUAN, "CBC.99000014"),
        (demo.SHU_BROCADE, "CBC.99000035"),
        (demo.HUAXIA, "CBC.99000013"),
    ]
    assert quota_balance(contract) == D("0.00")
    assert contract.statuses("create_partner_coupons") == [200]


ISSUE_ERRORS = [
    pytest.param(None, {"quota_id": "0" * 16}, "CBC.99000012", id="unknown-quota"),
    pytest.param({"quota_status": 5}, {}, "CBC.99000012", id="frozen-quota"),
    pytest.param({"expire_time": "2025-12-31T15:59:59Z"}, {}, "CBC.99000017", id="expired-quota"),
    pytest.param(None, {"quota_id": demo.QUOTA_SECOND,
                        "cloud_service_types": ["hws.service.type.obs"]},
                 "CBC.99000023", id="restriction-beyond-the-quota"),
    pytest.param(None, {"indirect_partner_id": "0" * 32}, "CBC.99000037", id="not-our-reseller"),
    pytest.param(None, {"valid_time": "2025-01-01T00:00:00Z"}, "CBC.0100",
                 id="valid-before-the-quota"),
]  # fmt: skip


@pytest.mark.parametrize(("patch", "options", "code"), ISSUE_ERRORS)
def test_issue_refusals_raise_and_move_nothing(
    contract: Contract, patch: dict[str, Any] | None, options: dict[str, Any], code: str
) -> None:
    if patch:
        contract.control.set_quota(demo.QUOTA_COUPONS, **patch)
    before = contract.control.state()
    options = dict(options)  # the parametrisation's dict is shared by both modes
    quota_id = options.pop("quota_id", demo.QUOTA_COUPONS)
    with pytest.raises(ApiError) as info:
        contract.call(lambda c: c.create_partner_coupons(quota_id, [demo.XINGHE], D("1.00"),
                                                         **options))  # fmt: skip
    assert (type(info.value), info.value.status, info.value.error_code) == (ApiError, 400, code)
    (logged,) = contract.control.calls("create_partner_coupons")  # never retried
    assert info.value.request_id == logged["request_id"]
    after = contract.control.state()
    assert (after["quotas"], after["coupons"]) == (before["quotas"], before["coupons"])


CLIENT_SIDE = [
    pytest.param([demo.XINGHE], 1.5, {}, TypeError, id="float-face-value"),
    pytest.param([demo.XINGHE], D("1.005"), {}, ValueError, id="three-decimals"),
    pytest.param([demo.XINGHE], D("0"), {}, ValueError, id="zero"),
    pytest.param([], D("1.00"), {}, ValueError, id="no-customers"),
    pytest.param([f"c{n}" for n in range(101)], D("1.00"), {}, ValueError, id="101-customers"),
    pytest.param([demo.XINGHE] * 2, D("1.00"), {}, ValueError, id="duplicates"),
    pytest.param(demo.XINGHE, D("1.00"), {}, TypeError, id="a-string-not-a-list"),
    pytest.param([demo.XINGHE], D("1.00"), {"valid_time": "2026-01-01"}, ValueError,
                 id="bad-time"),
    pytest.param([demo.XINGHE], D("1.00"), {"product_ids": [f"p{n}" for n in range(11)]},
                 ValueError, id="11-products"),
    pytest.param([demo.XINGHE], D("1.00"), {"memo": "m" * 257}, ValueError, id="long-memo"),
]  # fmt: skip


@pytest.mark.parametrize(("customers", "face", "options", "error"), CLIENT_SIDE)
def test_bad_issue_arguments_never_leave_the_client(
    contract: Contract, customers: Any, face: Any, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        contract.call(lambda c: c.create_partner_coupons(demo.QUOTA_COUPONS, customers, face,
                                                         **options))  # fmt: skip
    assert contract.control.calls() == []


def test_reclaim_then_reclaim_again(contract: Contract) -> None:
    async def twice(c: BssClient) -> tuple[CouponReclaimResult, CouponReclaimResult]:
        return (
            await c.reclaim_partner_coupons(demo.COUPON_XINGHE),
            await c.reclaim_partner_coupons(demo.COUPON_XINGHE),
        )

    first, second = contract.call(twice)
    assert first == CouponReclaimResult(demo.COUPON_XINGHE)
    assert first.reclaimed and not second.reclaimed
    assert second.failure is not None
    assert (second.failure.id, second.failure.error_code) == (demo.COUPON_XINGHE, "CBC.99000048")
    assert quota_balance(contract) == D("90050.00") + D("3200.00")
    assert (coupon_state(contract, demo.COUPON_XINGHE)["status"]) == 5
    assert contract.statuses("reclaim_partner_coupons") == [204, 200]
    records = contract.call(
        lambda c: c.all_partner_coupons_record(
            coupon_ids=[demo.COUPON_XINGHE], operation_types=["2"]
        )
    )
    assert [(r.operation_amount, r.result) for r in records] == [
        (D("3200.00"), "0"),
        (D("0.00"), "-1"),  # nothing was left to reclaim
    ]


@pytest.mark.parametrize(
    "coupon_id",
    [demo.COUPON_USED, demo.COUPON_EXPIRED, demo.COUPON_RECLAIMED],
    ids=["used", "expired", "reclaimed"],
)
def test_only_usable_coupons_are_reclaimed(contract: Contract, coupon_id: str) -> None:
    result = contract.call(lambda c: c.reclaim_partner_coupons(coupon_id))
    assert result.failure is not None and result.failure.error_code == "CBC.99000048"
    assert quota_balance(contract) == D("90050.00")


@pytest.mark.parametrize(
    ("coupon_id", "reseller", "code"),
    [
        ("CP" + "0" * 20, None, "CBC.0100"),
        (demo.COUPON_HUAXIA, "0" * 32, "CBC.99000037"),
        (demo.COUPON_HUAXIA, demo.TIANFU, "CBC.0100"),
    ],
    ids=["unknown-coupon", "not-our-reseller", "not-that-resellers"],
)
def test_reclaim_refusals_raise(
    contract: Contract, coupon_id: str, reseller: str | None, code: str
) -> None:
    with pytest.raises(ApiError) as info:
        contract.call(lambda c: c.reclaim_partner_coupons(coupon_id, indirect_partner_id=reseller))
    assert (info.value.status, info.value.error_code) == (400, code)
    assert coupon_state(contract, demo.COUPON_HUAXIA)["status"] == 2


def test_acting_for_a_reseller(contract: Contract) -> None:
    async def scenario(c: BssClient) -> tuple[str, list[PartnerCoupon], CouponReclaimResult]:
        issued = await c.create_partner_coupons(
            demo.CHILD_TIANFU, [demo.SHU_BROCADE], D("600.00"), indirect_partner_id=demo.TIANFU
        )
        coupon_id = issued.successes[demo.SHU_BROCADE]
        theirs = await c.all_issued_partner_coupons(indirect_partner_id=demo.TIANFU)
        done = await c.reclaim_partner_coupons(coupon_id, indirect_partner_id=demo.TIANFU)
        return coupon_id, theirs, done

    coupon_id, theirs, done = contract.call(scenario)
    assert [c.coupon_id for c in theirs] == [coupon_id]
    assert done.reclaimed
    assert quota_balance(contract, demo.CHILD_TIANFU) == D("30000.00")
    ours = contract.call(lambda c: c.all_issued_partner_coupons(customer_id=demo.SHU_BROCADE))
    assert ours == []


def test_the_issued_list_is_typed_and_paged(contract: Contract) -> None:
    walked = contract.call(lambda c: c.all_issued_partner_coupons(page_size=4))
    assert len(walked) == 6
    assert walked[-1] == SEEDED_XINGHE
    assert {c.status for c in walked} == {2, 3, 4, 5}
    assert sorted(paging(c) for c in contract.control.calls("list_issued_partner_coupons")) == [
        (0, 4),
        (4, 4),
    ]


RECORD_QUERIES = [
    pytest.param({"operation_types": ["2", "4"]},
                 [("2", demo.COUPON_RECLAIMED), ("4", demo.COUPON_EXPIRED)], id="types"),
    pytest.param({"coupon_ids": [demo.COUPON_EXPIRED, demo.COUPON_RECLAIMED],
                  "operation_time_end": "2025-07-15T07:00:01Z"},
                 [("1", demo.COUPON_EXPIRED), ("1", demo.COUPON_RECLAIMED)], id="coupons-before"),
    pytest.param({"customer_id": demo.HUAXIA, "result": "0"}, [("1", demo.COUPON_HUAXIA)],
                 id="customer"),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "expected"), RECORD_QUERIES)
def test_record_filters(
    contract: Contract, filters: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    found: list[CouponRecord] = contract.call(lambda c: c.all_partner_coupons_record(**filters))
    assert sorted((r.operation_type, r.coupon_id) for r in found) == sorted(expected)


def test_readonly_operator(contract: Contract) -> None:
    client = contract.new_client(readonly_credentials())
    with pytest.raises(AuthError) as info:
        contract.run(client.create_partner_coupons(demo.QUOTA_COUPONS, [demo.XINGHE], D("1.00")))
    assert (info.value.status, info.value.error_code) == (403, "CBC.0151")
    with pytest.raises(AuthError):
        contract.run(client.reclaim_partner_coupons(demo.COUPON_XINGHE))
    assert len(contract.run(client.all_issued_partner_coupons())) == 6
    assert quota_balance(contract) == D("90050.00")


def test_a_spent_coupon_returns_only_its_rest(contract: Contract) -> None:
    contract.control.spend_coupon(demo.COUPON_HUAXIA, "1999.99")
    done = contract.call(lambda c: c.reclaim_partner_coupons(demo.COUPON_HUAXIA))
    assert done.reclaimed
    assert quota_balance(contract) == D("90050.01")
