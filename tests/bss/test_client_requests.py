# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""What the client puts on the wire, and what it makes of the answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, IssueResult, ItemError
from reconciler.bss.core import USER_AGENT
from reconciler.bss.signing import canonical_query, sdk_date, sign_request
from reconciler.emulator.clock import VirtualClock
from reconciler.errors import ApiError, AuthError, ServerError, ThrottledError

from .fakes import (
    AK,
    DOMAIN_ID,
    SK,
    FakeBss,
    Reply,
    make_client,
    reply,
    split_query,
    verify,
)

ADJUST = "/v2/partners/coupon-quotas/indirect-partner-adjust"
RECLAIM = "/v2/partners/coupon-quotas/indirect-partner-reclaim"
CUSTOMERS = "/v2/partners/sub-customers/query"
ISSUED = "/v2/partners/issued-coupon-quotas"
RESOURCES = "/v2/orders/suscriptions/resources/query"
QUOTAS = "/v2/partners/coupon-quotas/query"
RECORDS = "/v2/partners/coupon-quotas/records"


def run(
    coro_fn: Callable[[BssClient], Awaitable[Any]],
    fake_routes: Mapping[tuple[str, str], list[Reply]],
    endpoint: str = "https://bss.myhuaweicloud.com",
    **kwargs: Any,
) -> tuple[Any, FakeBss]:
    """Run ``coro_fn(client)`` on a virtual clock against a fake with ``fake_routes``."""
    clock = VirtualClock()
    fake = FakeBss(clock)
    for (method, path), replies in fake_routes.items():
        fake.on(method, path, *replies)

    async def main() -> Any:
        async with make_client(
            fake, endpoint, max_attempts=kwargs.pop("max_attempts", 4), **kwargs
        ) as client:
            return await coro_fn(client)

    return clock.run(main()), fake


def test_headers_host_port_date_and_signature():
    result, fake = run(
        lambda c: c.list_sub_customers(limit=100),
        {("POST", CUSTOMERS): [reply(200, {"customer_infos": [], "count": 0})]},
        endpoint="http://127.0.0.1:8443",
    )
    (seen,) = fake.seen
    assert seen.headers["host"] == "127.0.0.1:8443"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("partner-reconciler/")
    assert seen.headers["x-domain-id"] == DOMAIN_ID
    assert seen.headers["x-sdk-date"] == sdk_date(VirtualClock().time()) == "20260101T000000Z"
    assert "x-security-token" not in seen.headers
    ak, names = verify(seen, SK)
    assert ak == AK
    assert names == ["content-type", "host", "user-agent", "x-domain-id", "x-sdk-date"]
    assert result.items == () and result.total == 0


def test_get_query_string_is_the_canonical_query():
    _, fake = run(
        lambda c: c.list_issued_coupon_quotas(
            indirect_partner_id="ip 001/x", parent_quota_id="", limit=20, offset=40
        ),
        {("GET", ISSUED): [reply(200, {"quotas": [], "total_count": 0})]},
    )
    (seen,) = fake.seen
    pairs = split_query(seen.query)
    assert seen.query.decode() == canonical_query(pairs)
    assert seen.query == b"indirect_partner_id=ip%20001%2Fx&limit=20&offset=40&parent_quota_id="
    assert seen.body == b""
    verify(seen, SK)


