"""§7.13-§7.16: customer coupons, issued from a quota and reclaimed into it, with their records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from reconciler.emulator import DEFAULT_READONLY_AK, DEFAULT_READONLY_SK, Emulator, VirtualClock

from . import demo
from .client import Api

D = Decimal
CREATE = "/v2/promotions/benefits/partner-coupons"
RECLAIM = "/v2/promotions/benefits/partner-coupons/reclaim"
LIST = "/v2/promotions/benefits/partner-coupons"
RECORDS = "/v2/promotions/benefits/partner-coupons/records/query"
COUPON_FIELDS = {
    "coupon_id", "status", "customer_id", "coupon_type", "measure_id", "face_value",
    "effective_time", "expire_time", "media_type", "fetch_method", "use_limits", "active_time",
    "create_time", "balance", "is_frozen",
}  # fmt: skip
NOW = "2026-01-01T00:00:00Z"  # the VirtualClock's start


def create(api: Api, *customers: str, face: Any = "100.00", **extra: Any) -> Any:
    body = {"quota_id": demo.QUOTA_COUPONS, "customer_ids": list(customers), "face_value": face}
    return api.post(CREATE, {**body, **extra})


def quota_balance(emu: Emulator, quota_id: str = demo.QUOTA_COUPONS) -> Decimal:
    balance: Decimal = emu._store.state.quotas[quota_id].balance
    return balance


def family(emu: Emulator, quota_id: str = demo.QUOTA_COUPONS) -> Decimal:
    """The quota's balance plus what its coupons still hold."""
    state = emu._store.state
    held = sum((c.balance for c in state.coupons.values() if c.quota_id == quota_id), D(0))
    return quota_balance(emu, quota_id) + held


def coupons(api: Api, **query: Any) -> list[dict[str, Any]]:
    reply = api.get(LIST, {"limit": 100, **query})
    assert reply.status == 200, reply.body
    assert reply.json["total_count"] == len(reply.json["user_coupons"])
    found: list[dict[str, Any]] = reply.json["user_coupons"]
    return found


def records(api: Api, query: Any = None) -> list[dict[str, Any]]:
    pairs = [("limit", "100"), *(query or [])]
    reply = api.get(RECORDS, pairs)
    assert reply.status == 200, reply.body
    found: list[dict[str, Any]] = reply.json["records"]
    return found


# --- create_partner_coupons --------------------------------------------------------------------
def test_issue_one_coupon_per_customer_from_the_quota(api: Api, emu: Emulator) -> None:
    before = family(emu)
    reply = create(api, demo.XINGHE, demo.HUAXIA, face=D("250.50"), memo="spring promotion")
    assert reply.status == 200
    assert reply.json["error_details"] == []
    infos = reply.json["coupon_infos"]
    assert [i["id"] for i in infos] == [demo.XINGHE, demo.HUAXIA]
    assert quota_balance(emu) == D("90050.00") - 2 * D("250.50")
    assert family(emu) == before
    (new,) = coupons(api, coupon_id=infos[0]["coupon_id"])
    assert set(new) == COUPON_FIELDS
    assert (new["status"], new["customer_id"], new["coupon_type"]) == (2, demo.XINGHE, 1)
    assert (new["face_value"], new["balance"]) == (D("250.50"), D("250.50"))
    assert (new["effective_time"], new["expire_time"]) == (
        "2025-06-01T00:00:00Z",  # the quota's dates when none are given
        "2030-05-31T15:59:59Z",
    )
    assert (new["create_time"], new["use_limits"]) == (NOW, [])
    issued = records(api, [("coupon_ids", infos[0]["coupon_id"])])
    assert issued == [
        {
            "id": issued[0]["id"], "operation_type": "1", "quota_id": demo.QUOTA_COUPONS,
            "quota_type": 0, "coupon_id": infos[0]["coupon_id"], "customer_id": demo.XINGHE,
            "operation_amount": D("250.50"), "operation_time": NOW, "result": "0",
        }
    ]  # fmt: skip
    assert emu.call_log("create_partner_coupons")[-1]["mutated"] is True


