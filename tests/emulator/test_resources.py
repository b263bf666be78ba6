"""§7.3 resources, §7.4/§7.5 auto-renew on/off, §7.6 renew settings, §7.7 manual renewal."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator import Emulator

from . import demo
from .client import Api

RESOURCES = "/v2/orders/suscriptions/resources/query"
AUTORENEW = "/v2/orders/subscriptions/resources/autorenew/"
CONFIG = "/v2/orders/subscriptions/resources/renew/config"
RENEW = "/v2/orders/subscriptions/resources/renew"


def _resources(api: Api, **body: Any) -> dict[str, Any]:
    reply = api.post(RESOURCES, {"customer_id": demo.XINGHE, "limit": 100, **body})
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json
    return result


def _policy(api: Api, resource_id: str) -> int:
    data = _resources(api, resource_ids=[resource_id])["data"]
    return int(next(r for r in data if r["resource_id"] == resource_id)["expire_policy"])


def test_partner_lists_a_customers_resources_with_attached_ones(api: Api) -> None:
    data = _resources(api)
    assert data["total_count"] == demo.XINGHE_RESOURCE_COUNT
    main = data["data"][0]
    assert main["resource_id"] == demo.XINGHE_WEB_01
    assert main["is_main_resource"] == 1
    assert "parent_resource_id" not in main
    attached = [r for r in data["data"] if r.get("parent_resource_id") == demo.XINGHE_WEB_01]
    assert {r["resource_id"] for r in attached} >= {demo.XINGHE_WEB_01_DISK}
    for sub in attached:
        assert sub["is_main_resource"] == 0
        assert sub["expire_policy"] == main["expire_policy"] == 3


def test_spec_size_is_a_bare_decimal(api: Api) -> None:
    reply = api.post(
        RESOURCES, {"customer_id": demo.XINGHE, "resource_ids": [demo.XINGHE_WEB_01_DISK]}
    )
    assert b'"spec_size":40.00' in reply.body


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ({"only_main_resource": 1}, 3),
        ({"resource_ids": [demo.XINGHE_WEB_01]}, 3),
        ({"resource_ids": [demo.XINGHE_WEB_01], "only_main_resource": 1}, 1),
        ({"resource_ids": [demo.XINGHE_WEB_01_DISK], "only_main_resource": 1}, 1),
        ({"resource_ids": []}, demo.XINGHE_RESOURCE_COUNT),
        ({"service_type_code": "hws.service.type.rds"}, 1),
        ({"service_type_code": "hws.service.type.ebs"}, 3),
        ({"status_list": [4, 5]}, 0),
        ({"status_list": []}, demo.XINGHE_RESOURCE_COUNT),
        ({"expire_time_end": "2026-12-01T15:59:59Z"}, 0),
        ({"expire_time_begin": "2026-12-01T15:59:58Z", "only_main_resource": 1}, 3),
        ({"order_id": "CS0000000000NOPE"}, 0),
    ],
    ids=[
        "only-main",
        "ids-with-attached",
        "ids-only-main",
        "sub-resource-id-still-returned",
        "empty-ids-no-filter",
        "service-type",
        "service-type-attached",
        "status-list",
        "empty-status-list",
        "expire-end-is-strict",
        "expire-begin",
        "order-id",
    ],
)
def test_resource_filters(api: Api, body: dict[str, Any], count: int) -> None:
    assert _resources(api, **body)["total_count"] == count


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "customer_id is required"),
        ({"customer_id": demo.XINGHE, "resource_ids": None}, "must not be null"),
        ({"customer_id": demo.XINGHE, "resource_ids": ["r"] * 51}, "more than 50"),
        ({"customer_id": demo.XINGHE, "service_type_code": ""}, "must not be empty"),
        ({"customer_id": demo.XINGHE, "status_list": [1]}, "status_list"),
        ({"customer_id": demo.XINGHE, "only_main_resource": 2}, "only_main_resource"),
        ({"customer_id": demo.XINGHE, "limit": 101}, "limit"),
        ({"customer_id": "huashan-tea-is-not-ours"}, "not a customer of this partner"),
    ],
    ids=[
        "partner-without-customer-id",
        "null-ids",
        "too-many-ids",
        "empty-service-type",
        "bad-status",
        "bad-only-main",
        "limit-over-100",
        "not-our-customer",
    ],
)
def test_resource_query_errors(api: Api, body: dict[str, Any], fragment: str) -> None:
    reply = api.post(RESOURCES, body)
    assert (reply.status, reply.code) == (400, "CBC.0100")
    assert fragment in reply.json["error_msg"]


def test_page_size_up_to_100_is_accepted_and_no_more(api: Api) -> None:
    """§7.3/§10.2: the real maximum is unknown; the emulator is never more permissive than the
    REFERENCE's "keep <= 100"."""
    assert api.post(RESOURCES, {"customer_id": demo.XINGHE, "limit": 100}).status == 200
    refused = api.post(RESOURCES, {"customer_id": demo.XINGHE, "limit": 101})
    assert (refused.status, refused.code) == (400, "CBC.0100")


