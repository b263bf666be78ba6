"""SDK-HMAC-SHA256 request signing, exactly as ``huaweicloudsdkcore`` 3.1.219 does it.

REFERENCE §2.2. The canonical query string built here is also the query string the client sends,
so the URL and the signature always agree (§2.2 step 4). :func:`sign_request` reproduces the five
test vectors of §2.4 byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from .credentials import Credentials, Secret

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DATE_FORMAT = "%Y%m%dT%H%M%SZ"

QueryPairs = Sequence[tuple[str, str]]


def _enc(text: str) -> str:
    """Percent-encode everything except the RFC 3986 unreserved set (space -> %20)."""
    return quote(text, safe="~")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_pairs(
    params: Mapping[str, object] | Iterable[tuple[str, object]],
) -> list[tuple[str, str]]:
    """Flatten parameters into ``(key, value)`` pairs: ``None`` dropped, lists repeated."""
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, _text(v)) for v in value if v is not None)
        else:
            pairs.append((key, _text(value)))
    return pairs


def encode_path(path: str) -> str:
    """The path as sent: each segment percent-encoded, no trailing slash added."""
    return "/".join(_enc(segment) for segment in unquote(path).split("/"))


def canonical_uri(path: str) -> str:
    """The path as signed: :func:`encode_path` plus a trailing ``/``."""
    encoded = encode_path(path)
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(pairs: QueryPairs) -> str:
    """Pairs sorted by key then value, RFC 3986 encoded, joined with ``&``."""
    ordered = sorted((str(k), str(v)) for k, v in pairs)
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in ordered)


def sdk_date(epoch_seconds: float) -> str:
    """``X-Sdk-Date`` for a Unix time, e.g. ``20240115T083000Z``."""
    return time.strftime(DATE_FORMAT, time.gmtime(epoch_seconds))


def host_header(endpoint: str) -> str:
    """``host[:port]`` exactly as the endpoint URL spells it (a non-default port is kept)."""
    netloc = urlsplit(endpoint).netloc
    return netloc.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The headers to send (``Authorization`` included) and the intermediate strings."""

    headers: dict[str, str]
    canonical_query: str
    canonical_request: str
    string_to_sign: str
    signature: str

    @property
    def canonical_request_sha256(self) -> str:
        return hashlib.sha256(self.canonical_request.encode("utf-8")).hexdigest()


def sign_request(
    method: str,
    path: str,
    query: QueryPairs,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    ak: str,
    sk: Secret | str,
) -> SignedRequest:
    """Sign a request. ``headers`` must already hold ``Host`` and ``X-Sdk-Date``."""
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    if "host" not in lowered or "x-sdk-date" not in lowered:
        raise ValueError("sign_request needs Host and X-Sdk-Date headers")
    names = sorted(name for name in lowered if "_" not in name and name != "authorization")
    signed_headers = ";".join(names)
    cquery = canonical_query(query)
    canonical = "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            cquery,
            "".join(f"{name}:{lowered[name]}\n" for name in names),
            signed_headers,
            hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256,
        ]
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{lowered['x-sdk-date']}\n{digest}"
    key = sk.reveal() if isinstance(sk, Secret) else sk
    signature = hmac.new(key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256)
    hex_signature = signature.hexdigest()
    out = dict(headers)
    out["Authorization"] = (
        f"{ALGORITHM} Access={ak}, SignedHeaders={signed_headers}, Signature={hex_signature}"
    )
    return SignedRequest(out, cquery, canonical, string_to_sign, hex_signature)


def request_headers(
    endpoint: str,
    credentials: Credentials,
    *,
    now: float,
    user_agent: str,
) -> dict[str, str]:
    """The headers the SDK sends to BSS (§2.3), before signing."""
    headers = {
        "Content-Type": "application/json",
        "Host": host_header(endpoint),
        "User-Agent": user_agent,
        "X-Sdk-Date": sdk_date(now),
    }
    if credentials.domain_id:
        headers["X-Domain-Id"] = credentials.domain_id
    if credentials.security_token is not None:
        headers["X-Security-Token"] = credentials.security_token.reveal()
    return headers


def sign_for(
    method: str,
    endpoint: str,
    path: str,
    *,
    query: QueryPairs,
    body: bytes | None,
    credentials: Credentials,
    now: float,
    user_agent: str,
) -> tuple[str, SignedRequest]:
    """Build the full URL and the signed headers for one attempt of a request."""
    parts = urlsplit(endpoint)
    full_path = parts.path.rstrip("/") + path
    headers = request_headers(endpoint, credentials, now=now, user_agent=user_agent)
    signed = sign_request(
        method, full_path, query, headers, body, ak=credentials.ak, sk=credentials.sk
    )
    url = f"{parts.scheme}://{parts.netloc}{encode_path(full_path)}"
    if signed.canonical_query:
        url = f"{url}?{signed.canonical_query}"
    return url, signed
