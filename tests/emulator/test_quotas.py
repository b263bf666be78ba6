"""§7.8-§7.12: quota listing, issue, reclaim, the issued list and the records, with invariants."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from reconciler.emulator import DEFAULT_READONLY_AK, DEFAULT_READONLY_SK, Emulator, VirtualClock

from . import demo
from .client import Api

QUOTAS = "/v2/partners/coupon-quotas/query"
ISSUE = "/v2/partners/coupon-quotas/indirect-partner-adjust"
RECLAIM = "/v2/partners/coupon-quotas/indirect-partner-reclaim"
ISSUED = "/v2/partners/issued-coupon-quotas"
RECORDS = "/v2/partners/coupon-quotas/records"


def issue(api: Api, amount: Any, *resellers: str, quota: str = demo.QUOTA_MAIN) -> Any:
    return api.post(
        ISSUE, {"quota_id": quota, "indirect_partner_ids": list(resellers), "quota_amount": amount}
    )


def quota(emu: Emulator, quota_id: str) -> Any:
    return emu._store.state.quotas[quota_id]


def family_total(emu: Emulator, parent_id: str) -> Decimal:
    """Parent balance plus every child's balance."""
    quotas = emu._store.state.quotas.values()
    children = sum((q.balance for q in quotas if q.parent_quota_id == parent_id), Decimal(0))
    parent: Decimal = quota(emu, parent_id).balance
    return parent + children


def records(api: Api, **query: Any) -> list[dict[str, Any]]:
    reply = api.get(RECORDS, {"limit": 100, **query})
    assert reply.status == 200, reply.body
    assert reply.json["total_count"] == len(reply.json["records"])
    result: list[dict[str, Any]] = reply.json["records"]
    return result


# --- list_quota_coupons -----------------------------------------------------------------------
def test_list_own_quotas_with_exact_amounts(api: Api) -> None:
    reply = api.post(QUOTAS, {})
    assert reply.json["total_count"] == 3
    assert b'"quota_value":500000.00' in reply.body
    assert b'"balance":445000.00' in reply.body
    first = reply.json["quotas"][0]
    assert first["balance"] == Decimal("445000.00")
    assert set(first) == {
        "quota_id", "quota_type", "create_time", "last_update_time", "quota_value", "quota_status",
        "balance", "measure_id", "currency", "effective_time", "expire_time", "limit_infos",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "ids"),
    [
        ({"quota_ids": [demo.QUOTA_SECOND]}, [demo.QUOTA_SECOND]),
        ({"quota_status_list": [5]}, []),
        ({"quota_type": 1}, []),
        ({"effective_time_begin": "2025-08-01T00:00:00Z"}, [demo.QUOTA_SECOND]),
        ({"indirect_partner_id": demo.TIANFU}, [demo.CHILD_TIANFU]),
        ({"indirect_partner_id": demo.QINLING}, [demo.CHILD_QINLING]),
    ],
    ids=["ids", "status", "cash-coupon-type", "effective-after", "reseller", "reseller-2"],
)
def test_list_quota_filters(api: Api, body: dict[str, Any], ids: list[str]) -> None:
    reply = api.post(QUOTAS, body)
    assert [q["quota_id"] for q in reply.json["quotas"]] == ids


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"indirect_partner_id": "0" * 32}, "CBC.99000037"),
        ({"quota_status_list": [6]}, "CBC.0100"),
        ({"quota_ids": ["q"] * 51}, "CBC.0100"),
        ({"limit": 101}, "CBC.0100"),
        ({"create_time_begin": ""}, "CBC.0100"),
    ],
    ids=["not-our-reseller", "status-6", "51-ids", "limit", "empty-time"],
)
def test_list_quota_errors(api: Api, body: dict[str, Any], code: str) -> None:
    assert api.post(QUOTAS, body).code == code


