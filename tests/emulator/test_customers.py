"""§7.1 list_sub_customers and §7.2 list_indirect_partners."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator import DEFAULT_READONLY_AK, DEFAULT_READONLY_SK, Emulator

from . import demo
from .client import Api

SUB = "/v2/partners/sub-customers/query"
RESELLERS = "/v2/partners/indirect-partners/query"


def test_paging_over_several_pages_returns_every_customer_once(api: Api) -> None:
    seen: list[str] = []
    for offset in range(0, 30, 7):
        reply = api.post(SUB, {"offset": offset, "limit": 7})
        assert reply.status == 200
        assert reply.json["count"] == demo.CUSTOMER_COUNT
        seen += [c["customer_id"] for c in reply.json["customer_infos"]]
    assert len(seen) == len(set(seen)) == demo.CUSTOMER_COUNT


def test_default_page_is_ten_in_a_stable_order(api: Api) -> None:
    first = api.post(SUB, {}).json["customer_infos"]
    again = api.post(SUB, {"offset": 0}).json["customer_infos"]
    assert len(first) == 10
    assert first == again
    dates = [c["associated_on"] for c in first]
    assert dates == sorted(dates)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"account_name": "xinghe"}, ["xinghe-net"]),
        ({"account_name": "-NET"}, ["xinghe-net"]),
        ({"account_name": ""}, None),
        ({"account_name": None}, None),
        ({"customer": "Robotics"}, ["zhiyuan-robotics"]),
        ({"label": "developer"}, ["liu.yang", "zhao.min"]),
        ({"label": "Developer"}, []),
        ({"customer_id": demo.RUIXIN}, ["ruixin-media"]),
        ({"customer_id": "ffffffffffffffffffffffffffffffff"}, []),
        ({"association_type": "1", "label": "healthcare"}, ["qingshan-pharma", "baicao-tcm"]),
        (
            {
                "associated_on_begin": "2025-02-26T09:58:02Z",
                "associated_on_end": "2025-04-08T06:29:13Z",
            },
            ["tianyi-security", "yanhu-tourism"],
        ),
    ],
    ids=[
        "fuzzy-prefix",
        "fuzzy-suffix-any-case",
        "empty-is-no-filter",
        "null-is-no-filter",
        "customer-infix",
        "label",
        "label-is-case-sensitive",
        "customer-id-exact",
        "unknown-customer-is-empty",
        "association-type-and-label",
        "associated-window-inclusive",
    ],
)
def test_filters(api: Api, body: dict[str, Any], expected: list[str] | None) -> None:
    reply = api.post(SUB, {**body, "limit": 100})
    assert reply.status == 200
    names = [c["account_name"] for c in reply.json["customer_infos"]]
    if expected is None:
        assert reply.json["count"] == demo.CUSTOMER_COUNT
    else:
        assert names == expected
        assert reply.json["count"] == len(expected)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"account_name": "xinghe net"}, "must not contain spaces"),
        ({"customer": "Hangzhou Xinghe"}, "must not contain spaces"),
        ({"label": "a b"}, "must not contain spaces"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "10"}, "limit must be an integer"),
        ({"offset": -1}, "offset"),
        ({"offset": 40000001}, "offset"),
        ({"association_type": "3"}, "association_type"),
        ({"account_name": "x" * 65}, "longer than 64"),
        ({"associated_on_begin": ""}, "must not be empty"),
        ({"associated_on_end": "2024-01-01 00:00:00"}, "UTC time"),
    ],
    ids=[
        "space-account-name",
        "space-customer",
        "space-label",
        "limit-0",
        "limit-101",
        "limit-string",
        "offset-negative",
        "offset-too-big",
        "association-type-enum",
        "max-length",
        "empty-timestamp",
        "bad-timestamp",
    ],
)
def test_invalid_parameters_are_cbc_0100(api: Api, body: dict[str, Any], fragment: str) -> None:
    reply = api.post(SUB, body)
    assert reply.status == 400
    assert reply.code == "CBC.0100"
    assert fragment in reply.json["error_msg"]


def test_offset_at_the_maximum_is_accepted(api: Api) -> None:
    reply = api.post(SUB, {"offset": 40000000, "limit": 100})
    assert reply.status == 200
    assert reply.json == {"customer_infos": [], "count": demo.CUSTOMER_COUNT}


def test_body_is_required(api: Api) -> None:
    reply = api.request("POST", SUB)
    assert (reply.status, reply.code) == (400, "CBC.0100")


def test_account_managers_has_at_most_one_entry_and_is_absent_without_manager(
    api: Api, emu: Emulator
) -> None:
    def infos(customer_id: str) -> dict[str, Any]:
        result: dict[str, Any] = api.post(SUB, {"customer_id": customer_id}).json["customer_infos"][
            0
        ]
        return result

    assert infos(demo.XINGHE)["account_managers"] == [{"account_name": "zhang.wei"}]
    assert "account_managers" not in infos(demo.RUIXIN)
    emu.set_account_manager(demo.RUIXIN, "li.na")
    assert infos(demo.RUIXIN)["account_managers"] == [{"account_name": "li.na"}]
    emu.set_account_manager(demo.XINGHE, None)
    assert "account_managers" not in infos(demo.XINGHE)


def test_customer_information_fields(api: Api) -> None:
    info = api.post(SUB, {"customer_id": demo.XINGHE}).json["customer_infos"][0]
    assert info == {
        "customer": "Hangzhou Xinghe Network Technology Co., Ltd.",
        "account_name": "xinghe-net",
        "customer_id": demo.XINGHE,
        "associated_on": "2023-03-14T02:15:09Z",
        "association_type": "2",
        "label": "ecommerce",
        "telephone": "13812345671",
        "verified_status": "2",
        "country_code": "0086",
        "customer_type": 1,
        "is_frozen": 0,
        "account_managers": [{"account_name": "zhang.wei"}],
        "xaccount_id": "yf-100000",
        "xaccount_type": "demo_distributor_platform",
        "customer_level": "V3",
        "email": "xinghe-net-it@example.com",
    }


@pytest.mark.parametrize(
    ("reseller", "count"),
    list(demo.RESELLER_CUSTOMERS.items()),
    ids=["tianfu", "qinling", "pengcheng"],
)
def test_a_resellers_customers(api: Api, reseller: str, count: int) -> None:
    reply = api.post(SUB, {"indirect_partner_id": reseller})
    assert reply.status == 200
    assert reply.json["count"] == count


def test_someone_elses_reseller_is_99000037(api: Api) -> None:
    reply = api.post(SUB, {"indirect_partner_id": "0" * 32})
    assert (reply.status, reply.code) == (400, "CBC.99000037")


def test_reseller_customers_are_not_the_distributors_own(api: Api) -> None:
    names = [c["account_name"] for c in api.post(SUB, {"limit": 100}).json["customer_infos"]]
    assert "huashan-tea" not in names


def test_read_only_operator_can_read(emu: Emulator) -> None:
    reply = Api(emu, DEFAULT_READONLY_AK, DEFAULT_READONLY_SK).post(SUB, {})
    assert reply.status == 200


def test_customer_credentials_are_refused_on_partner_operations(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    for path in (SUB, RESELLERS, "/v2/partners/coupon-quotas/query"):
        reply = customer.post(path, {})
        assert (reply.status, reply.code) == (403, "CBC.0151"), path


def test_list_indirect_partners(api: Api) -> None:
    reply = api.post(RESELLERS, {"limit": 2})
    assert reply.status == 200
    assert reply.json["count"] == 3
    first = reply.json["indirect_partners"][0]
    assert first == {
        "indirect_partner_id": demo.TIANFU,
        "mobile_phone": "13550218876",
        "email": "partner-ops@tianfu-cloud.example.com",
        "account_name": "tianfu-cloud",
        "name": "Chengdu Tianfu Cloud Services Co., Ltd.",
        "associated_on": "2023-06-15T02:00:00Z",
        "account_manager_id": "wang.fang",
        "account_manager_name": "Wang Fang",
    }
    second_page = api.post(RESELLERS, {"offset": 2, "limit": 2}).json["indirect_partners"]
    assert [r["account_name"] for r in second_page] == ["pengcheng-cloud"]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"indirect_partner_id": demo.QINLING}, ["qinling-digital"]),
        ({"indirect_partner_id": "0" * 32}, []),
        ({"account_name": "cloud"}, ["tianfu-cloud", "pengcheng-cloud"]),
        ({"associated_on_begin": "2024-01-01T00:00:00Z"}, ["qinling-digital", "pengcheng-cloud"]),
    ],
    ids=["one-reseller", "unknown-is-empty", "account-name", "associated-since"],
)
def test_list_indirect_partners_filters(api: Api, body: dict[str, Any], names: list[str]) -> None:
    reply = api.post(RESELLERS, body)
    assert [r["account_name"] for r in reply.json["indirect_partners"]] == names


def test_list_indirect_partners_limit_is_1_to_100(api: Api) -> None:
    assert api.post(RESELLERS, {"limit": 101}).code == "CBC.0100"
    assert api.post(RESELLERS, {"limit": 100}).status == 200


def test_solution_providers_cannot_use_distributor_operations(clock: Any) -> None:
    emu = Emulator(clock=clock, seed={"partner": {
        "domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9", "account_name": "sp",
        "xaccount_type": "sp_platform", "partner_type": "solution_provider"}})  # fmt: skip
    api = Api(emu)
    assert api.post(RESELLERS, {}).code == "CBC.0151"
    assert api.post(SUB, {}).status == 200
