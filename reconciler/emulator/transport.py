"""In-process httpx transports: every request, whatever its host, goes to one :class:`Emulator`.

The raw bytes the client produced (path, query, headers, body) reach ``Emulator.handle`` unchanged,
so signatures are verified exactly as a server would. Latency is slept on the emulator's clock
(async) or, for a system clock only, with ``time.sleep`` (sync). A latency longer than the client's
read timeout becomes ``httpx.ReadTimeout`` after the effect was committed; a dropped response
becomes ``httpx.RemoteProtocolError``. A held request (``hold`` fault) is waited for in full
before its answer: the client's timeout during a hold is modelled by the served emulator only.
"""

from __future__ import annotations

import time
from typing import Protocol

import httpx

from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.hold import Holds
from reconciler.emulator.messages import EmulatorRequest, EmulatorResponse, HeaderMap

DISCONNECTED = "Server disconnected without sending a response."


class Handler(Protocol):
    """What a transport drives: :class:`~reconciler.emulator.core.Emulator` (never imported
    here, so the core can import this module without a circle)."""

    @property
    def clock(self) -> Clock: ...

    @property
    def holds(self) -> Holds: ...

    def handle(self, request: EmulatorRequest) -> EmulatorResponse: ...


def to_emulator_request(request: httpx.Request, body: bytes) -> EmulatorRequest:
    raw_path = request.url.raw_path.decode("ascii")
    path, _, query = raw_path.partition("?")
    headers = HeaderMap((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
    return EmulatorRequest(request.method, path, query, headers, body)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


def _to_httpx(response: EmulatorResponse, request: httpx.Request) -> httpx.Response:
    if response.drop is not None:
        raise httpx.RemoteProtocolError(DISCONNECTED, request=request)
    return httpx.Response(
        response.status,
        headers=list(response.headers.items()),
        content=response.body,
        request=request,
    )


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    def __init__(self, emulator: Handler) -> None:
        self.emulator = emulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = self.emulator.handle(to_emulator_request(request, body))
        while response.resume is not None:  # held: wait on the emulator's clock, then execute
            await self.emulator.holds.await_(response.hold_fault or "", response.hold)
            response = self.emulator.handle(response.resume)
        timeout = _read_timeout(request)
        clock = self.emulator.clock
        if timeout is not None and response.latency > timeout:
            await clock.sleep(timeout)
            raise httpx.ReadTimeout("timed out waiting for the emulator's answer", request=request)
        if response.latency > 0:
            await clock.sleep(response.latency)
        return _to_httpx(response, request)


class SyncEmulatorTransport(httpx.BaseTransport):
    """Sleeps for real only with a :class:`SystemClock`; virtual latency costs no time here."""

    def __init__(self, emulator: Handler) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        response = self.emulator.handle(to_emulator_request(request, body))
        while response.resume is not None:
            self.emulator.holds.wait(response.hold_fault or "", response.hold)
            response = self.emulator.handle(response.resume)
        timeout = _read_timeout(request)
        real = isinstance(self.emulator.clock, SystemClock)
        if timeout is not None and response.latency > timeout:
            if real:
                time.sleep(timeout)
            raise httpx.ReadTimeout("timed out waiting for the emulator's answer", request=request)
        if real and response.latency > 0:
            time.sleep(response.latency)
        return _to_httpx(response, request)
