"""A tiny signed test client over the emulator's sync transport (tests only)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from reconciler.emulator import (
    DEFAULT_DOMAIN_ID,
    DEFAULT_PARTNER_AK,
    DEFAULT_PARTNER_SK,
    DEFAULT_XACCOUNT_TYPE,
    Emulator,
)

from .signer import authorization, canonical_query

BSS_HOST = "bss.myhuaweicloud.com"
IAM_HOST = "iam.myhuaweicloud.com"
USER_AGENT = "huaweicloud-usdk-python/3.0; reconciler-test"

Query = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


def sdk_date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def sdk_json(body: Any) -> bytes:
    """What the Python SDK sends: ", " and ": " separators; Decimal as a bare number."""

    class _Enc(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            raise TypeError(o)

    text = json.dumps(_with_markers(body), ensure_ascii=False, cls=_Enc)
    return _unmark(text).encode("utf-8")


def _with_markers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"\x00{value}\x00"
    if isinstance(value, dict):
        return {k: _with_markers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_markers(v) for v in value]
    return value


def _unmark(text: str) -> str:
    return text.replace('"\\u0000', "").replace('\\u0000"', "")


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)

    @property
    def code(self) -> str | None:
        if not self.body:
            return None
        data = self.json
        return data.get("error_code") if isinstance(data, dict) else None


@dataclass
class Api:
    """Signs like the SDK (§2.3 header set) and sends through ``transport``."""

    emu: Emulator
    ak: str = DEFAULT_PARTNER_AK
    sk: str = DEFAULT_PARTNER_SK
    token: str | None = None
    domain_id: str | None = DEFAULT_DOMAIN_ID
    host: str = BSS_HOST
    scheme: str = "https"
    transport: httpx.BaseTransport | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def build(
        self,
        method: str,
        path: str,
        *,
        query: Query = None,
        body: Any = None,
        raw_body: bytes | None = None,
        date: str | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        """``(url, headers, content)`` of a signed request."""
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query or [])
        qs = canonical_query((k, _text(v)) for k, v in pairs)
        content = raw_body if raw_body is not None else (b"" if body is None else sdk_json(body))
        headers = {
            "Content-Type": "application/json",
            "Host": self.host,
            "User-Agent": USER_AGENT,
            "X-Sdk-Date": date or sdk_date(self.emu.clock.time()),
        }
        if self.domain_id:
            headers["X-Domain-Id"] = self.domain_id
        if self.token:
            headers["X-Security-Token"] = self.token
        headers.update(self.extra_headers)
        headers["Authorization"] = authorization(
            method, path, qs, headers, content, ak=self.ak, sk=self.sk
        )
        url = f"{self.scheme}://{self.host}{path}" + (f"?{qs}" if qs else "")
        return url, headers, content

    def request(self, method: str, path: str, **kw: Any) -> Reply:
        url, headers, content = self.build(method, path, **kw)
        transport = self.transport or self.emu.sync_transport()
        with httpx.Client(transport=transport) as client:
            resp = client.request(method, url, content=content, headers=headers)
        return Reply(resp.status_code, resp.headers, resp.content)

    async def arequest(
        self, client: httpx.AsyncClient, method: str, path: str, *, timeout: float = 30.0, **kw: Any
    ) -> Reply:
        """Send through an ``AsyncClient`` (e.g. one over the emulator's async transport)."""
        url, headers, content = self.build(method, path, **kw)
        resp = await client.request(method, url, content=content, headers=headers, timeout=timeout)
        return Reply(resp.status_code, resp.headers, resp.content)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body={} if body is None else body, **kw)

    def get(self, path: str, query: Query = None, **kw: Any) -> Reply:
        return self.request("GET", path, query=query, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)

    def temp_credentials(
        self, customer_id: str, agency: str = DEFAULT_XACCOUNT_TYPE, duration: int | None = None
    ) -> Reply:
        assume: dict[str, Any] = {"agency_name": agency, "domain_id": customer_id}
        if duration is not None:
            assume["duration_seconds"] = duration
        body = {"auth": {"identity": {"methods": ["assume_role"], "assume_role": assume}}}
        iam = Api(self.emu, self.ak, self.sk, self.token, domain_id=self.domain_id, host=IAM_HOST)
        return iam.post("/v3.0/OS-CREDENTIAL/securitytokens", body)

    def as_customer(self, customer_id: str) -> Api:
        reply = self.temp_credentials(customer_id)
        assert reply.status == 201, reply.body
        cred = reply.json["credential"]
        return Api(
            self.emu,
            cred["access"],
            cred["secret"],
            token=cred["securitytoken"],
            domain_id=customer_id,
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
