"""Signature verification: the REFERENCE §2.4 vectors, and what the emulator accepts or refuses."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest

from reconciler.emulator import Emulator, EmulatorRequest, HeaderMap, VirtualClock
from reconciler.emulator.auth import authenticate, canonical_query, canonical_request, sign
from reconciler.emulator.errors import AuthenticationFailed
from reconciler.emulator.models import Credential

from . import demo
from .client import Api, sdk_date
from .signer import authorization

VECTOR_AK = "HPUATESTAK0000000001"
VECTOR_SK = "testSecretKey0000000000000000000000000001"
VECTOR_TIME = dt.datetime(2024, 1, 15, 8, 30, tzinfo=dt.timezone.utc).timestamp()
SDK_HEADERS = {
    "Content-Type": "application/json",
    "Host": "bss.myhuaweicloud.com",
    "User-Agent": "huaweicloud-usdk-python/3.0; reconciler-test",
    "X-Domain-Id": "0123456789abcdef0123456789abcdef",
    "X-Sdk-Date": "20240115T083000Z",
}
SDK_SIGNED = "content-type;host;user-agent;x-domain-id;x-sdk-date"

# (id, method, path, raw query, headers, body, canonical-request sha256, signature)
VECTORS: list[tuple[str, str, str, str, dict[str, str], bytes, str, str]] = [
    (
        "A-minimal",
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-reclaim",
        "",
        {
            "Content-Type": "application/json",
            "Host": "bss.myhuaweicloud.com",
            "X-Sdk-Date": "20240115T083000Z",
        },
        b'{"quota_ids": ["2020061902584509"], "remark": "test"}',
        "67c8654d71730ee92c0901f05ee0d9a61c565a7069abcd698c2de1412df2bdba",
        "df869add98e8c9817a0e0a36dd37560ccde834a5dabd2733377e5e105bebe311",
    ),
    (
        "B-sub-customers",
        "POST",
        "/v2/partners/sub-customers/query",
        "",
        SDK_HEADERS,
        b'{"offset": 0, "limit": 100}',
        "d536581b842d74ef87c39e5936de13e0f86c4a7574fd87c4f488dee6b0031bbf",
        "fe1f851b44889a55307aea310de667fc4d706e1a640160f67d44bd012f445d99",
    ),
    (
        "C-issued-quotas",
        "GET",
        "/v2/partners/issued-coupon-quotas",
        "indirect_partner_id=ip-001&limit=100&offset=0",
        SDK_HEADERS,
        b"",
        "907d67a067cd4c376fd711db4200a77c7a0c8caf38dedb9f1b2a9a91ae85e571",
        "e0540457faa4466b40bd9080ed2e29e9a9fce2d7e757607a161e019108ad98aa",
    ),
    (
        "D-repeated-and-encoded-query",
        "GET",
        "/v2/promotions/benefits/partner-coupons/records/query",
        "customer_id=cust%2001&limit=50&offset=0&operation_time_begin=2024-01-01T00%3A00%3A00Z"
        "&operation_types=1&operation_types=2",
        SDK_HEADERS,
        b"",
        "502a1cc2a4672f39dba8ad096151c5b0c509a800cfb82c3a4cdb7c7cdd3db32a",
        "e83fb30297c09d91c37ab2583fd4d24deb821dbc2ac954bda787f7b8088975c2",
    ),
    (
        "E-delete",
        "DELETE",
        "/v2/orders/subscriptions/resources/autorenew/res-abc",
        "",
        SDK_HEADERS,
        b"",
        "90b9a508cd1db27cd23863b3c520cc646fffdb586df291176bc9aac361451848",
        "6aa377fcc05318d42ec1f2451dcfa5eabd0a6d7e73bc660a26fbe3a9147f34bc",
    ),
]


@pytest.fixture
def vector_emu() -> Emulator:
    """An emulator whose clock reads 2024-01-15T08:30:00Z and which knows the vectors' key."""
    emu = Emulator(clock=VirtualClock(start=VECTOR_TIME), seed={"partner": _vector_partner()})
    return emu


def _vector_partner() -> dict[str, Any]:
    return {
        "domain_id": "0123456789abcdef0123456789abcdef",
        "account_name": "vector-partner",
        "xaccount_type": "vector_platform",
        "credentials": [{"ak": VECTOR_AK, "sk": VECTOR_SK}],
    }


