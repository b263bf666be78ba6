"""The client's HTTP/1.1 transport: asyncio protocols, ``h11`` framing, one write per request.

httpx's default transport (httpcore on anyio) spends most of a small request's CPU in its own
machinery: a socket write for the headers and another for the body (each one a trip through the
loopback or TLS stack), a lock whose set-up looks for ``sniffio`` on every request, idle
connections polled before reuse, and closing connections once more than 20 are open
(``docs/scale.md`` has the profile and the figures). This transport does what a partner API
client needs and no more:

* the request is framed by ``h11`` and written with **one** ``write``; the answer is parsed by
  ``h11`` as bytes arrive (``Content-Length``, chunked, close-delimited);
* the API's pacer (:class:`~reconciler.bss.ratelimit.Pacer`, in the request's extensions under
  :data:`~reconciler.bss.ratelimit.PACER`) is asked right before that ``write``, with nothing
  awaited between the two, and told right after it: the rate window is kept on the times the
  bytes really left, not on the times the slots were handed out (a connection opened meanwhile,
  or the process descheduled, cannot slip a request past it). A connection the server closed
  while the request waited at the gate is replaced; nothing had been sent on it;
* connections are kept alive per origin, as many as are in use at once (the worker pools size
  that), up to ``max_connections``; an idle one the server has closed is known at once (the
  protocol sees the end of stream) and is never reused;
* timeouts and failures become the httpx exceptions the retry rules classify
  (:mod:`reconciler.bss.retry`): a connection that could not be made is ``ConnectError`` /
  ``ConnectTimeout``, no free connection in time ``PoolTimeout`` (nothing was sent), a server
  that hangs up before answering ``RemoteProtocolError``, a slow answer ``ReadTimeout``, a reset
  ``ReadError`` (all "maybe sent").

TLS uses ``httpx.create_ssl_context()`` (certifi, ``SSL_CERT_FILE``/``SSL_CERT_DIR``). Proxies
are httpx's business: :func:`reconciler.bss.core.default_transport` uses httpx's own transport
when a proxy is configured in the environment.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any

import h11
import httpx

from .ratelimit import PACER, Pacer

DISCONNECTED = "Server disconnected without sending a response."
#: Largest response head or chunk header h11 buffers before giving up.
MAX_HEAD = 64 * 1024
DEFAULT_MAX_CONNECTIONS = 512

Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One keep-alive connection: an asyncio protocol feeding an ``h11`` client."""

    def __init__(self) -> None:
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False  # h11 has been told the stream ended
        self.answered = False  # bytes came back since the last request was sent
        self._can_write = asyncio.Event()
        self._can_write.set()

    # -- protocol callbacks ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.answered = True
        self.h11.receive_data(data)
        self._wake()

    def eof_received(self) -> bool:
        self._end()
        return False  # close the transport

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.h11.receive_data(b"")
        self.closed = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._can_write.set()
        self._wake()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- one exchange ----------------------------------------------------------------------------
    @property
    def reusable(self) -> bool:
        return not self.closed and self.h11.our_state is h11.IDLE

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def write(self, data: bytes) -> None:
        """Hand the request to the socket (sent at once unless the kernel's buffer is full)."""
        assert self.transport is not None
        self.answered = False
        self.transport.write(data)

    async def drain(self, timeout: float | None) -> None:
        """Wait until what was written has gone to the kernel."""
        if not self._can_write.is_set():
            try:
                await asyncio.wait_for(self._can_write.wait(), timeout)
            except asyncio.TimeoutError:
                raise httpx.WriteTimeout("timed out sending the request") from None

    async def next_event(self, timeout: float | None) -> Any:
        """The next ``h11`` event of the answer, waiting for bytes as long as ``timeout``."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self.closed and not self.answered:
                    raise httpx.RemoteProtocolError(DISCONNECTED) from None
                raise httpx.RemoteProtocolError(f"malformed answer: {exc}") from None
            if event is not h11.NEED_DATA:
                return event
            if self.closed:
                # The stream broke, or ended and h11 still wants more: nothing more will come.
                if self.error is not None or self._ended:
                    raise httpx.ReadError(f"connection lost: {self.error or 'closed'}") from None
                self._end()
                continue
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            expiry = None if timeout is None else loop.call_later(timeout, _expire, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if expiry is not None:
                    expiry.cancel()


def _write(conn: _Connection, request: httpx.Request, body: bytes) -> None:
    """Frame ``request`` with ``h11`` and write it with one ``write``."""
    head = h11.Request(
        method=request.method, target=request.url.raw_path, headers=request.headers.raw
    )
    try:
        data = conn.h11.send(head) or b""
        if body:
            data += conn.h11.send(h11.Data(data=body)) or b""
        data += conn.h11.send(h11.EndOfMessage()) or b""
    except h11.LocalProtocolError as exc:
        raise httpx.LocalProtocolError(str(exc)) from None
    conn.write(data)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout("timed out waiting for the answer"))


class Http11Transport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport for HTTP/1.1 over keep-alive asyncio connections."""

    #: passes the pacer's write gate itself (:mod:`reconciler.bss.transport`)
    paces_writes = True

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_connections = max_connections
        self._ssl_context = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        #: connections in use; idle ones do not count (there are never more idle than were in use)
        self._in_use = asyncio.Semaphore(max_connections)
        self.connections_made = 0  # for tests and benchmarks

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout: dict[str, float | None] = request.extensions.get("timeout") or {}
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}")
        if self._in_use.locked():
            try:
                await asyncio.wait_for(self._in_use.acquire(), timeout.get("pool"))
            except asyncio.TimeoutError:
                raise httpx.PoolTimeout("no free connection in time") from None
        else:
            await self._in_use.acquire()
        try:
            conn = await self._connection(origin, timeout.get("connect"))
            try:
                body = await request.aread()
                pacer: Pacer | None = request.extensions.get(PACER)
                if pacer is not None:
                    await pacer.admit()
                    while not conn.reusable:  # closed at the gate: nothing was sent on it
                        conn.close()
                        conn = await self._connection(origin, timeout.get("connect"))
                        await pacer.admit()
                # From the gate to the write nothing is awaited: the window holds at the write.
                _write(conn, request, body)
                if pacer is not None:
                    pacer.wrote()
                return await self._answer(conn, request, timeout)
            finally:
                self._release(origin, conn)
        finally:
            self._in_use.release()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()

    # -- connections -----------------------------------------------------------------------------
    async def _connection(self, origin: Origin, connect_timeout: float | None) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()  # the most recently used: least likely to have timed out
            if conn.reusable:
                return conn
            conn.close()
        return await self._connect(origin, connect_timeout)

    async def _connect(self, origin: Origin, seconds: float | None) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            tls = self._ssl_context
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    _Connection, host, port, ssl=tls, server_hostname=host if tls else None
                ),
                seconds,
            )
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from None
        self.connections_made += 1
        return conn

    def _release(self, origin: Origin, conn: _Connection) -> None:
        if conn.reusable:
            self._idle.setdefault(origin, deque()).append(conn)
        else:
            conn.close()

    # -- one request -----------------------------------------------------------------------------
    async def _answer(
        self, conn: _Connection, request: httpx.Request, timeout: dict[str, float | None]
    ) -> httpx.Response:
        await conn.drain(timeout.get("write"))
        read = timeout.get("read")
        event = await conn.next_event(read)
        while isinstance(event, h11.InformationalResponse):
            event = await conn.next_event(read)
        if isinstance(event, h11.ConnectionClosed):
            raise httpx.RemoteProtocolError(DISCONNECTED)
        if not isinstance(event, h11.Response):
            raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} from the server")
        chunks: list[bytes] = []
        while True:
            part = await conn.next_event(read)
            if isinstance(part, h11.Data):
                chunks.append(part.data)
            elif isinstance(part, h11.EndOfMessage):
                break
            else:
                raise httpx.RemoteProtocolError("the server closed the connection mid-answer")
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            conn.h11.start_next_cycle()
        return httpx.Response(
            event.status_code,
            headers=event.headers,
            content=b"".join(chunks),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": event.reason},
        )
