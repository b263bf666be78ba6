"""SDK-HMAC-SHA256 verification (REFERENCE §2.2, §2.5) and the identity a key stands for.

The canonical request is rebuilt from what was *received*: the method, the raw path, the raw
query (decoded with ``unquote``, never ``unquote_plus``, then re-encoded, so a literal ``+`` is
``%2B``), the headers named in ``SignedHeaders`` and the raw body bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from reconciler.emulator import timefmt
from reconciler.emulator.errors import AuthenticationFailed
from reconciler.emulator.messages import EmulatorRequest
from reconciler.emulator.models import State

ALGORITHM = "SDK-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
_AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$"
)


@dataclass(frozen=True)
class Caller:
    """Who a verified request acts as.

    ``kind`` is ``partner`` (a permanent key of the partner) or ``customer`` (temporary
    credentials from IAM). ``account_id`` is the domain the request acts in.
    """

    kind: str
    account_id: str
    account_name: str
    role: str
    ak: str

    def describe(self) -> dict[str, Any]:
        """For the call log: never a secret, only whose key it was."""
        return {
            "kind": self.kind,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "role": self.role,
        }


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query: str) -> str:
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs))


def canonical_request(
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    *,
    signed_headers: Sequence[str],
    body: bytes,
) -> str:
    """The canonical request of §2.2 step 8. ``headers`` must hold every signed header."""
    header_block = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(raw_query),
            header_block,
            ";".join(signed_headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def sign(secret_key: str, sdk_date: str, creq: str) -> str:
    """Hex HMAC-SHA256 of the string to sign (§2.2 steps 9-10)."""
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(
        secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def authenticate(request: EmulatorRequest, state: State, now: float) -> Caller:
    """Verify the request's signature and return its caller, or raise 401."""
    headers = request.headers
    if "authorization" not in headers:
        if "x-auth-token" in headers:
            # Tokens are an alternative on the real API (§2.1); the emulator models AK/SK only.
            raise AuthenticationFailed(
                "X-Auth-Token is not supported by the emulator; sign with AK/SK"
            )
        raise AuthenticationFailed("the Authorization header is missing")
    match = _AUTH_RE.match(headers["authorization"])
    if match is None:
        raise AuthenticationFailed(
            "the Authorization header is not SDK-HMAC-SHA256 Access=..., "
            "SignedHeaders=..., Signature=..."
        )
    access, signed_text, signature = match.groups()
    signed = signed_text.split(";")
    _check_signed_headers(signed, headers)
    sdk_date = headers["x-sdk-date"].strip()
    _check_clock(sdk_date, now)
    secret, caller = _lookup(access, headers, signed, state, now)
    creq = canonical_request(
        request.method,
        request.path,
        request.raw_query,
        headers,
        signed_headers=signed,
        body=request.body,
    )
    if not hmac.compare_digest(sign(secret, sdk_date, creq), signature.lower()):
        raise AuthenticationFailed(
            "the signature does not match (check the SK, the signed headers, "
            "the path, the query and the body bytes)"
        )
    domain = headers.get("x-domain-id")
    if domain is not None and domain.strip() != caller.account_id:
        # Not documented; the emulator rejects a mismatch so a client bug shows up early.
        raise AuthenticationFailed("X-Domain-Id does not match the account of the access key")
    return caller


def _check_signed_headers(signed: list[str], headers: Mapping[str, str]) -> None:
    for required in ("host", "x-sdk-date"):
        if required not in signed:
            raise AuthenticationFailed(f"SignedHeaders must include {required}")
    for name in signed:
        if name not in headers:
            raise AuthenticationFailed(f"signed header {name} is missing from the request")


def _check_clock(sdk_date: str, now: float) -> None:
    when = timefmt.parse_sdk_date(sdk_date)
    if when is None:
        raise AuthenticationFailed("X-Sdk-Date must look like 20240115T083000Z")
    if abs(now - when) > MAX_SKEW_SECONDS:
        raise AuthenticationFailed(
            f"X-Sdk-Date {sdk_date} is more than 15 minutes from the server time {timefmt.fmt(now)}"
        )


def _lookup(
    access: str, headers: Mapping[str, str], signed: list[str], state: State, now: float
) -> tuple[str, Caller]:
    partner = state.partner
    permanent = state.credentials.get(access)
    if permanent is not None:
        if "x-security-token" in headers:
            raise AuthenticationFailed("X-Security-Token was sent with a permanent access key")
        caller = Caller("partner", partner.domain_id, partner.account_name, permanent.role, access)
        return permanent.sk, caller
    temp = state.temp_credentials.get(access)
    if temp is None:
        raise AuthenticationFailed(f"the access key {access} does not exist")
    if "x-security-token" not in signed:
        raise AuthenticationFailed("temporary credentials need a signed X-Security-Token header")
    if not hmac.compare_digest(headers["x-security-token"].strip(), temp.token):
        raise AuthenticationFailed("the security token does not match the temporary access key")
    if now >= temp.expires_at:
        raise AuthenticationFailed(
            f"the temporary credentials expired at {timefmt.fmt(temp.expires_at)}"
        )
    customer = state.customers.get(temp.customer_id)
    name = customer.account_name if customer else temp.customer_id
    return temp.sk, Caller("customer", temp.customer_id, name, "customer", access)