def test_per_customer_failures_inside_200(api: Api, emu: Emulator) -> None:
    reply = create(  # 90050.00 left: two coupons of 45025.00 empty the quota
        api, demo.XINGHE, demo.MINGYUAN, demo.SHU_BROCADE, "0" * 32, demo.HUAXIA,
        face="45025.00",
    )  # fmt: skip
    assert reply.status == 200
    assert [i["id"] for i in reply.json["coupon_infos"]] == [demo.XINGHE, demo.HUAXIA]
    assert [(e["id"], e["error_code"]) for e in reply.json["error_details"]] == [
        (demo.MINGYUAN, "CBC.99000014"),  # referral customer
        (demo.SHU_BROCADE, "CBC.99000035"),  # a reseller's customer, not ours
        ("0" * 32, "CBC.99000035"),  # nobody's
    ]
    assert quota_balance(emu) == D("0.00")
    third = create(api, demo.RUIXIN, demo.HAINA, face="0.01")
    assert [(e["id"], e["error_code"]) for e in third.json["error_details"]] == [
        (demo.RUIXIN, "CBC.99000013"),
        (demo.HAINA, "CBC.99000013"),
    ]
    failed = records(api, [("result", "-1")])
    assert [(r["customer_id"], r["operation_amount"]) for r in failed] == [
        (demo.MINGYUAN, D("45025.00")),  # only customers that are ours get a record
        (demo.RUIXIN, D("0.01")),
        (demo.HAINA, D("0.01")),
    ]
    assert all("coupon_id" not in r for r in failed)


def test_insufficient_quota_is_per_customer_in_the_order_given(api: Api, emu: Emulator) -> None:
    reply = create(api, demo.XINGHE, demo.HUAXIA, demo.HAINA, face="40000.00")
    assert [i["id"] for i in reply.json["coupon_infos"]] == [demo.XINGHE, demo.HUAXIA]
    assert [(e["id"], e["error_code"]) for e in reply.json["error_details"]] == [
        (demo.HAINA, "CBC.99000013")
    ]
    assert quota_balance(emu) == D("10050.00")


CREATE_REFUSALS = [
    pytest.param({"quota_id": "0" * 16}, 400, "CBC.99000012", id="unknown-quota"),
    pytest.param({"quota_id": demo.CHILD_TIANFU}, 400, "CBC.99000012", id="a-resellers-quota"),
    pytest.param({"indirect_partner_id": "0" * 32}, 400, "CBC.99000037", id="not-our-reseller"),
    pytest.param({"quota_id": demo.QUOTA_SECOND, "cloud_service_types": ["hws.service.type.rds"]},
                 400, "CBC.99000023", id="restriction-beyond-the-quota"),
    pytest.param({"quota_id": demo.QUOTA_SECOND,
                  "cloud_service_types": ["hws.service.type.ec2", "hws.service.type.obs"]},
                 400, "CBC.99000023", id="restriction-partly-beyond"),
    pytest.param({"face_value": "0.00"}, 400, "CBC.0100", id="zero-face-value"),
    pytest.param({"face_value": "1.005"}, 400, "CBC.0100", id="three-decimals"),
    pytest.param({"face_value": None}, 400, "CBC.0100", id="no-face-value"),
    pytest.param({"quota_id": None}, 400, "CBC.0100", id="no-quota"),
    pytest.param({"customer_ids": []}, 400, "CBC.0100", id="no-customers"),
    pytest.param({"customer_ids": [demo.XINGHE, demo.XINGHE]}, 400, "CBC.0100", id="duplicates"),
    pytest.param({"customer_ids": [f"c{n}" for n in range(101)]}, 400, "CBC.0100",
                 id="101-customers"),
    pytest.param({"valid_time": "2026-01-01"}, 400, "CBC.0100", id="bad-valid-time"),
    pytest.param({"valid_time": "2025-05-31T00:00:00Z"}, 400, "CBC.0100",
                 id="valid-before-the-quota"),
    pytest.param({"expire_time": "2030-06-01T00:00:00Z"}, 400, "CBC.0100",
                 id="expire-after-the-quota"),
    pytest.param({"expire_time": "2025-12-31T00:00:00Z"}, 400, "CBC.0100", id="expired-already"),
    pytest.param({"valid_time": "2027-01-01T00:00:00Z", "expire_time": "2026-12-01T00:00:00Z"},
                 400, "CBC.0100", id="valid-after-expire"),
    pytest.param({"cloud_service_types": []}, 400, "CBC.0100", id="empty-restriction"),
    pytest.param({"product_ids": [f"p{n}" for n in range(11)]}, 400, "CBC.0100",
                 id="11-products"),
    pytest.param({"memo": "m" * 257}, 400, "CBC.0100", id="memo-too-long"),
    pytest.param({"indirect_partner_id": ""}, 400, "CBC.0100", id="empty-reseller"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "status", "code"), CREATE_REFUSALS)
