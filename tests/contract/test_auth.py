"""Authentication and identity: wrong SK, clock skew, read-only operators, customer-only and
partner-only endpoints, and the REFERENCE §2.4 vector B accepted as sent, in both modes.
"""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, operations
from reconciler.errors import AuthError

from .harness import Contract, open_contract, partner_credentials, readonly_credentials
from .seeded import (
    CHILD_TIANFU,
    CUSTOMER_COUNT,
    JINQIAO,
    JQ_TMS_APP,
    QUOTA_MAIN,
    TIANFU,
    XINGHE,
    XINGHE_ORDERS_DB,
    XINGHE_RESOURCE_COUNT,
    XINGHE_WEB_01,
)

Action = Callable[[BssClient], Awaitable[Any]]
ONE = Decimal("1.00")


def _bss_and_iam_calls(contract: Contract) -> list[tuple[str | None, int | None, str | None]]:
    return [(c["operation"], c["status"], c["error_code"]) for c in contract.control.calls()]


# --- wrong secret key -------------------------------------------------------------------------
WRONG_SK = [
    pytest.param(lambda c: c.list_sub_customers(), "list_sub_customers", id="7.1-read"),
    pytest.param(lambda c: c.list_issued_coupon_quotas(indirect_partner_id=TIANFU),
                 "list_issued_coupon_quotas", id="7.11-get-with-query"),
    pytest.param(lambda c: c.update_coupon_quotas(QUOTA_MAIN, [TIANFU], ONE),
                 "update_coupon_quotas", id="7.9-issue"),
    pytest.param(lambda c: c.reclaim_coupon_quotas([CHILD_TIANFU]),
                 "reclaim_coupon_quotas", id="7.10-reclaim"),
    pytest.param(lambda c: c.auto_renewal_resources(JINQIAO, JQ_TMS_APP),
                 "iam_create_temporary_access_key", id="2.6-iam-for-auto-renew"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "operation"), WRONG_SK)
def test_wrong_secret_key_is_401(contract: Contract, action: Action, operation: str) -> None:
    before = contract.control.state()["quotas"]
    client = contract.new_client(partner_credentials(sk="not-the-secret-key"))
    with pytest.raises(AuthError) as info:
        contract.run(action(client))
    error = info.value
    assert (error.status, error.error_code) == (401, "APIG.0301")
    assert "signature does not match" in error.error_msg
    assert _bss_and_iam_calls(contract) == [(operation, 401, "APIG.0301")]  # never retried
    assert contract.control.state()["quotas"] == before


# --- clock skew (§2.2 step 1: the gateway allows 15 minutes) -----------------------------------
@pytest.mark.parametrize(
    ("skew_minutes", "accepted"),
    [(16, False), (-16, False), (14, True), (-14, True)],
    ids=["emulator-16-min-ahead", "emulator-16-min-behind", "14-min-ahead-ok", "14-min-behind-ok"],
)
def test_clock_skew_beyond_15_minutes_is_401(mode: str, skew_minutes: int, accepted: bool) -> None:
    with open_contract(mode, skew=skew_minutes * 60.0) as contract:
        if accepted:
            page = contract.call(lambda c: c.list_sub_customers(limit=1))
            assert page.total == CUSTOMER_COUNT
            return
        with pytest.raises(AuthError) as info:
            contract.call(lambda c: c.list_sub_customers(limit=1))
        assert (info.value.status, info.value.error_code) == (401, "APIG.0301")
        assert "is more than 15 minutes from the server time" in info.value.error_msg
        assert _bss_and_iam_calls(contract) == [("list_sub_customers", 401, "APIG.0301")]


# --- a read-only operator ---------------------------------------------------------------------
READ_ONLY = [
    pytest.param(lambda c: c.list_sub_customers(limit=1), None, id="7.1-read-allowed"),
    pytest.param(lambda c: c.list_issued_coupon_quotas(limit=1), None, id="7.11-read-allowed"),
    pytest.param(lambda c: c.list_customer_resources(XINGHE, limit=1), None,
                 id="7.3-read-allowed"),
    pytest.param(lambda c: c.update_coupon_quotas(QUOTA_MAIN, [TIANFU], ONE),
                 ("update_coupon_quotas", 403, "CBC.0151"), id="7.9-issue-denied"),
    pytest.param(lambda c: c.reclaim_coupon_quotas([CHILD_TIANFU]),
                 ("reclaim_coupon_quotas", 403, "CBC.0151"), id="7.10-reclaim-denied"),
    pytest.param(lambda c: c.cancel_auto_renewal_resources(XINGHE, XINGHE_WEB_01),
                 ("iam_create_temporary_access_key", 403, "IAM.0002"),
                 id="7.5-cannot-act-as-customer"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "refused"), READ_ONLY)