@pytest.mark.parametrize(
    ("call", "route", "signature"),
    [
        (
            lambda c: c.list_sub_customers(offset=0, limit=100),
            ("POST", CUSTOMERS),
            "fe1f851b44889a55307aea310de667fc4d706e1a640160f67d44bd012f445d99",
        ),
        (
            lambda c: c.list_issued_coupon_quotas(indirect_partner_id="ip-001", limit=100),
            ("GET", ISSUED),
            "e0540457faa4466b40bd9080ed2e29e9a9fce2d7e757607a161e019108ad98aa",
        ),
    ],
    ids=["vector-B", "vector-C"],
)
def test_client_wire_format_reproduces_reference_vectors(call, route, signature):
    """With the vectors' User-Agent and date, the client's path, query and body sign identically."""
    _, fake = run(call, {route: [reply(200, {})]})
    (seen,) = fake.seen
    headers = {
        "Content-Type": seen.headers["content-type"],
        "Host": seen.headers["host"],
        "User-Agent": "huaweicloud-usdk-python/3.0; reconciler-test",
        "X-Domain-Id": seen.headers["x-domain-id"],
        "X-Sdk-Date": "20240115T083000Z",
    }
    signed = sign_request(
        seen.method, seen.path, split_query(seen.query), headers, seen.body, ak=AK, sk=SK
    )
    assert signed.signature == signature


def test_post_bodies_in_reference_order_without_unused_filters():
    async def calls(c):
        await c.list_quota_coupons()
        await c.list_customer_resources(
            "cust-1", status_list=[2, 5], only_main_resource=1, resource_ids=["r1"]
        )
        await c.list_indirect_partners(indirect_partner_id="ip-1", account_name="acme")

    _, fake = run(
        calls,
        {
            ("POST", QUOTAS): [reply(200, {})],
            ("POST", RESOURCES): [reply(200, {})],
            ("POST", "/v2/partners/indirect-partners/query"): [reply(200, {})],
        },
    )
    assert [s.body for s in fake.seen] == [
        b'{"offset": 0, "limit": 100}',
        b'{"resource_ids": ["r1"], "only_main_resource": 1, "status_list": [2, 5], '
        b'"offset": 0, "limit": 100, "customer_id": "cust-1"}',
        b'{"account_name": "acme", "offset": 0, "limit": 100, "indirect_partner_id": "ip-1"}',
    ]


def test_unknown_filter_and_bad_limit_are_refused_before_sending():
    async def calls(c):
        with pytest.raises(TypeError, match="no filter colour"):
            await c.list_sub_customers(colour="red")
        with pytest.raises(ValueError, match=r"limit must be 1\.\.100"):
            await c.list_sub_customers(limit=101)
        with pytest.raises(ValueError, match=r"limit must be 1\.\.100"):
            c.iter_customer_resources("c1", page_size=101)

    _, fake = run(calls, {})
    assert fake.seen == []


def test_issue_sends_exact_amount_and_surfaces_item_failures():
    answer = {
        "simple_quota_infos": [{"id": "ip-1", "quota_id": "child-1"}],
        "error_details": [
            {"id": "ip-2", "error_code": "CBC.50010105", "error_msg": "reseller is exiting"}
        ],
    }
    result, fake = run(
        lambda c: c.update_coupon_quotas("q-1", ["ip-1", "ip-2", "ip-3"], Decimal("1200")),
        {("POST", ADJUST): [reply(200, answer)]},
    )
    assert fake.seen[0].body == (
        b'{"quota_id": "q-1", "indirect_partner_ids": ["ip-1", "ip-2", "ip-3"], '
        b'"quota_amount": 1200.00}'
    )
    assert result == IssueResult(
        successes={"ip-1": "child-1"},
        failures=(ItemError("ip-2", "CBC.50010105", "reseller is exiting"),),
        unaccounted=("ip-3",),
    )


def test_decimal_sum_goes_out_exact():
    _, fake = run(
        lambda c: c.update_coupon_quotas("q-1", ["ip-1"], Decimal("0.1") + Decimal("0.2")),
        {("POST", ADJUST): [reply(200, {})]},
    )
    assert fake.seen[0].body.endswith(b'"quota_amount": 0.30}')