def test_issue_refusals_commit_nothing(
    api: Api, emu: Emulator, extra: dict[str, Any], status: int, code: str
) -> None:
    before = emu.state()
    reply = create(api, demo.XINGHE, **extra)
    assert (reply.status, reply.code) == (status, code)
    if code == "CBC.0100":
        named = next(k for k in (*extra, "face_value") if k in reply.json["error_msg"])
        assert named in extra or named == "face_value"
    after = emu.state()
    for part in ("quotas", "coupons", "coupon_records"):
        assert after[part] == before[part]
    assert emu.call_log("create_partner_coupons")[-1]["mutated"] is False


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quota_status": 5}, "CBC.99000012"),
        ({"expire_time": "2025-12-31T00:00:00Z"}, "CBC.99000017"),
        ({"effective_time": "2026-02-01T00:00:00Z"}, "CBC.99000017"),
    ],
    ids=["frozen", "expired", "not-yet-effective"],
)
def test_the_quota_must_be_usable(
    api: Api, emu: Emulator, change: dict[str, Any], code: str
) -> None:
    emu.set_quota(demo.QUOTA_COUPONS, **change)
    assert create(api, demo.XINGHE).code == code


@pytest.mark.parametrize(
    ("asked", "limits"),
    [
        (None, ["hws.service.type.ec2", "hws.service.type.ebs"]),
        (["hws.service.type.ebs"], ["hws.service.type.ebs"]),
    ],
    ids=["inherits-the-quotas", "narrows-it"],
)
def test_restrictions_never_widen(api: Api, asked: list[str] | None, limits: list[str]) -> None:
    extra = {"quota_id": demo.QUOTA_SECOND}
    if asked is not None:
        extra["cloud_service_types"] = asked  # type: ignore[assignment]
    reply = create(api, demo.XINGHE, **extra)
    (info,) = reply.json["coupon_infos"]
    (coupon,) = coupons(api, coupon_id=info["coupon_id"])
    assert [(u["limit_key"], u["value1"]) for u in coupon["use_limits"]] == [
        ("cloud_service_types", v) for v in limits
    ]
    assert all(u["use_limiti_info_id"] for u in coupon["use_limits"])


def test_product_restriction_on_an_unrestricted_quota(api: Api) -> None:
    reply = create(api, demo.XINGHE, product_ids=["prod-ecs-c7"])
    (coupon,) = coupons(api, coupon_id=reply.json["coupon_infos"][0]["coupon_id"])
    assert [(u["limit_key"], u["value1"]) for u in coupon["use_limits"]] == [
        ("product_ids", "prod-ecs-c7")
    ]


def test_a_coupon_follows_the_clock(api: Api, emu: Emulator, clock: VirtualClock) -> None:
    reply = create(
        api, demo.XINGHE, face="300.00",
        valid_time="2026-02-01T00:00:00Z", expire_time="2026-03-01T00:00:00Z",
    )  # fmt: skip
    coupon_id = reply.json["coupon_infos"][0]["coupon_id"]
    assert coupons(api, coupon_id=coupon_id)[0]["status"] == 1  # not yet activated
    assert api.post(RECLAIM, {"coupon_id": coupon_id}).code == "CBC.99000048"
    clock.advance(40 * 86400)  # 2026-02-10
    (active,) = coupons(api, coupon_id=coupon_id)
    assert (active["status"], active["active_time"]) == (2, "2026-02-01T00:00:00Z")
    emu.spend_coupon(coupon_id, "120.00")
    before = quota_balance(emu)
    clock.advance(30 * 86400)  # 2026-03-12
    (expired,) = coupons(api, coupon_id=coupon_id)
    assert (expired["status"], expired["balance"]) == (4, D("0.00"))
    assert quota_balance(emu) == before + D("180.00")  # the rest flowed back
    flowed = records(api, [("operation_types", "4"), ("coupon_ids", coupon_id)])
    assert [(r["operation_amount"], r["operation_time"]) for r in flowed] == [
        (D("180.00"), "2026-03-01T00:00:00Z")
    ]
    times = [r["operation_time"] for r in records(api)]
    assert times == sorted(times)