# --- update_coupon_quotas (issue) -------------------------------------------------------------
def test_issue_creates_a_new_child_quota_per_reseller(api: Api, emu: Emulator) -> None:
    before = family_total(emu, demo.QUOTA_MAIN)
    reply = issue(api, Decimal("1200.00"), demo.TIANFU, demo.PENGCHENG)
    assert reply.status == 200
    assert reply.json["error_details"] == []
    infos = reply.json["simple_quota_infos"]
    assert [i["id"] for i in infos] == [demo.TIANFU, demo.PENGCHENG]
    assert len({i["quota_id"] for i in infos} | {demo.CHILD_TIANFU}) == 3  # new ids
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("442600.00")
    assert family_total(emu, demo.QUOTA_MAIN) == before
    child = quota(emu, infos[0]["quota_id"])
    assert (child.parent_quota_id, child.balance, child.quota_status) == (
        demo.QUOTA_MAIN,
        Decimal("1200.00"),
        0,
    )
    issued = [r for r in records(api, operation_type="10") if r["quota_id"] == child.quota_id]
    assert issued[0]["amount"] == Decimal("1200.00") and issued[0]["result"] == "0"
    assert issued[0]["operator"] == "demo-distributor"


@pytest.mark.parametrize(
    ("raw", "balance"),
    [
        (b'"1200.00"', "443800.00"),
        (b"1200.5", "443799.50"),
        (b"1200", "443800.00"),
        (b'"0.01"', "444999.99"),
    ],
    ids=["numeric-string", "number-one-decimal", "integer", "one-cent"],
)
def test_amount_as_number_or_numeric_string(
    api: Api, emu: Emulator, raw: bytes, balance: str
) -> None:
    body = b'{"quota_id": "%s", "indirect_partner_ids": ["%s"], "quota_amount": %s}' % (
        demo.QUOTA_MAIN.encode(), demo.TIANFU.encode(), raw,
    )  # fmt: skip
    assert api.request("POST", ISSUE, raw_body=body).status == 200
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal(balance)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"quota_amount": "12.345"}, "at most 2 decimal"),
        ({"quota_amount": Decimal("12.345")}, "at most 2 decimal"),
        ({"quota_amount": Decimal("12.300")}, "at most 2 decimal"),
        ({"quota_amount": 0}, "greater than 0"),
        ({"quota_amount": "-5.00"}, "greater than 0"),
        ({"quota_amount": "abc"}, "at most 2 decimal"),
        ({"quota_amount": True}, "at most 2 decimal"),
        ({"quota_amount": None}, "quota_amount is required"),
        ({"indirect_partner_ids": []}, "must not be empty"),
        ({"indirect_partner_ids": ["r"] * 101}, "more than 100"),
        ({"indirect_partner_ids": [demo.TIANFU, demo.TIANFU]}, "duplicates"),
        ({"quota_id": None}, "quota_id is required"),
        ({"quota_id": ""}, "must not be empty"),
    ],
    ids=[
        "three-decimals-string", "three-decimals-number", "trailing-zero-third-decimal", "zero",
        "negative", "not-a-number", "boolean", "missing-amount", "no-resellers", "101-resellers",
        "duplicate-reseller", "missing-quota", "empty-quota",
    ],
)  # fmt: skip
def test_issue_validation(api: Api, emu: Emulator, body: dict[str, Any], fragment: str) -> None:
    full = {
        "quota_id": demo.QUOTA_MAIN,
        "indirect_partner_ids": [demo.TIANFU],
        "quota_amount": "10.00",
    }
    reply = api.post(ISSUE, {**full, **body})
    assert (reply.status, reply.code) == (400, "CBC.0100")
    assert fragment in reply.json["error_msg"]
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("445000.00")


