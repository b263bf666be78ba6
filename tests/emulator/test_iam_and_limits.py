"""Emulated IAM temporary credentials (§2.6) and the rate limits (§4)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator import DEFAULT_READONLY_AK, DEFAULT_READONLY_SK, Emulator, VirtualClock

from . import demo
from .client import Api

RESOURCES = "/v2/orders/suscriptions/resources/query"
SUB = "/v2/partners/sub-customers/query"
TOKENS = "/v3.0/OS-CREDENTIAL/securitytokens"


def test_granted_customer_gets_temporary_credentials(api: Api) -> None:
    reply = api.temp_credentials(demo.XINGHE, duration=3600)
    assert reply.status == 201
    cred = reply.json["credential"]
    assert set(cred) == {"access", "secret", "securitytoken", "expires_at"}
    assert cred["expires_at"] == "2026-01-01T01:00:00.000000Z"
    assert reply.headers["x-request-id"]


@pytest.mark.parametrize(
    ("customer_id", "agency"),
    [
        (demo.LINGYUN, "demo_distributor_platform"),
        (demo.XINGHE, "someone_elses_platform"),
        ("ffffffffffffffffffffffffffffffff", "demo_distributor_platform"),
        ("f4d76cfb2da5156e226292a530db489c", "demo_distributor_platform"),
    ],
    ids=["agency-not-granted", "wrong-agency-name", "unknown-customer", "a-resellers-customer"],
)
def test_agency_problems_are_iam_403(api: Api, customer_id: str, agency: str) -> None:
    reply = api.temp_credentials(customer_id, agency=agency)
    assert (reply.status, reply.code) == (403, "IAM.0002")
    assert "credential" not in reply.json


@pytest.mark.parametrize("duration", [899, 86401], ids=["too-short", "too-long"])
def test_duration_bounds(api: Api, duration: int) -> None:
    reply = api.temp_credentials(demo.XINGHE, duration=duration)
    assert (reply.status, reply.code) == (400, "IAM.0011")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"auth": {"identity": {"methods": ["password"]}}},
        {"auth": {"identity": {"methods": ["assume_role"], "assume_role": {"agency_name": "x"}}}},
        {
            "auth": {
                "identity": {"methods": ["assume_role"], "assume_role": {"domain_id": demo.XINGHE}}
            }
        },
    ],
    ids=["empty", "wrong-method", "no-domain", "no-agency"],
)
def test_bad_iam_bodies(api: Api, body: dict[str, Any]) -> None:
    iam = Api(api.emu, host="iam.myhuaweicloud.com")
    assert iam.post(TOKENS, body).code == "IAM.0011"


def test_domain_name_works_as_well(api: Api) -> None:
    body = {"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
        "agency_name": "demo_distributor_platform", "domain_name": "xinghe-net"}}}}  # fmt: skip
    assert Api(api.emu, host="iam.myhuaweicloud.com").post(TOKENS, body).status == 201


def test_read_only_operator_and_customers_cannot_assume(api: Api, emu: Emulator) -> None:
    readonly = Api(emu, DEFAULT_READONLY_AK, DEFAULT_READONLY_SK)
    assert readonly.temp_credentials(demo.XINGHE).code == "IAM.0002"
    customer = api.as_customer(demo.XINGHE)
    assert customer.temp_credentials(demo.XINGHE).code == "IAM.0002"


def test_temporary_credentials_expire(api: Api, clock: VirtualClock) -> None:
    customer = api.as_customer(demo.XINGHE)  # default 900 s
    clock.advance(899)
    assert customer.post(RESOURCES, {}).status == 200
    clock.advance(1)
    reply = customer.post(RESOURCES, {})
    assert (reply.status, reply.code) == (401, "APIG.0301")
    assert "expired" in reply.json["error_msg"]


def test_revoking_the_agency_stops_new_credentials(api: Api, emu: Emulator) -> None:
    emu.set_agency(demo.XINGHE, False)
    assert api.temp_credentials(demo.XINGHE).status == 403
    emu.set_agency(demo.LINGYUN, True)
    assert api.temp_credentials(demo.LINGYUN).status == 201


# --- rate limits ------------------------------------------------------------------------------
def test_bucket_of_ten_empties_then_refills(api: Api, clock: VirtualClock) -> None:
    statuses = [api.post(SUB, {}).status for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    reply = api.post(SUB, {})
    assert reply.json == {
        "error_code": "APIG.0308",
        "error_msg": "The throttling threshold has been reached: policy user over ratelimit,"
        "limit:10,time:1 second",
    }
    clock.advance(0.1)
    assert api.post(SUB, {}).status == 200  # one token back after 100 ms
    assert api.post(SUB, {}).status == 429
    clock.advance(1.0)
    assert [api.post(SUB, {}).status for _ in range(10)] == [200] * 10


def test_buckets_are_per_operation_and_account(api: Api) -> None:
    for _ in range(10):
        assert api.post(SUB, {}).status == 200
    assert api.post(SUB, {}).status == 429
    assert api.post("/v2/partners/coupon-quotas/query", {}).status == 200
    assert api.temp_credentials(demo.XINGHE).status == 201  # IAM has its own bucket
    customer = api.as_customer(demo.HUAXIA)
    assert customer.post(RESOURCES, {}).status == 200


def test_throttled_calls_are_logged_and_not_executed(api: Api, emu: Emulator) -> None:
    for _ in range(11):
        api.post(SUB, {})
    log = emu.call_log("list_sub_customers")
    assert [c["status"] for c in log][-2:] == [200, 429]
    assert log[-1]["error_code"] == "APIG.0308"


def test_rate_limit_can_be_changed_or_disabled(clock: VirtualClock) -> None:
    fast = Api(Emulator(clock=clock, rate_limit=0))
    assert all(fast.post(SUB, {}).status == 200 for _ in range(50))
    slow = Api(Emulator(clock=clock, rate_limit=2))
    assert [slow.post(SUB, {}).status for _ in range(3)] == [200, 200, 429]
    assert b"limit:2," in slow.post(SUB, {}).body