# --- reclaim_partner_coupons -------------------------------------------------------------------
def test_reclaim_takes_the_whole_balance_back_to_the_quota(api: Api, emu: Emulator) -> None:
    before = family(emu)
    reply = api.post(RECLAIM, {"coupon_id": demo.COUPON_XINGHE})
    assert (reply.status, reply.body) == (204, b"")
    assert quota_balance(emu) == D("90050.00") + D("3200.00")
    assert family(emu) == before
    (coupon,) = coupons(api, coupon_id=demo.COUPON_XINGHE)
    assert (coupon["status"], coupon["balance"]) == (5, D("0.00"))
    (record,) = records(api, [("coupon_ids", demo.COUPON_XINGHE), ("operation_types", "2")])
    assert (record["operation_amount"], record["result"], record["operation_time"]) == (
        D("3200.00"),
        "0",
        NOW,
    )
    again = api.post(RECLAIM, {"coupon_id": demo.COUPON_XINGHE})
    assert (again.status, again.code) == (200, "CBC.99000048")
    assert quota_balance(emu) == D("93250.00")
    assert [r["result"] for r in records(api, [("coupon_ids", demo.COUPON_XINGHE)])] == [
        "0",  # the seeded issue
        "0",
        "-1",
    ]


@pytest.mark.parametrize(
    "coupon_id",
    [demo.COUPON_USED, demo.COUPON_EXPIRED, demo.COUPON_RECLAIMED],
    ids=["used", "expired", "reclaimed"],
)
def test_only_usable_coupons_can_be_reclaimed(api: Api, emu: Emulator, coupon_id: str) -> None:
    reply = api.post(RECLAIM, {"coupon_id": coupon_id})
    assert (reply.status, reply.code) == (200, "CBC.99000048")
    assert quota_balance(emu) == D("90050.00")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"coupon_id": "CP" + "0" * 20}, "CBC.0100"),
        ({"coupon_id": "c" * 65}, "CBC.0100"),
        ({}, "CBC.0100"),
        ({"coupon_id": demo.COUPON_XINGHE, "indirect_partner_id": ""}, "CBC.0100"),
        ({"coupon_id": demo.COUPON_XINGHE, "indirect_partner_id": "r" * 101}, "CBC.0100"),
        ({"coupon_id": demo.COUPON_XINGHE, "indirect_partner_id": "0" * 32}, "CBC.99000037"),
        ({"coupon_id": demo.COUPON_XINGHE, "indirect_partner_id": demo.TIANFU}, "CBC.0100"),
    ],
    ids=[
        "unknown", "too-long", "missing", "empty-reseller", "reseller-too-long",
        "not-our-reseller", "not-that-resellers-coupon",
    ],
)  # fmt: skip
def test_reclaim_refusals(api: Api, emu: Emulator, body: dict[str, Any], code: str) -> None:
    reply = api.post(RECLAIM, body)
    assert (reply.status, reply.code) == (400, code)
    assert emu._store.state.coupons[demo.COUPON_XINGHE].status == 2