def test_insufficient_balance_rejects_the_whole_call(api: Api, emu: Emulator) -> None:
    count = len(records(api))
    reply = issue(api, "200000.00", demo.TIANFU, demo.QINLING, demo.PENGCHENG)
    assert (reply.status, reply.code) == (400, "CBC.99000013")
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("445000.00")
    assert len(records(api)) == count
    assert issue(api, "222500.00", demo.TIANFU, demo.QINLING).status == 200  # exactly all
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("0.00")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quota_status": 5}, "CBC.99000015"),
        ({"quota_status": 4}, "CBC.99000015"),
        ({"expire_time": "2025-12-31T00:00:00Z"}, "CBC.99000017"),
        ({"effective_time": "2026-06-01T00:00:00Z"}, "CBC.99000017"),
    ],
    ids=["frozen", "being-adjusted", "expired", "not-yet-effective"],
)
def test_parent_quota_must_be_usable(
    api: Api, emu: Emulator, change: dict[str, Any], code: str
) -> None:
    emu.set_quota(demo.QUOTA_MAIN, **change)
    reply = issue(api, "10.00", demo.TIANFU)
    assert (reply.status, reply.code) == (400, code)


def test_quota_expires_as_the_clock_moves(api: Api, emu: Emulator, clock: VirtualClock) -> None:
    clock.advance(5 * 365 * 86400)  # 2030-12-31, after 2030-06-30
    assert issue(api, "10.00", demo.TIANFU).code == "CBC.99000017"


@pytest.mark.parametrize(
    ("quota_id", "code"),
    [("9999999999999999", "CBC.99000012"), (demo.CHILD_TIANFU, "CBC.99000012")],
    ids=["unknown", "a-child-quota"],
)
def test_issue_from_a_quota_that_is_not_ours(api: Api, quota_id: str, code: str) -> None:
    assert issue(api, "10.00", demo.TIANFU, quota=quota_id).code == code


def test_a_reseller_that_is_not_ours_rejects_the_whole_call(api: Api, emu: Emulator) -> None:
    reply = issue(api, "10.00", demo.TIANFU, "0" * 32)
    assert (reply.status, reply.code) == (400, "CBC.99000037")
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("445000.00")


def test_an_exiting_reseller_fails_per_item_inside_200(emu: Emulator, api: Api) -> None:
    emu._store.state.resellers[demo.QINLING].exiting = True
    reply = issue(api, "100.00", demo.TIANFU, demo.QINLING)
    assert reply.status == 200
    assert [e["id"] for e in reply.json["error_details"]] == [demo.QINLING]
    assert reply.json["error_details"][0]["error_code"] == "CBC.50010105"
    assert [i["id"] for i in reply.json["simple_quota_infos"]] == [demo.TIANFU]
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("444900.00")
    failed = [r for r in records(api) if r["result"] == "-1"]
    assert [(r["indirect_partner_id"], r["operation_type"]) for r in failed] == [
        (demo.QINLING, "10")
    ]


def test_top_up_mode_credits_the_existing_child(clock: VirtualClock) -> None:
    from .conftest import DEMO_DOC

    doc = {**DEMO_DOC, "partner": {**DEMO_DOC["partner"], "issue_mode": "top_up"}}
    emu = Emulator(clock=clock, seed=doc)
    reply = issue(Api(emu), "500.00", demo.QINLING)
    assert reply.json["simple_quota_infos"] == [
        {"id": demo.QINLING, "quota_id": demo.CHILD_QINLING}
    ]
    child = quota(emu, demo.CHILD_QINLING)
    assert (child.quota_value, child.balance) == (Decimal("25500.00"), Decimal("19000.00"))


def test_read_only_operator_cannot_write(emu: Emulator) -> None:
    readonly = Api(emu, DEFAULT_READONLY_AK, DEFAULT_READONLY_SK)
    assert issue(readonly, "10.00", demo.TIANFU).code == "CBC.0151"
    assert readonly.post(RECLAIM, {"quota_ids": [demo.CHILD_TIANFU]}).code == "CBC.0151"
    assert readonly.post(QUOTAS, {}).status == 200


