"""The contract harness: one ``BssClient`` against the emulator, in-process or served.

Two modes, the same tests:

* ``inprocess``: requests go through the emulator's httpx transport. Client and emulator share
  one :class:`VirtualClock`, and the test's event loop is that clock's loop, so pacing, backoff
  and latency cost no real time.
* ``served``: :func:`make_server` on 127.0.0.1 with an ephemeral port, ``serve_forever`` in a
  thread, real HTTP over loopback, real time on both sides (a :class:`SystemClock` whose wall
  time starts where the virtual clock does, so the seed's dates mean the same in both modes).
  Set-up and call-log assertions go through the HTTP control plane (``/_emulator/...``), as they
  would against a separate process.

A virtual clock cannot drive the served mode: while a request is in flight over a real socket the
virtual loop would jump to its next timer (a pacer slot, the read timeout), so the client's
pacing would no longer space the arrivals the server's token bucket sees.

Each contract owns one event loop for the whole test, so clients (and their connection pools)
can be used across several :meth:`Contract.run` calls.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl

import httpx

from reconciler.bss import BssClient, Credentials, Secret
from reconciler.bss.http11 import Http11Transport
from reconciler.emulator import (
    DEFAULT_DOMAIN_ID,
    DEFAULT_PARTNER_AK,
    DEFAULT_PARTNER_SK,
    DEFAULT_READONLY_AK,
    DEFAULT_READONLY_SK,
    DEMO_SEED_PATH,
    Clock,
    Emulator,
    SystemClock,
    VirtualClock,
)
from reconciler.emulator.clock import VIRTUAL_EPOCH
from reconciler.emulator.seed import load_document
from reconciler.emulator.server import make_server

T = TypeVar("T")

MODES = ("inprocess", "served")
INPROCESS_ENDPOINT = "https://bss.myhuaweicloud.com"

#: Parsed once; building an emulator from a mapping skips the YAML parse.
DEMO_DOC: dict[str, Any] = load_document(DEMO_SEED_PATH)
#: The agency customers grant to the partner: the seed's ``partner.xaccount_type``.
AGENCY: str = DEMO_DOC["partner"]["xaccount_type"]

#: ``rng_seed`` of every contract client. Its first four full-jitter draws are below 3 % of their
#: ceiling, so the few retries a served-mode test provokes wait milliseconds, not seconds.
#: (In-process, backoff is slept on the virtual clock and costs nothing anyway.)
FAST_BACKOFF_SEED = 152872


class ShiftedSystemClock(SystemClock):
    """Real time, real sleeps, but a wall clock that started at ``start``.

    The served mode runs on real time, yet the seed's dates (quota expiry in 2027, resources
    expired in 2025) must compare the same way whenever the suite runs; so both sides of the
    served mode read the same shifted wall time, starting where the in-process virtual clock does.
    """

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._offset = start - time.time()

    def time(self) -> float:
        return time.time() + self._offset

    def __repr__(self) -> str:
        return f"ShiftedSystemClock(offset={self._offset:.0f}s)"


def partner_credentials(sk: str = DEFAULT_PARTNER_SK) -> Credentials:
    return Credentials(DEFAULT_PARTNER_AK, Secret(sk), DEFAULT_DOMAIN_ID)


def readonly_credentials() -> Credentials:
    return Credentials(DEFAULT_READONLY_AK, Secret(DEFAULT_READONLY_SK), DEFAULT_DOMAIN_ID)


class Control(Protocol):
    """The emulator's control plane, whichever way it is reached."""

    def add_fault(self, operation: str, kind: str, **spec: Any) -> str: ...
    def calls(self, operation: str | None = None) -> list[dict[str, Any]]: ...
    def clear_calls(self) -> None: ...
    def state(self) -> dict[str, Any]: ...
    def set_agency(self, customer_id: str, granted: bool) -> None: ...
    def set_quota(self, quota_id: str, **fields: Any) -> None: ...
    def spend_quota(self, quota_id: str, amount: str) -> None: ...
    def spend_coupon(self, coupon_id: str, amount: str) -> None: ...
    def spend_cash(self, customer_id: str, amount: str) -> None: ...
    def set_account(self, account_id: str, **fields: str) -> None: ...
    def close(self) -> None: ...