# --- acting for a reseller (indirect_partner_id) ------------------------------------------------
def test_issue_and_reclaim_for_a_resellers_customer(api: Api, emu: Emulator) -> None:
    own = {"quota_id": demo.CHILD_TIANFU, "indirect_partner_id": demo.TIANFU}
    assert create(api, demo.SHU_BROCADE, quota_id=demo.CHILD_TIANFU).code == "CBC.99000012"
    assert create(api, demo.XINGHE, **own).json["error_details"][0]["error_code"] == (
        "CBC.99000035"  # our own customer is not the reseller's
    )
    reply = create(api, demo.SHU_BROCADE, face="700.00", **own)
    coupon_id = reply.json["coupon_infos"][0]["coupon_id"]
    assert quota_balance(emu, demo.CHILD_TIANFU) == D("29300.00")
    assert coupons(api, customer_id=demo.SHU_BROCADE) == []  # not ours to list
    mine = coupons(api, indirect_partner_id=demo.TIANFU)
    assert [c["coupon_id"] for c in mine] == [coupon_id]
    assert records(api, [("customer_id", demo.SHU_BROCADE)]) == []
    body = {"coupon_id": coupon_id}
    assert api.post(RECLAIM, body).code == "CBC.0100"  # not without naming the reseller
    assert api.post(RECLAIM, {**body, "indirect_partner_id": demo.TIANFU}).status == 204
    assert quota_balance(emu, demo.CHILD_TIANFU) == D("30000.00")
    theirs = records(api, [("indirect_partner_id", demo.TIANFU)])
    assert [(r["operation_type"], r["operation_amount"]) for r in theirs] == [
        ("1", D("700.00")),
        ("2", D("700.00")),
    ]


# --- list_issued_partner_coupons ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ({}, [demo.COUPON_EXPIRED, demo.COUPON_RECLAIMED, demo.COUPON_USED, demo.COUPON_HUAXIA,
              demo.COUPON_XINGHE, demo.COUPON_XINGHE_ECS]),
        ({"status": 2}, [demo.COUPON_HUAXIA, demo.COUPON_XINGHE, demo.COUPON_XINGHE_ECS]),
        ({"customer_id": demo.XINGHE}, [demo.COUPON_XINGHE, demo.COUPON_XINGHE_ECS]),
        ({"coupon_id": demo.COUPON_USED}, [demo.COUPON_USED]),
        ({"coupon_type": 4}, []),
        ({"create_time_begin": "2025-10-15T09:00:00Z"},
         [demo.COUPON_XINGHE, demo.COUPON_XINGHE_ECS]),
        ({"expire_time_end": "2026-08-01T00:00:00Z"}, [demo.COUPON_EXPIRED, demo.COUPON_USED]),
        ({"effective_time_begin": "2025-08-01T00:00:00Z", "effective_time_end":
          "2025-12-01T00:00:00Z"}, [demo.COUPON_HUAXIA]),
        ({"offset": 4, "limit": 1}, [demo.COUPON_XINGHE]),
    ],
    ids=["all", "status", "customer", "coupon", "coupon_type", "created-after-strict",
         "expiring-before", "effective-window", "page"],
)  # fmt: skip
def test_list_issued_filters(api: Api, query: dict[str, Any], ids: list[str]) -> None:
    reply = api.get(LIST, query)
    assert [c["coupon_id"] for c in reply.json["user_coupons"]] == ids
    if "offset" not in query:
        assert reply.json["total_count"] == len(ids)


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 101}, {"limit": 0}, {"offset": -1}, {"status": 6}, {"coupon_type": 2},
        {"customer_id": ""}, {"coupon_id": ""}, {"coupon_id": "c" * 65},
        {"create_time_begin": ""}, {"expire_time_end": "tomorrow"},
    ],
    ids=[
        "limit-101", "limit-0", "negative-offset", "status-6", "coupon-type-2",
        "empty-customer", "empty-coupon", "long-coupon", "empty-time", "bad-time",
    ],
)  # fmt: skip
def test_list_issued_refusals(api: Api, query: dict[str, Any]) -> None:
    reply = api.get(LIST, query)
    assert (reply.status, reply.code) == (400, "CBC.0100")
    assert next(iter(query)) in reply.json["error_msg"]


def test_coupons_expired_more_than_two_years_ago_are_not_listed(
    api: Api, clock: VirtualClock
) -> None:
    clock.advance(365 * 86400)  # 2027-01-01: the expired coupon (2025-09-30) is still shown
    assert demo.COUPON_EXPIRED in [c["coupon_id"] for c in coupons(api)]
    clock.advance(365 * 86400)  # 2028-01-01: more than two years after its expiry
    assert demo.COUPON_EXPIRED not in [c["coupon_id"] for c in coupons(api)]