# --- reclaim_coupon_quotas --------------------------------------------------------------------
def test_reclaim_returns_the_whole_balance_to_the_parent(api: Api, emu: Emulator) -> None:
    reply = api.post(RECLAIM, {"quota_ids": [demo.CHILD_QINLING], "remark": "rebalance"})
    assert reply.status == 200
    assert reply.json == {
        "error_details": [],
        "simple_quota_infos": [{"quota_id": demo.CHILD_QINLING, "quota_balance": Decimal("0.00")}],
    }
    assert b'"quota_balance":0.00' in reply.body
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("463500.00")  # 445000 + 18500
    child = quota(emu, demo.CHILD_QINLING)
    assert (child.quota_status, child.balance, child.quota_value) == (
        6,
        Decimal("0.00"),
        Decimal("25000.00"),
    )
    last = records(api, operation_type="11")[-1]
    assert (last["quota_id"], last["amount"], last["remark"]) == (
        demo.CHILD_QINLING,
        Decimal("18500.00"),
        "rebalance",
    )
    assert last["parent_quota_id"] == demo.QUOTA_MAIN


def test_reclaim_per_item_errors_under_200(api: Api, emu: Emulator) -> None:
    reply = api.post(
        RECLAIM, {"quota_ids": [demo.CHILD_RECLAIMED, "nope", demo.QUOTA_MAIN, demo.CHILD_TIANFU]}
    )
    assert reply.status == 200
    errors = {e["id"]: e["error_code"] for e in reply.json["error_details"]}
    assert errors == dict.fromkeys([demo.CHILD_RECLAIMED, "nope", demo.QUOTA_MAIN], "CBC.99000012")
    assert [s["quota_id"] for s in reply.json["simple_quota_infos"]] == [demo.CHILD_TIANFU]


@pytest.mark.parametrize(
    "body",
    [{"quota_ids": []}, {"quota_ids": ["q"] * 11}, {}, {"quota_ids": ["q"], "remark": "r" * 257}],
    ids=["empty", "eleven", "missing", "long-remark"],
)
def test_reclaim_validation(api: Api, body: dict[str, Any]) -> None:
    assert api.post(RECLAIM, body).code == "CBC.0100"


def test_spent_value_never_comes_back(api: Api, emu: Emulator) -> None:
    start = family_total(emu, demo.QUOTA_MAIN)
    child = issue(api, "1000.00", demo.PENGCHENG).json["simple_quota_infos"][0]["quota_id"]
    assert family_total(emu, demo.QUOTA_MAIN) == start
    emu.spend_quota(child, "250.50")
    assert family_total(emu, demo.QUOTA_MAIN) == start - Decimal("250.50")
    api.post(RECLAIM, {"quota_ids": [child]})
    assert quota(emu, child).balance == Decimal("0.00")
    assert family_total(emu, demo.QUOTA_MAIN) == start - Decimal("250.50")
    assert quota(emu, demo.QUOTA_MAIN).balance == Decimal("444749.50")
    amounts = [r["amount"] for r in records(api, quota_id=child)]
    assert amounts == [Decimal("1000.00"), Decimal("749.50")]


# --- list_issued_coupon_quotas ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ({}, [demo.CHILD_TIANFU, demo.CHILD_QINLING, demo.CHILD_RECLAIMED, demo.CHILD_PENGCHENG]),
        ({"indirect_partner_id": demo.TIANFU}, [demo.CHILD_TIANFU, demo.CHILD_RECLAIMED]),
        ({"parent_quota_id": demo.QUOTA_SECOND}, [demo.CHILD_PENGCHENG]),
        ({"parent_quota_id": ""}, []),
        ({"quota_id": demo.CHILD_QINLING}, [demo.CHILD_QINLING]),
        (
            {"quota_id": ""},
            [demo.CHILD_TIANFU, demo.CHILD_QINLING, demo.CHILD_RECLAIMED, demo.CHILD_PENGCHENG],
        ),
    ],
    ids=["all", "reseller", "parent", "empty-parent-filters", "quota", "empty-quota-no-filter"],
)
def test_issued_list_filters(api: Api, query: dict[str, Any], ids: list[str]) -> None:
    reply = api.get(ISSUED, query)
    assert reply.status == 200
    assert [q["quota_id"] for q in reply.json["quotas"]] == ids
    assert reply.json["total_count"] == len(ids)