def test_reclaim_result_keeps_decimal_balances():
    answer = {
        "simple_quota_infos": [{"quota_id": "c-1", "quota_balance": 0.1}],
        "error_details": [{"id": "c-2", "error_code": "CBC.99000012", "error_msg": "status"}],
    }
    result, fake = run(
        lambda c: c.reclaim_coupon_quotas(["c-1", "c-2"], remark="test"),
        {("POST", RECLAIM): [reply(200, answer)]},
    )
    assert fake.seen[0].body == b'{"quota_ids": ["c-1", "c-2"], "remark": "test"}'
    assert result.successes == {"c-1": Decimal("0.10")}
    assert result.failures[0].error_code == "CBC.99000012"
    assert result.unaccounted == ()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: c.update_coupon_quotas("q", ["ip"], Decimal("12.345")), ValueError, "2 decimal"),
        (lambda c: c.update_coupon_quotas("q", ["ip"], Decimal("0")), ValueError, "positive"),
        (lambda c: c.update_coupon_quotas("q", ["ip"], Decimal("-5")), ValueError, "positive"),
        (lambda c: c.update_coupon_quotas("q", ["ip"], 12.5), TypeError, "Decimal"),
        (
            lambda c: c.update_coupon_quotas("q", [f"ip{i}" for i in range(101)], Decimal(1)),
            ValueError,
            "between 1 and 100",
        ),
        (lambda c: c.update_coupon_quotas("q", [], Decimal(1)), ValueError, "between 1 and 100"),
        (lambda c: c.update_coupon_quotas("q", ["a", "a"], Decimal(1)), ValueError, "duplicate"),
        (lambda c: c.update_coupon_quotas("", ["a"], Decimal(1)), ValueError, "quota_id"),
        (
            lambda c: c.reclaim_coupon_quotas([f"q{i}" for i in range(11)]),
            ValueError,
            "between 1 and 10",
        ),
        (lambda c: c.reclaim_coupon_quotas("q-1"), TypeError, "list of ids"),
        (lambda c: c.reclaim_coupon_quotas(["q"], remark="x" * 257), ValueError, "256"),
        (
            lambda c: c.set_resources_renew_config("cust", "DEDUCTION_DATE", "8"),
            ValueError,
            "2.*7",
        ),
        (lambda c: c.set_resources_renew_config("cust", "OTHER", "1"), ValueError, "config_name"),
        (
            lambda c: c.auto_renewal_resources("cust", "r", auto_renew_times=100),
            ValueError,
            "0..99",
        ),
        (lambda c: c.auto_renewal_resources("cust", "r", period_type="DAY"), ValueError, "MONTH"),
    ],
    ids=[
        "3-decimals", "zero", "negative", "float", "101-resellers", "no-resellers", "duplicates",
        "no-quota", "11-quotas", "string-not-list", "long-remark", "bad-deduction-day",
        "bad-config-name", "renew-times", "period-type",
    ],
)  # fmt: skip
def test_write_arguments_validated_before_sending(call, error, match):
    async def attempt(c):
        with pytest.raises(error, match=match):
            await call(c)

    _, fake = run(attempt, {}, agency_name="agency")
    assert fake.seen == []


ERROR_SHAPES = [
    pytest.param(
        {"error_code": "CBC.0100", "error_msg": "invalid quota_amount"},
        "CBC.0100",
        "invalid quota_amount",
        id="error_code",
    ),
    pytest.param({"errorCode": "CBC.0101", "errorMsg": "bad"}, "CBC.0101", "bad", id="camelCase"),
    pytest.param({"code": "APIG.0301", "message": "sig"}, "APIG.0301", "sig", id="code-message"),
    pytest.param(
        {"error": {"code": "IAM.0001", "message": "nested"}}, "IAM.0001", "nested", id="nested"
    ),
    pytest.param(
        {"error": {"error_code": "CBC.7", "error_msg": "deep"}}, "CBC.7", "deep", id="nested-snake"
    ),
    pytest.param(
        "<html>\n  Bad   Request\n</html>", "400", "<html> Bad Request </html>", id="html"
    ),
    pytest.param("", "400", "", id="empty"),
    pytest.param({"unexpected": 1}, "400", '{"unexpected": 1}', id="unknown-json"),
]