# --- list_partner_coupons_record ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([], demo.COUPON_RECORDS),
        ([("operation_types", "2"), ("operation_types", "4")], 2),
        ([("operation_types", "1")], 6),
        ([("coupon_ids", demo.COUPON_EXPIRED), ("coupon_ids", demo.COUPON_USED)], 3),
        ([("customer_id", demo.XINGHE)], 2),
        ([("quota_id", demo.QUOTA_COUPONS), ("quota_type", "0")], demo.COUPON_RECORDS),
        ([("quota_type", "1")], 0),
        ([("result", "-1")], 0),
        ([("result", "x")], demo.COUPON_RECORDS),  # other values are ignored
        ([("operation_time_begin", "2025-10-15T06:30:00Z")], 3),  # strict
        ([("operation_time_end", "2025-07-15T07:00:00Z")], 1),
        ([("offset", "7")], 1),
    ],
    ids=["all", "types-2-and-4", "issues", "two-coupons", "customer", "quota", "quota-type-1",
         "failures", "result-ignored", "after", "before", "offset"],
)  # fmt: skip
def test_record_filters(api: Api, query: list[tuple[str, str]], expected: int) -> None:
    reply = api.get(RECORDS, [("limit", "100"), *query])
    assert reply.status == 200, reply.body
    assert len(reply.json["records"]) == expected
    if not any(k == "offset" for k, _ in query):
        assert reply.json["total_count"] == expected


@pytest.mark.parametrize(
    "query",
    [
        [("operation_types", "10")], [("limit", "101")], [("operation_time_begin", "")],
        [("quota_id", "a"), ("quota_id", "b")], [("customer_id", "")], [("quota_type", "2")],
        [("indirect_partner_id", "0" * 32)],
    ],
    ids=["type-10", "limit-101", "empty-time", "repeated-single", "empty-customer",
         "quota-type-2", "not-our-reseller"],
)  # fmt: skip
def test_record_refusals(api: Api, query: list[tuple[str, str]]) -> None:
    reply = api.get(RECORDS, query)
    assert reply.status == 400
    assert reply.code == ("CBC.99000037" if query[0][0] == "indirect_partner_id" else "CBC.0100")


# --- who may call ------------------------------------------------------------------------------
def test_readonly_operator_reads_but_cannot_write(emu: Emulator) -> None:
    readonly = Api(emu, DEFAULT_READONLY_AK, DEFAULT_READONLY_SK)
    assert create(readonly, demo.XINGHE).code == "CBC.0151"
    assert readonly.post(RECLAIM, {"coupon_id": demo.COUPON_XINGHE}).code == "CBC.0151"
    assert readonly.get(LIST).status == 200
    assert readonly.get(RECORDS).status == 200
    assert quota_balance(emu) == D("90050.00")


def test_customer_credentials_are_refused(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    assert customer.get(LIST).code == "CBC.0151"
    assert create(customer, demo.XINGHE).code == "CBC.0151"


def test_a_solution_provider_issues_to_its_own_customers() -> None:
    seed = {
        "partner": {"domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9", "account_name": "sp",
                    "xaccount_type": "sp_platform", "partner_type": "solution_provider"},
        "customers": [{"customer_id": "c1", "account_name": "c-one", "association_type": "2"}],
        "quotas": [{"quota_id": "q1", "quota_value": "50.00", "effective_time":
                    "2025-01-01T00:00:00Z", "expire_time": "2027-01-01T00:00:00Z"}],
    }  # fmt: skip
    api = Api(Emulator(clock=VirtualClock(), seed=seed))
    reply = api.post(CREATE, {"quota_id": "q1", "customer_ids": ["c1"], "face_value": "50.00"})
    assert [i["id"] for i in reply.json["coupon_infos"]] == ["c1"]
    refused = api.post(CREATE, {"quota_id": "q1", "customer_ids": ["c1"], "face_value": "1.00",
                                "indirect_partner_id": "r1"})  # fmt: skip
    assert refused.code == "CBC.99000037"  # a solution provider has no resellers