def test_issued_quota_fields(api: Api) -> None:
    first = api.get(ISSUED, {"quota_id": demo.CHILD_RECLAIMED}).json["quotas"][0]
    assert first["quota_status"] == 6
    assert first["indirect_partner_id"] == demo.TIANFU
    assert first["indirect_partner_account_name"] == "tianfu-cloud"
    assert first["indirect_partner_name"] == "Chengdu Tianfu Cloud Services Co., Ltd."
    assert first["parent_quota_id"] == demo.QUOTA_MAIN
    assert first["balance"] == Decimal("0.00")


def test_issued_list_paging(api: Api) -> None:
    pages = [api.get(ISSUED, {"offset": o, "limit": 3}).json for o in (0, 3)]
    assert [len(p["quotas"]) for p in pages] == [3, 1]
    assert all(p["total_count"] == 4 for p in pages)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"indirect_partner_id": "0" * 32}, "CBC.99000037"),
        ({"limit": 101}, "CBC.0100"),
        ({"limit": 0}, "CBC.0100"),
        ({"offset": -1}, "CBC.0100"),
        ({"limit": "ten"}, "CBC.0100"),
    ],
    ids=["not-our-reseller", "limit-101", "limit-0", "negative-offset", "limit-text"],
)
def test_issued_list_errors(api: Api, query: dict[str, Any], code: str) -> None:
    assert api.get(ISSUED, query).code == code


# --- list_coupon_quotas_records ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({}, 5),
        ({"operation_type": "11"}, 1),
        ({"operation_type": "10"}, 4),
        ({"operation_type": "99"}, 5),
        ({"indirect_partner_id": demo.TIANFU}, 3),
        ({"quota_id": demo.CHILD_RECLAIMED}, 2),
        ({"parent_quota_id": demo.QUOTA_SECOND}, 1),
        ({"parent_quota_id": ""}, 0),
        ({"operation_time_begin": "2025-09-11T03:05:09Z"}, 2),
        ({"operation_time_end": "2025-09-11T03:05:09Z"}, 2),
    ],
    ids=[
        "all", "reclaims", "issues", "other-type-ignored", "reseller", "quota", "parent",
        "empty-parent-filters", "begin-is-strict", "end-is-strict",
    ],
)  # fmt: skip
def test_record_filters(api: Api, query: dict[str, Any], count: int) -> None:
    assert len(records(api, **query)) == count


@pytest.mark.parametrize(
    "query",
    [
        {"operation_time_begin": ""},
        {"operation_time_end": "2025-09-11"},
        {"operation_time_begin": "2025-13-11T03:05:09Z"},
        {"operation_type": "123456789"},
        {"limit": 101},
    ],
    ids=["empty-begin", "date-only", "bad-month", "type-too-long", "limit"],
)
def test_record_query_errors(api: Api, query: dict[str, Any]) -> None:
    assert api.get(RECORDS, query).code == "CBC.0100"


def test_records_are_in_time_order_with_unique_ids(api: Api) -> None:
    issue(api, "10.00", demo.TIANFU, demo.PENGCHENG)
    api.post(RECLAIM, {"quota_ids": [demo.CHILD_TIANFU]})
    found = records(api)
    times = [r["operation_time"] for r in found]
    assert times == sorted(times)
    assert len({r["id"] for r in found}) == len(found) == 8


def test_customer_and_repeated_query_params(api: Api) -> None:
    reply = api.get(RECORDS, [("quota_id", "a"), ("quota_id", "b")])
    assert reply.code == "CBC.0100"
    assert api.as_customer(demo.XINGHE).get(RECORDS).code == "CBC.0151"