def test_paging_resources(api: Api) -> None:
    pages = [_resources(api, offset=o, limit=3)["data"] for o in (0, 3, 6)]
    ids = [r["resource_id"] for page in pages for r in page]
    assert len(ids) == len(set(ids)) == demo.XINGHE_RESOURCE_COUNT


def test_a_customer_lists_its_own_resources_whatever_customer_id_says(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    reply = customer.post(RESOURCES, {"customer_id": demo.HUAXIA, "limit": 100})
    assert reply.status == 200
    assert reply.json["total_count"] == demo.XINGHE_RESOURCE_COUNT


def test_enable_and_cancel_auto_renew_with_customer_credentials(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    reply = customer.delete(AUTORENEW + demo.XINGHE_WEB_01)
    assert (reply.status, reply.body) == (204, b"")
    assert _policy(api, demo.XINGHE_WEB_01) == 0
    assert _policy(api, demo.XINGHE_WEB_01_DISK) == 0  # attached resources follow
    again = customer.delete(AUTORENEW + demo.XINGHE_WEB_01)
    assert (again.status, again.code) == (400, "CBC.99003605")
    reply = customer.post(
        AUTORENEW + demo.XINGHE_WEB_01, {"auto_renew_times": 2, "period_type": "YEAR"}
    )
    assert (reply.status, reply.body) == (204, b"")
    assert _policy(api, demo.XINGHE_WEB_01_DISK) == 3
    stored = api.emu._store.state.resources[demo.XINGHE_WEB_01]
    assert (stored.auto_renew_times, stored.period_type) == (2, "YEAR")


def test_enable_without_body_and_reenable_keeps_the_count(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    assert customer.request("POST", AUTORENEW + demo.XINGHE_WEB_01).status == 204
    stored = api.emu._store.state.resources[demo.XINGHE_WEB_01]
    stored.auto_renew_times = 5
    assert customer.post(AUTORENEW + demo.XINGHE_WEB_01, {"period_type": "MONTH"}).status == 204
    assert (stored.auto_renew_times, stored.period_type) == (5, "MONTH")


def test_partner_credentials_are_refused_on_customer_operations(api: Api) -> None:
    for method, path, body in [
        ("POST", AUTORENEW + demo.XINGHE_WEB_01, {}),
        ("DELETE", AUTORENEW + demo.XINGHE_WEB_01, None),
        ("POST", CONFIG, {"config_name": "DEDUCTION_DATE", "config_value": "3"}),
        ("POST", RENEW, {"resource_ids": [demo.XINGHE_WEB_01], "period_type": 2, "period_num": 1}),
    ]:
        reply = api.request(method, path, body=body)
        assert (reply.status, reply.code) == (403, "CBC.0151"), path
    assert _policy(api, demo.XINGHE_WEB_01) == 3


@pytest.mark.parametrize(
    ("customer_id", "resource", "method", "code"),
    [
        (demo.HUAXIA, demo.XINGHE_WEB_01, "POST", "CBC.99003012"),
        (demo.HUAXIA, demo.XINGHE_WEB_01, "DELETE", "CBC.99003012"),
        (demo.XINGHE, "no-such-resource", "POST", "CBC.99003012"),
        (demo.XINGHE, demo.XINGHE_WEB_01_DISK, "POST", "CBC.0100"),
        (demo.XINGHE, "x" * 65, "POST", "CBC.0100"),
    ],
    ids=["other-customers-resource", "other-customers-cancel", "unknown", "attached", "too-long"],
)
def test_auto_renew_errors(
    api: Api, customer_id: str, resource: str, method: str, code: str
) -> None:
    customer = api.as_customer(customer_id)
    reply = customer.request(method, AUTORENEW + resource, body={} if method == "POST" else None)
    assert (reply.status, reply.code) == (400, code)


@pytest.mark.parametrize("status", [4, 5], ids=["frozen", "expired"])
def test_frozen_or_expired_resources_refuse_auto_renew(
    api: Api, emu: Emulator, status: int
) -> None:
    emu.set_resource(demo.XINGHE_WEB_01, status=status, expire_policy=0)
    reply = api.as_customer(demo.XINGHE).post(AUTORENEW + demo.XINGHE_WEB_01, {})
    assert (reply.status, reply.code) == (400, "CBC.99003602")


@pytest.mark.parametrize(
    "body",
    [
        {"auto_renew_times": 100},
        {"auto_renew_times": -1},
        {"period_type": "WEEK"},
        {"auto_renew_times": "2"},
    ],
    ids=["times-100", "times-negative", "period-type", "times-string"],
)
def test_auto_renew_parameters_are_validated(api: Api, body: dict[str, Any]) -> None:
    reply = api.as_customer(demo.XINGHE).post(AUTORENEW + demo.XINGHE_WEB_01, body)
    assert (reply.status, reply.code) == (400, "CBC.0100")


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [
        ("DEDUCTION_DATE", "2", 200),
        ("DEDUCTION_DATE", "8", 400),
        ("EXPIRE_DATE", "-1", 200),
        ("EXPIRE_DATE", "28", 200),
        ("EXPIRE_DATE", "29", 400),
        ("CHARGE_DAY", "3", 400),
    ],
    ids=["deduction-2", "deduction-8", "expire-last-day", "expire-28", "expire-29", "bad-name"],
)
def test_renew_config(api: Api, name: str, value: str, status: int) -> None:
    reply = api.as_customer(demo.XINGHE).post(CONFIG, {"config_name": name, "config_value": value})
    assert reply.status == status
    if status == 200:
        assert reply.json == {"error_code": "CBC.0000", "error_msg": "success"}
        assert api.emu._store.state.customers[demo.XINGHE].renew_config == {name: value}
    else:
        assert reply.code == "CBC.0100"


def test_manual_renewal_with_auto_pay_extends_main_and_attached(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    body = {
        "resource_ids": [demo.XINGHE_WEB_01, "nope"],
        "period_type": 3,
        "period_num": 1,
        "is_auto_pay": 1,
    }
    reply = customer.post(RENEW, body)
    assert reply.status == 200
    assert len(reply.json["order_ids"]) == 1
    assert reply.json["order_ids"][0].startswith("CS")
    assert reply.json["fail_resource_infos"] == [
        {
            "error_code": "CBC.99003012",
            "error_msg": "The resource nope does not exist.",
            "resource_id": "nope",
        }
    ]
    data = {r["resource_id"]: r for r in _resources(api)["data"]}
    assert data[demo.XINGHE_WEB_01]["expire_time"] == "2028-03-14T15:59:59Z"
    assert data[demo.XINGHE_WEB_01_DISK]["expire_time"] == "2028-03-14T15:59:59Z"
    assert data[demo.XINGHE_WEB_01]["expire_policy"] == 3  # renewal leaves the policy alone


def test_manual_renewal_without_auto_pay_changes_nothing(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    reply = customer.post(
        RENEW, {"resource_ids": [demo.XINGHE_WEB_01], "period_type": 2, "period_num": 1}
    )
    assert reply.status == 200 and len(reply.json["order_ids"]) == 1
    assert _resources(api, resource_ids=[demo.XINGHE_WEB_01])["data"][0]["expire_time"] == (
        "2027-03-14T15:59:59Z"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"resource_ids": [], "period_type": 2, "period_num": 1},
        {"resource_ids": ["a"] * 11, "period_type": 2, "period_num": 1},
        {"resource_ids": ["a"], "period_type": 1, "period_num": 1},
        {"resource_ids": ["a"], "period_type": 2, "period_num": 12},
        {"resource_ids": ["a"], "period_type": 3, "period_num": 4},
        {"resource_ids": ["a"], "period_type": 3},
    ],
    ids=["empty", "eleven", "period-type", "months-12", "years-4", "no-period-num"],
)
def test_manual_renewal_validation(api: Api, body: dict[str, Any]) -> None:
    reply = api.as_customer(demo.XINGHE).post(RENEW, body)
    assert (reply.status, reply.code) == (400, "CBC.0100")