def test_read_only_operator(
    contract: Contract, action: Action, refused: tuple[str, int, str] | None
) -> None:
    before = contract.control.state()
    client = contract.new_client(readonly_credentials())
    if refused is None:
        assert contract.run(action(client)).total > 0
        return
    with pytest.raises(AuthError) as info:
        contract.run(action(client))
    _operation, status, code = refused
    assert (info.value.status, info.value.error_code) == (status, code)
    assert _bss_and_iam_calls(contract) == [refused]
    after = contract.control.state()
    assert (after["quotas"], after["records"], after["resources"]) == (
        before["quotas"],
        before["records"],
        before["resources"],
    )


# --- who may call what ------------------------------------------------------------------------
CUSTOMER_ONLY = [
    pytest.param(operations.AUTO_RENEWAL_RESOURCES, {"resource_id": XINGHE_ORDERS_DB}, {},
                 id="7.4-auto_renewal_resources"),
    pytest.param(operations.CANCEL_AUTO_RENEWAL_RESOURCES, {"resource_id": XINGHE_WEB_01}, None,
                 id="7.5-cancel_auto_renewal_resources"),
    pytest.param(operations.SET_RESOURCES_RENEW_CONFIG, {},
                 {"config_name": "DEDUCTION_DATE", "config_value": "3"},
                 id="7.6-set_resources_renew_config"),
    pytest.param(operations.RENEWAL_RESOURCES, {},
                 {"resource_ids": [XINGHE_WEB_01], "period_type": 2, "period_num": 1,
                  "is_auto_pay": 1},
                 id="7.7-renewal_resources"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "path_params", "body"), CUSTOMER_ONLY)
def test_partner_keys_on_a_customer_only_endpoint_are_403(
    contract: Contract,
    op: operations.Operation,
    path_params: dict[str, str],
    body: dict[str, Any] | None,
) -> None:
    """The client's lower-level call path, signed with the partner's own keys (§2.1)."""
    before = contract.control.state()
    path = op.format_path(**path_params)
    with pytest.raises(AuthError) as info:
        contract.call(lambda c: c._call(op, path=path, body=body))
    assert (info.value.status, info.value.error_code) == (403, "CBC.0151")
    (logged,) = contract.control.calls()
    assert (logged["operation"], logged["status"], logged["caller"]["kind"]) == (
        op.name,
        403,
        "partner",
    )
    after = contract.control.state()
    assert (after["resources"], after["customers"], after["orders"]) == (
        before["resources"],
        before["customers"],
        before["orders"],
    )


PARTNER_ONLY = [
    pytest.param(lambda c: c.list_sub_customers(), "list_sub_customers", id="7.1"),
    pytest.param(lambda c: c.list_quota_coupons(), "list_quota_coupons", id="7.8"),
    pytest.param(lambda c: c.update_coupon_quotas(QUOTA_MAIN, [TIANFU], ONE),
                 "update_coupon_quotas", id="7.9"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "operation"), PARTNER_ONLY)
def test_customer_keys_on_a_partner_endpoint_are_403(
    contract: Contract, action: Action, operation: str
) -> None:
    creds = contract.call(lambda c: c.customer_credentials(XINGHE))
    as_customer = contract.new_client(creds)
    with pytest.raises(AuthError) as info:
        contract.run(action(as_customer))
    assert (info.value.status, info.value.error_code) == (403, "CBC.0151")
    assert _bss_and_iam_calls(contract)[1:] == [(operation, 403, "CBC.0151")]