@pytest.mark.parametrize(("body", "code", "msg"), ERROR_SHAPES)
def test_error_body_shapes(body, code, msg):
    async def attempt(c):
        with pytest.raises(ApiError) as info:
            await c.update_coupon_quotas("q-1", ["ip-1"], Decimal("1.00"))
        return info.value

    exc, _ = run(attempt, {("POST", ADJUST): [reply(400, body)]})
    assert type(exc) is ApiError
    assert (exc.status, exc.error_code, exc.error_msg) == (400, code, msg)


def test_error_message_format_with_request_id():
    body = {"error_code": "CBC.0100", "error_msg": "invalid quota_amount"}

    async def attempt(c):
        with pytest.raises(ApiError) as info:
            await c.update_coupon_quotas("q-1", ["ip-1"], Decimal("1.00"))
        return info.value

    exc, _ = run(attempt, {("POST", ADJUST): [reply(400, body, x_request_id="7f3c01")]})
    assert str(exc) == (
        "POST /v2/partners/coupon-quotas/indirect-partner-adjust -> 400 CBC.0100: "
        "invalid quota_amount (request id 7f3c01)"
    )
    assert exc.request_id == "7f3c01"


@pytest.mark.parametrize(
    ("status", "cls", "calls"),
    [
        (400, ApiError, 1),
        (404, ApiError, 1),
        (401, AuthError, 1),
        (403, AuthError, 1),
        (429, ThrottledError, 3),
        (500, ServerError, 3),
        (503, ServerError, 3),
    ],
)
def test_status_to_exception_class(status, cls, calls):
    async def attempt(c):
        with pytest.raises(ApiError) as info:
            await c.list_sub_customers()
        return info.value

    exc, fake = run(
        attempt,
        {("POST", CUSTOMERS): [reply(status, {"error_code": "X.1", "error_msg": "m"})]},
        max_attempts=3,
        read_patience=0,  # a read gives up after max_attempts, like a write
    )
    assert type(exc) is cls
    assert len(fake.seen) == calls


def test_success_body_with_error_code_raises():
    async def attempt(c):
        with pytest.raises(ApiError) as info:
            await c.list_quota_coupons()
        return info.value

    exc, fake = run(
        attempt,
        {("POST", QUOTAS): [reply(200, {"error_code": "CBC.5001", "error_msg": "not a partner"})]},
    )
    assert (exc.status, exc.error_code) == (200, "CBC.5001")
    assert len(fake.seen) == 1


def test_models_parse_the_fields_the_reconciler_needs():
    customers = {
        "customer_infos": [
            {
                "customer_id": "c1",
                "account_name": "acme",
                "customer": "ACME Ltd",
                "association_type": "2",
                "telephone": "138****",
                "email": "a@b.c",
                "account_managers": [{"account_name": "mgr-1"}],
            },
            {"customer_id": "c2", "account_name": "solo", "account_managers": []},
        ],
        "count": 2,
    }
    records = {
        "records": [
            {
                "id": "r1",
                "operation_type": "10",
                "quota_id": "child",
                "parent_quota_id": "parent",
                "amount": 1200.5,
                "operation_time": "2026-01-01T00:00:00Z",
                "result": "0",
                "indirect_partner_id": "ip-1",
                "remark": "x",
            }
        ],
        "total_count": 1,
    }

    async def calls(c):
        return await c.list_sub_customers(), await c.list_coupon_quotas_records(operation_type="10")

    (cust, recs), fake = run(
        calls,
        {("POST", CUSTOMERS): [reply(200, customers)], ("GET", RECORDS): [reply(200, records)]},
    )
    assert cust.total == 2
    assert cust.items[0].account_manager == "mgr-1"
    assert cust.items[0].name == "ACME Ltd"
    assert (cust.items[0].telephone, cust.items[0].email) == ("138****", "a@b.c")
    assert cust.items[1].account_manager is None
    assert recs.items[0].amount == Decimal("1200.50")
    assert recs.items[0].parent_quota_id == "parent"
    assert fake.seen[1].query == b"limit=100&offset=0&operation_type=10"