@pytest.mark.parametrize("vector", [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_reference_vectors_through_the_verifier(
    vector_emu: Emulator, vector: tuple[str, str, str, dict[str, str], bytes, str, str]
) -> None:
    method, path, query, headers, body, creq_hash, signature = vector
    header_map = HeaderMap(headers)
    signed = sorted(header_map)
    creq = canonical_request(method, path, query, header_map, signed_headers=signed, body=body)
    assert hashlib.sha256(creq.encode()).hexdigest() == creq_hash
    assert sign(VECTOR_SK, "20240115T083000Z", creq) == signature

    auth = (
        f"SDK-HMAC-SHA256 Access={VECTOR_AK}, SignedHeaders={';'.join(signed)}, "
        f"Signature={signature}"
    )
    request = EmulatorRequest(method, path, query, {**headers, "Authorization": auth}, body)
    state = vector_emu._store.state
    caller = authenticate(request, state, VECTOR_TIME)
    assert caller.kind == "partner"
    assert caller.account_id == "0123456789abcdef0123456789abcdef"
    if headers is SDK_HEADERS:
        assert ";".join(signed) == SDK_SIGNED


def test_vector_d_query_is_rebuilt_from_unsorted_decoded_pairs() -> None:
    received = "operation_types=2&customer_id=cust%2001&operation_types=1&limit=50&offset=0"
    received += "&operation_time_begin=2024-01-01T00:00:00Z"
    assert canonical_query(received) == (
        "customer_id=cust%2001&limit=50&offset=0&operation_time_begin=2024-01-01T00%3A00%3A00Z"
        "&operation_types=1&operation_types=2"
    )


def test_a_literal_plus_is_canonicalised_as_2b() -> None:
    assert canonical_query("label=a+b") == "label=a%2Bb"
    assert canonical_query("label=a%2Bb") == "label=a%2Bb"


def _signed(api: Api, path: str, body: bytes, **overrides: str) -> EmulatorRequest:
    headers = {
        "Content-Type": "application/json",
        "Host": overrides.pop("host", "bss.myhuaweicloud.com"),
        "X-Sdk-Date": overrides.pop("date", sdk_date(api.emu.clock.time())),
    }
    headers["Authorization"] = authorization(
        "POST",
        path,
        "",
        headers,
        body,
        ak=overrides.pop("ak", api.ak),
        sk=overrides.pop("sk", api.sk),
    )
    headers.update(overrides)
    return EmulatorRequest("POST", path, "", headers, body)


SUB = "/v2/partners/sub-customers/query"


@pytest.mark.parametrize(
    ("mutate", "status", "fragment"),
    [
        (lambda r: r, 200, None),
        (lambda r: _with_header(r, "Authorization", None), 401, "Authorization header is missing"),
        (lambda r: _with_body(r, b'{"limit": 2} '), 401, "signature does not match"),
        (lambda r: _with_header(r, "Host", "evil.example.com"), 401, "signature does not match"),
        (lambda r: _with_header(r, "X-Auth-Token", "t"), 401, "signature does not match"),
    ],
    ids=["accepted", "missing-authorization", "body-changed", "host-changed", "extra-unsigned-ok"],
)
def test_tampering_is_refused(api: Api, mutate: Any, status: int, fragment: str | None) -> None:
    request = mutate(_signed(api, SUB, b'{"limit": 2}'))
    if fragment == "signature does not match" and "x-auth-token" in request.headers:
        status, fragment = 200, None  # an unsigned extra header does not matter
    response = api.emu.handle(request)
    assert response.status == status
    if fragment:
        assert response.body.startswith(b'{"error_code":"APIG.0301"')
        assert fragment.encode() in response.body


def _with_header(request: EmulatorRequest, name: str, value: str | None) -> EmulatorRequest:
    headers = {k: v for k, v in request.headers.items() if k != name.lower()}
    if value is not None:
        headers[name] = value
    return EmulatorRequest(request.method, request.path, request.raw_query, headers, request.body)


def _with_body(request: EmulatorRequest, body: bytes) -> EmulatorRequest:
    return EmulatorRequest(request.method, request.path, request.raw_query, request.headers, body)


@pytest.mark.parametrize(
    ("skew", "status"),
    [(0, 200), (14 * 60, 200), (-14 * 60, 200), (15 * 60 + 1, 401), (-16 * 60, 401)],
    ids=["now", "14-min-behind", "14-min-ahead", "15-min-1s-behind", "16-min-ahead"],
)
def test_clock_skew_limit_is_15_minutes(api: Api, skew: int, status: int) -> None:
    date = sdk_date(api.emu.clock.time() - skew)
    response = api.emu.handle(_signed(api, SUB, b"{}", date=date))
    assert response.status == status
    if status == 401:
        assert b"more than 15 minutes" in response.body


@pytest.mark.parametrize(
    ("ak", "sk", "fragment"),
    [
        ("HPUAUNKNOWN000000001", "whatever", b"does not exist"),
        ("HPUAEMUPARTNER000001", "wrong-secret", b"signature does not match"),
    ],
    ids=["unknown-ak", "wrong-sk"],
)
def test_unknown_key_or_wrong_secret_is_401(api: Api, ak: str, sk: str, fragment: bytes) -> None:
    response = api.emu.handle(_signed(api, SUB, b"{}", ak=ak, sk=sk))
    assert response.status == 401
    assert fragment in response.body
    assert response.headers["X-Request-Id"]


def test_port_in_host_is_part_of_the_signature(api: Api) -> None:
    request = _signed(api, SUB, b"{}", host="127.0.0.1:8765")
    assert api.emu.handle(request).status == 200
    moved = _with_header(request, "Host", "127.0.0.1:9999")
    assert api.emu.handle(moved).status == 401


def test_plus_in_query_signed_as_2b_is_accepted(api: Api) -> None:
    path = "/v2/partners/issued-coupon-quotas"
    headers = {"Content-Type": "application/json", "Host": "bss.myhuaweicloud.com",
               "X-Sdk-Date": sdk_date(api.emu.clock.time())}  # fmt: skip
    headers["Authorization"] = authorization(
        "GET", path, "quota_id=a%2Bb", headers, b"", ak=api.ak, sk=api.sk
    )
    response = api.emu.handle(EmulatorRequest("GET", path, "quota_id=a+b", headers, b""))
    assert response.status == 200
    assert response.body == b'{"total_count":0,"quotas":[]}'


def test_sdk_header_set_with_domain_id_and_user_agent(api: Api) -> None:
    assert api.post(SUB, {"limit": 1}).status == 200


def test_mismatched_domain_id_is_refused(emu: Emulator) -> None:
    reply = Api(emu, domain_id="ffffffffffffffffffffffffffffffff").post(SUB, {})
    assert reply.status == 401
    assert reply.code == "APIG.0301"


def test_x_auth_token_alone_is_not_supported(api: Api) -> None:
    headers = {"X-Auth-Token": "MIIabc", "Host": "bss.myhuaweicloud.com"}
    response = api.emu.handle(EmulatorRequest("POST", SUB, "", headers, b"{}"))
    assert response.status == 401
    assert b"X-Auth-Token" in response.body


def test_host_and_date_must_be_signed(api: Api) -> None:
    headers = {"Content-Type": "application/json", "Host": "bss.myhuaweicloud.com",
               "X-Sdk-Date": sdk_date(api.emu.clock.time())}  # fmt: skip
    only_ct = {"Content-Type": headers["Content-Type"], "X-Sdk-Date": headers["X-Sdk-Date"]}
    auth = authorization("POST", SUB, "", only_ct, b"{}", ak=api.ak, sk=api.sk)
    response = api.emu.handle(
        EmulatorRequest("POST", SUB, "", {**headers, "Authorization": auth}, b"{}")
    )
    assert response.status == 401
    assert b"must include host" in response.body


def test_security_token_with_a_permanent_key_is_refused(api: Api) -> None:
    api.token = "not-for-permanent-keys"
    assert api.post(SUB, {}).status == 401


def test_temporary_credentials_need_their_token(api: Api) -> None:
    customer = api.as_customer(demo.XINGHE)
    assert customer.post("/v2/orders/suscriptions/resources/query", {}).status == 200
    customer.token = "forged"
    assert customer.post("/v2/orders/suscriptions/resources/query", {}).status == 401
    customer.token = None
    reply = customer.post("/v2/orders/suscriptions/resources/query", {})
    assert reply.status == 401
    assert b"X-Security-Token" in reply.body


def test_state_credentials_hold_the_default_keys(emu: Emulator) -> None:
    creds = emu._store.state.credentials
    assert creds["HPUAEMUPARTNER000001"] == Credential(
        "HPUAEMUPARTNER000001", "emulator-partner-secret-key-not-for-production", "admin"
    )
    assert creds["HPUAEMUREADONLY00001"].role == "readonly"
    with pytest.raises(AuthenticationFailed):
        authenticate(EmulatorRequest("GET", "/", "", {}, b""), emu._store.state, 0.0)