def test_a_customer_lists_its_own_resources(contract: Contract) -> None:
    """§7.3 accepts the customer itself; ``customer_id`` then means nothing to the API."""
    creds = contract.call(lambda c: c.customer_credentials(XINGHE))
    as_customer = contract.new_client(creds)
    page = contract.run(as_customer.list_customer_resources(XINGHE))
    assert page.total == XINGHE_RESOURCE_COUNT
    logged = contract.control.calls("list_pay_per_use_customer_resources")
    assert [(c["status"], c["caller"]["kind"]) for c in logged] == [(200, "customer")]


# --- REFERENCE §2.4 vector B, byte for byte -----------------------------------------------------
VECTOR_AK = "HPUATESTAK0000000001"
VECTOR_SK = "testSecretKey0000000000000000000000000001"
VECTOR_DOMAIN = "0123456789abcdef0123456789abcdef"
VECTOR_TIME = float(calendar.timegm((2024, 1, 15, 8, 30, 0)))  # 2024-01-15T08:30:00Z
VECTOR_B_PATH = "/v2/partners/sub-customers/query"
VECTOR_B_BODY = b'{"offset": 0, "limit": 100}'
VECTOR_B_SIGNATURE = "fe1f851b44889a55307aea310de667fc4d706e1a640160f67d44bd012f445d99"
VECTOR_B_HEADERS = {
    "Content-Type": "application/json",
    "Host": "bss.myhuaweicloud.com",
    "User-Agent": "huaweicloud-usdk-python/3.0; reconciler-test",
    "X-Domain-Id": VECTOR_DOMAIN,
    "X-Sdk-Date": "20240115T083000Z",
    "Authorization": (
        f"SDK-HMAC-SHA256 Access={VECTOR_AK}, "
        "SignedHeaders=content-type;host;user-agent;x-domain-id;x-sdk-date, "
        f"Signature={VECTOR_B_SIGNATURE}"
    ),
}
VECTOR_SEED: dict[str, Any] = {
    "partner": {
        "domain_id": VECTOR_DOMAIN,
        "account_name": "vector-partner",
        "xaccount_type": "vector_platform",
        "credentials": [{"ak": VECTOR_AK, "sk": VECTOR_SK}],
    },
    "customers": [{"customer_id": "vector-customer-0001", "account_name": "vector-customer"}],
}
FLIPPED = VECTOR_B_SIGNATURE[:-1] + ("0" if VECTOR_B_SIGNATURE[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("clock_offset", "headers", "body", "status"),
    [
        pytest.param(0.0, {}, VECTOR_B_BODY, 200, id="as-given"),
        pytest.param(15 * 60.0, {}, VECTOR_B_BODY, 200, id="15-min-later-still-ok"),
        pytest.param(15 * 60.0 + 1, {}, VECTOR_B_BODY, 401, id="15-min-1-s-later"),
        pytest.param(
            0.0,
            {
                "Authorization": VECTOR_B_HEADERS["Authorization"].replace(
                    VECTOR_B_SIGNATURE, FLIPPED
                )
            },
            VECTOR_B_BODY,
            401,
            id="one-hex-digit-changed",
        ),
        pytest.param(0.0, {}, b'{"offset": 0, "limit": 10}', 401, id="body-changed"),
        pytest.param(
            0.0, {"X-Domain-Id": "0" * 32}, VECTOR_B_BODY, 401, id="signed-header-changed"
        ),
    ],
)
def test_emulator_accepts_reference_vector_b(
    mode: str, clock_offset: float, headers: dict[str, str], body: bytes, status: int
) -> None:
    """The exact headers and body of vector B, sent to the emulator at the vector's time.

    Served, the request goes to 127.0.0.1 with ``Host: bss.myhuaweicloud.com``, as signed.
    """
    with open_contract(mode, seed=VECTOR_SEED, emulator_start=VECTOR_TIME + clock_offset) as c:
        sent = {**VECTOR_B_HEADERS, **headers}
        resp = c.run(c.send("POST", VECTOR_B_PATH, headers=sent, content=body))
        assert resp.status_code == status, resp.text
        if status == 200:
            data = resp.json()
            assert data["count"] == 1
            assert [i["customer_id"] for i in data["customer_infos"]] == ["vector-customer-0001"]
            (logged,) = c.control.calls()
            assert logged["caller"]["account_id"] == VECTOR_DOMAIN
        else:
            assert resp.json()["error_code"] == "APIG.0301"
