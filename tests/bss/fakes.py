"""A tiny scriptable BSS for the client tests, plugged in through ``httpx.MockTransport``.

Routes are keyed by (method, path). Each route holds a queue of replies (a reply is an
``httpx.Response``, an exception to raise, or a callable building either from the request); the
last reply repeats once the queue runs dry. Every request is recorded with the virtual time at
which it arrived.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import httpx

from reconciler.bss import BssClient, Credentials, Secret
from reconciler.bss.signing import sign_request
from reconciler.emulator.clock import VirtualClock

AK = "HPUATESTAK0000000001"
SK = "testSecretKey0000000000000000000000000001"
DOMAIN_ID = "0123456789abcdef0123456789abcdef"
BSS = "https://bss.myhuaweicloud.com"

Reply = httpx.Response | Exception | Callable[[httpx.Request], Any]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: bytes
    headers: httpx.Headers
    body: bytes
    at: float  # clock.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)


def reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON reply (``body=None`` -> empty), with ``request_id=...`` as ``X-Request-Id``."""
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    if isinstance(body, (bytes, str)):
        return httpx.Response(status, content=body, headers=hdrs)
    content = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        hdrs.setdefault("content-type", "application/json")
    return httpx.Response(status, content=content, headers=hdrs)


class FakeBss:
    def __init__(self, clock: VirtualClock, latency: float = 0.0) -> None:
        self.clock = clock
        self.latency = latency
        self.seen: list[Seen] = []
        self._routes: dict[tuple[str, str], list[Reply]] = {}

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self._routes[(method, path)] = list(replies)

    def calls(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if path is None or s.path == path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        path = request.url.path
        self.seen.append(
            Seen(
                request.method,
                path,
                request.url.query,
                request.headers,
                body,
                self.clock.monotonic(),
            )
        )
        if self.latency:
            await self.clock.sleep(self.latency)
        queue = self._routes.get((request.method, path))
        if not queue:
            return reply(501, {"error_code": "FAKE.501", "error_msg": f"no route {path}"})
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(item) and not isinstance(item, httpx.Response):
            item = item(request)
            if isinstance(item, Awaitable):
                item = await item
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, httpx.Response)
        return item

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def partner_credentials(ak: str = AK, sk: str = SK) -> Credentials:
    return Credentials(ak=ak, sk=Secret(sk), domain_id=DOMAIN_ID)


def make_client(
    fake: FakeBss, endpoint: str = BSS, credentials: Credentials | None = None, **kwargs: Any
) -> BssClient:
    kwargs.setdefault("rng_seed", 7)
    return BssClient(
        endpoint,
        credentials or partner_credentials(),
        transport=fake.transport(),
        clock=fake.clock,
        **kwargs,
    )


def items_page(key: str, items: Iterable[dict[str, Any]], total: int, total_key: str) -> Any:
    return {key: list(items), total_key: total}


IAM_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
_AUTH = re.compile(
    r"SDK-HMAC-SHA256 Access=(?P<ak>[^,]+), SignedHeaders=(?P<names>[^,]+), "
    r"Signature=(?P<sig>[0-9a-f]{64})"
)


def split_query(raw: bytes) -> list[tuple[str, str]]:
    """Decode a query string the way the server side must (``unquote``, never ``+`` -> space)."""
    text = raw.decode()
    pairs = [part.partition("=") for part in text.split("&")] if text else []
    return [(unquote(k), unquote(v)) for k, _, v in pairs]


def verify(seen: Seen, sk: str) -> tuple[str, list[str]]:
    """Check a recorded request's signature as the gateway would; return (AK, signed names)."""
    match = _AUTH.fullmatch(seen.headers["authorization"])
    assert match is not None, seen.headers["authorization"]
    names = match["names"].split(";")
    headers = {name: seen.headers[name] for name in names}
    signed = sign_request(
        seen.method, seen.path, split_query(seen.query), headers, seen.body, ak=match["ak"], sk=sk
    )
    assert signed.signature == match["sig"]
    return match["ak"], names


def iam_reply(n: int = 1, expires_at: str = "2026-01-01T00:15:00.000000Z") -> httpx.Response:
    return reply(
        201,
        {
            "credential": {
                "access": f"TMPAK{n:015d}",
                "secret": f"tmpSecretKey{n:030d}",
                "securitytoken": f"tmpSecurityToken{n:040d}",
                "expires_at": expires_at,
            }
        },
    )