@dataclass
class DirectControl:
    """In-process: the :class:`Emulator` methods."""

    emulator: Emulator

    def add_fault(self, operation: str, kind: str, **spec: Any) -> str:
        return self.emulator.add_fault(operation, kind, **spec)

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        return self.emulator.call_log(operation)

    def clear_calls(self) -> None:
        self.emulator.clear_call_log()

    def state(self) -> dict[str, Any]:
        return self.emulator.state()

    def set_agency(self, customer_id: str, granted: bool) -> None:
        self.emulator.set_agency(customer_id, granted)

    def set_quota(self, quota_id: str, **fields: Any) -> None:
        self.emulator.set_quota(quota_id, **fields)

    def spend_quota(self, quota_id: str, amount: str) -> None:
        self.emulator.spend_quota(quota_id, amount)

    def spend_coupon(self, coupon_id: str, amount: str) -> None:
        self.emulator.spend_coupon(coupon_id, amount)

    def spend_cash(self, customer_id: str, amount: str) -> None:
        self.emulator.spend_cash(customer_id, amount)

    def set_account(self, account_id: str, **fields: str) -> None:
        self.emulator.set_account(account_id, **fields)

    def close(self) -> None:
        pass


class HttpControl:
    """Served: the HTTP control plane under ``/_emulator/``."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=f"{url}/_emulator", timeout=10.0, verify=False)

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        resp = self._http.request(method, path, json=body)
        assert resp.is_success, f"{method} /_emulator{path} -> {resp.status_code} {resp.text}"
        return resp.json()

    def add_fault(self, operation: str, kind: str, **spec: Any) -> str:
        fault = self._send("POST", "/faults", {"operation": operation, "kind": kind, **spec})
        return str(fault["id"])

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        query = f"?operation={operation}" if operation else ""
        found: list[dict[str, Any]] = self._send("GET", f"/calls{query}")["calls"]
        return found

    def clear_calls(self) -> None:
        self._send("DELETE", "/calls")

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self._send("GET", "/state")
        return found

    def set_agency(self, customer_id: str, granted: bool) -> None:
        self._send("PUT", f"/customers/{customer_id}/agency", {"granted": granted})

    def set_quota(self, quota_id: str, **fields: Any) -> None:
        self._send("PATCH", f"/quotas/{quota_id}", fields)

    def spend_quota(self, quota_id: str, amount: str) -> None:
        self._send("POST", f"/quotas/{quota_id}/spend", {"amount": amount})

    def spend_coupon(self, coupon_id: str, amount: str) -> None:
        self._send("POST", f"/coupons/{coupon_id}/spend", {"amount": amount})

    def spend_cash(self, customer_id: str, amount: str) -> None:
        self._send("POST", f"/customers/{customer_id}/spend", {"amount": amount})

    def set_account(self, account_id: str, **fields: str) -> None:
        self._send("PATCH", f"/accounts/{account_id}", fields)

    def close(self) -> None:
        self._http.close()


@dataclass
class Contract:
    """A ready client, a way to run coroutines, and a handle on the emulator."""

    mode: str
    emulator: Emulator  # the same object the served mode serves; prefer ``control``
    control: Control  # DirectControl in-process, HttpControl served
    endpoint: str
    clock: Clock  # the client's clock
    loop: asyncio.AbstractEventLoop
    clients: list[BssClient] = field(default_factory=list)

    @property
    def inprocess(self) -> bool:
        return self.mode == "inprocess"

    @property
    def client(self) -> BssClient:
        """The partner's client (admin keys, the seed's agency name), built with the contract."""
        return self.clients[0]

    def transport(self) -> httpx.AsyncBaseTransport:
        """In-process: the emulator's transport. Served: the client's own HTTP/1.1 transport,
        the one it builds by default (``reconciler/bss/http11.py``)."""
        if self.inprocess:
            return self.emulator.async_transport()
        return Http11Transport()

    def new_client(self, credentials: Credentials | None = None, **options: Any) -> BssClient:
        """Another client on the same emulator; ``options`` override the contract defaults."""
        settings: dict[str, Any] = {
            "transport": self.transport(),
            "clock": self.clock,
            "agency_name": AGENCY,
            "rng_seed": FAST_BACKOFF_SEED,
        }
        settings.update(options)
        client = BssClient(self.endpoint, credentials or partner_credentials(), **settings)
        self.clients.append(client)
        return client

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on this contract's loop (virtual in-process, real when served)."""
        return self.loop.run_until_complete(awaitable)

    def call(self, action: Callable[[BssClient], Awaitable[T]]) -> T:
        """``action(self.client)`` run to completion."""
        return self.run(action(self.client))

    async def send(
        self, method: str, path: str, *, headers: Mapping[str, str], content: bytes = b""
    ) -> httpx.Response:
        """A raw request (headers exactly as given) to the emulator."""
        async with httpx.AsyncClient(transport=self.transport()) as http:
            return await http.request(
                method, self.endpoint + path, headers=dict(headers), content=content
            )

    def statuses(self, operation: str) -> list[int | None]:
        """Status of every logged call of ``operation``, in order (``None``: dropped)."""
        return [c["status"] for c in self.control.calls(operation)]

    def elapsed(self) -> float:
        return self.clock.monotonic()

    def close(self) -> None:
        try:
            for client in self.clients:
                self.run(client.aclose())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.run(asyncio.gather(*pending, return_exceptions=True))
            self.run(self.loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            self.loop.close()
            self.control.close()


@contextmanager
def open_contract(
    mode: str,
    *,
    seed: Mapping[str, Any] = DEMO_DOC,
    skew: float = 0.0,
    emulator_start: float | None = None,
) -> Iterator[Contract]:
    """A contract in ``mode``.

    ``skew`` puts the emulator's clock that many seconds ahead of the client's (a separate
    :class:`VirtualClock`); ``emulator_start`` pins the emulator's clock to that epoch time.
    """
    assert max(random.Random(FAST_BACKOFF_SEED).random() for _ in range(4)) < 0.03
    if mode == "inprocess":
        with _inprocess(seed, skew, emulator_start) as contract:
            yield contract
    elif mode == "served":
        with _served(seed, skew, emulator_start) as contract:
            yield contract
    else:  # pragma: no cover - a typo in a parametrisation
        raise ValueError(f"unknown mode {mode!r}")


def _emulator_clock(client: Clock, skew: float, start: float | None) -> Clock:
    """The client's clock, unless the test wants the emulator's (frozen) elsewhere."""
    if start is not None:
        return VirtualClock(start=start)
    if skew:
        return VirtualClock(start=client.time() + skew)
    return client


@contextmanager
def _inprocess(seed: Mapping[str, Any], skew: float, start: float | None) -> Iterator[Contract]:
    clock = VirtualClock()
    emulator = Emulator(clock=_emulator_clock(clock, skew, start), seed=seed)
    loop = clock.new_event_loop()
    asyncio.set_event_loop(loop)
    contract = Contract(
        "inprocess", emulator, DirectControl(emulator), INPROCESS_ENDPOINT, clock, loop
    )
    try:
        contract.new_client()
        yield contract
    finally:
        contract.close()


@contextmanager
def _served(seed: Mapping[str, Any], skew: float, start: float | None) -> Iterator[Contract]:
    clock = ShiftedSystemClock()
    server = make_server("127.0.0.1", 0, seed=seed, clock=_emulator_clock(clock, skew, start))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.daemon = True
    thread.start()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    contract = Contract("served", server.emulator, HttpControl(server.url), server.url, clock, loop)
    try:
        contract.new_client()
        yield contract
    finally:
        try:
            contract.close()
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def paging(call: Mapping[str, Any]) -> tuple[int, int]:
    """``(offset, limit)`` of a logged list call (POST body or GET query)."""
    if call["method"] == "GET":
        params: Mapping[str, Any] = dict(parse_qsl(call["query"], keep_blank_values=True))
    else:
        params = json.loads(call["body"])
    return int(params["offset"]), int(params["limit"])
