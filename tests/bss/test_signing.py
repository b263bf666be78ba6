# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""SDK-HMAC-SHA256 against the five vectors of REFERENCE §2.4, byte for byte."""

from __future__ import annotations

import hashlib

import pytest

from reconciler.bss.signing import (
    canonical_query,
    canonical_uri,
    encode_path,
    host_header,
    query_pairs,
    sdk_date,
    sign_request,
)

from .fakes import AK, DOMAIN_ID, SK

DATE = "20240115T083000Z"
HOST = "bss.myhuaweicloud.com"
FULL_HEADERS = {
    "Content-Type": "application/json",
    "Host": HOST,
    "User-Agent": "huaweicloud-usdk-python/3.0; reconciler-test",
    "X-Domain-Id": DOMAIN_ID,
    "X-Sdk-Date": DATE,
}
FULL_SIGNED = "content-type;host;user-agent;x-domain-id;x-sdk-date"

VECTOR_D_QUERY = (
    "customer_id=cust%2001&limit=50&offset=0&operation_time_begin=2024-01-01T00%3A00%3A00Z"
    "&operation_types=1&operation_types=2"
)

VECTORS = [
    pytest.param(
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-reclaim",
        [],
        {"Content-Type": "application/json", "Host": HOST, "X-Sdk-Date": DATE},
        b'{"quota_ids": ["2020061902584509"], "remark": "test"}',
        "67c8654d71730ee92c0901f05ee0d9a61c565a7069abcd698c2de1412df2bdba",
        "df869add98e8c9817a0e0a36dd37560ccde834a5dabd2733377e5e105bebe311",
        "content-type;host;x-sdk-date",
        id="A-minimal",
    ),
    pytest.param(
        "POST",
        "/v2/partners/sub-customers/query",
        [],
        FULL_HEADERS,
        b'{"offset": 0, "limit": 100}',
        "d536581b842d74ef87c39e5936de13e0f86c4a7574fd87c4f488dee6b0031bbf",
        "fe1f851b44889a55307aea310de667fc4d706e1a640160f67d44bd012f445d99",
        FULL_SIGNED,
        id="B-post-body",
    ),
    pytest.param(
        "GET",
        "/v2/partners/issued-coupon-quotas",
        query_pairs({"indirect_partner_id": "ip-001", "limit": 100, "offset": 0}),
        FULL_HEADERS,
        None,
        "907d67a067cd4c376fd711db4200a77c7a0c8caf38dedb9f1b2a9a91ae85e571",
        "e0540457faa4466b40bd9080ed2e29e9a9fce2d7e757607a161e019108ad98aa",
        FULL_SIGNED,
        id="C-get-query",
    ),
    pytest.param(
        "GET",
        "/v2/promotions/benefits/partner-coupons/records/query",
        query_pairs(
            {
                "operation_types": ["2", "1"],
                "customer_id": "cust 01",
                "operation_time_begin": "2024-01-01T00:00:00Z",
                "offset": 0,
                "limit": 50,
            }
        ),
        FULL_HEADERS,
        None,
        "502a1cc2a4672f39dba8ad096151c5b0c509a800cfb82c3a4cdb7c7cdd3db32a",
        "e83fb30297c09d91c37ab2583fd4d24deb821dbc2ac954bda787f7b8088975c2",
        FULL_SIGNED,
        id="D-repeated-and-encoded-query",
    ),
    pytest.param(
        "DELETE",
        "/v2/orders/subscriptions/resources/autorenew/res-abc",
        [],
        FULL_HEADERS,
        None,
        "90b9a508cd1db27cd23863b3c520cc646fffdb586df291176bc9aac361451848",
        "6aa377fcc05318d42ec1f2451dcfa5eabd0a6d7e73bc660a26fbe3a9147f34bc",
        FULL_SIGNED,
        id="E-delete",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "creq_sha", "signature", "signed_headers"),
    VECTORS,
)
def test_reference_vectors(method, path, query, headers, body, creq_sha, signature, signed_headers):
    signed = sign_request(method, path, query, headers, body, ak=AK, sk=SK)
    assert signed.canonical_request_sha256 == creq_sha
    assert signed.signature == signature
    assert signed.headers["Authorization"] == (
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders={signed_headers}, Signature={signature}"
    )
    assert signed.string_to_sign == f"SDK-HMAC-SHA256\n{DATE}\n{creq_sha}"


def test_vector_a_canonical_request_text():
    body = b'{"quota_ids": ["2020061902584509"], "remark": "test"}'
    headers = {"Content-Type": "application/json", "Host": HOST, "X-Sdk-Date": DATE}
    path = "/v2/partners/coupon-quotas/indirect-partner-reclaim"
    signed = sign_request("POST", path, [], headers, body, ak=AK, sk=SK)
    assert signed.canonical_request == (
        "POST\n"
        "/v2/partners/coupon-quotas/indirect-partner-reclaim/\n"
        "\n"
        "content-type:application/json\n"
        "host:bss.myhuaweicloud.com\n"
        "x-sdk-date:20240115T083000Z\n"
        "\n"
        "content-type;host;x-sdk-date\n"
        "89ae237e445950e8decb56b5f9c7412c1603cc1e36f148b264f356ccf67dd46c"
    )
    assert hashlib.sha256(body).hexdigest() == (
        "89ae237e445950e8decb56b5f9c7412c1603cc1e36f148b264f356ccf67dd46c"
    )


def test_vector_d_canonical_query_line():
    pairs = query_pairs(
        [
            ("operation_types", ["2", "1"]),
            ("customer_id", "cust 01"),
            ("operation_time_begin", "2024-01-01T00:00:00Z"),
            ("offset", 0),
            ("limit", 50),
        ]
    )
    assert canonical_query(pairs) == VECTOR_D_QUERY


@pytest.mark.parametrize(
    ("path", "sent", "signed"),
    [
        ("/v2/partners/sub-customers/query", "/v2/partners/sub-customers/query", None),
        ("/a/b c/d", "/a/b%20c/d", "/a/b%20c/d/"),
        ("/a/b%20c", "/a/b%20c", "/a/b%20c/"),
        ("/x/a:b+c~", "/x/a%3Ab%2Bc~", "/x/a%3Ab%2Bc~/"),
        ("/trailing/", "/trailing/", "/trailing/"),
    ],
)
def test_path_encoding(path, sent, signed):
    assert encode_path(path) == sent
    assert canonical_uri(path) == (signed or sent + "/")


def test_query_pairs_flattening():
    pairs = query_pairs({"a": None, "b": True, "c": [1, None, 2], "d": ""})
    assert pairs == [("b", "true"), ("c", "1"), ("c", "2"), ("d", "")]
    assert canonical_query([("k", "a/b c+d")]) == "k=a%2Fb%20c%2Bd"


def test_signer_needs_host_and_date():
    with pytest.raises(ValueError, match="Host and X-Sdk-Date"):
        sign_request("GET", "/", [], {"Host": HOST}, None, ak=AK, sk=SK)


def test_headers_with_underscore_are_not_signed():
    headers = {"Host": HOST, "X-Sdk-Date": DATE, "X_Custom": "1"}
    signed = sign_request("GET", "/", [], headers, None, ak=AK, sk=SK)
    assert "SignedHeaders=host;x-sdk-date," in signed.headers["Authorization"]


def test_sdk_date_and_host():
    assert sdk_date(1705307400.9) == "20240115T083000Z"
    assert host_header("http://127.0.0.1:8443/base") == "127.0.0.1:8443"
    assert host_header("https://bss.myhuaweicloud.com") == "bss.myhuaweicloud.com"
