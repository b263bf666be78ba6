"""The client's HTTP/1.1 transport against scripted loopback servers (plain and TLS).

Each test starts an asyncio server that reads whole requests and answers as the test says, so
framing, keep-alive, closed connections, timeouts and the httpx exceptions the retry rules
depend on are checked on real sockets.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import h11
import httpx
import pytest
import trustme

from reconciler.bss.core import default_transport
from reconciler.bss.http11 import DISCONNECTED, Http11Transport

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
Answer = Callable[[h11.Request, bytes, int], Awaitable[bytes | None]]


class Server:
    """Reads requests with h11; ``answer(request, body, n)`` gives the raw reply (None: hang up)."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.tls = tls
        self.requests: list[tuple[h11.Request, bytes]] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"{'https' if self.tls else 'http'}://localhost:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await self._request(conn, reader)
                if request is None:
                    return
                self.requests.append((request, body))
                raw = await self.answer(request, body, len(self.requests))
                if raw is None:
                    return
                writer.write(raw)
                await writer.drain()
                if raw.startswith(b"HTTP/1.0") or b"Connection: close" in raw:
                    return
                conn = h11.Connection(h11.SERVER)  # a fresh parser per request
        finally:
            writer.close()

    @staticmethod
    async def _request(
        conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request, body = None, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                if not data:
                    return None, b""
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, body


async def ok(_request: h11.Request, _body: bytes, _n: int) -> bytes:
    return OK


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def post(client: httpx.AsyncClient, url: str, body: bytes = b'{"a": 1}') -> httpx.Response:
    return await client.post(url + "/v2/x?b=1", content=body, headers={"X-Test": "1"})


def test_a_request_is_one_write_and_connections_are_kept_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[bytes] = []
    socket_transport = asyncio.selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
    original = socket_transport.write

    def spy(self: Any, data: bytes) -> None:
        writes.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(socket_transport, "write", spy)

    async def main() -> None:
        transport = Http11Transport()
        async with Server(ok) as server, httpx.AsyncClient(transport=transport) as client:
            for _ in range(5):
                reply = await post(client, server.url)
                assert (reply.status_code, reply.json()) == (200, {})
            assert server.connections == 1 == transport.connections_made
            request, body = server.requests[0]
            assert (request.method, request.target, body) == (b"POST", b"/v2/x?b=1", b'{"a": 1}')
            assert (b"x-test", b"1") in list(request.headers)

    run(main())
    client_writes = [w for w in writes if w.startswith(b"POST ")]
    assert len(client_writes) == 5
    assert all(w.endswith(b'\r\n\r\n{"a": 1}') for w in client_writes)  # head and body together


def test_concurrent_requests_open_as_many_connections_and_reuse_them() -> None:
    async def slow(_r: h11.Request, _b: bytes, _n: int) -> bytes:
        await asyncio.sleep(0.05)
        return OK

    async def main() -> None:
        transport = Http11Transport()
        async with Server(slow) as server, httpx.AsyncClient(transport=transport) as client:
            await asyncio.gather(*(post(client, server.url) for _ in range(6)))
            await asyncio.gather(*(post(client, server.url) for _ in range(6)))
            assert transport.connections_made == 6 == server.connections

    run(main())


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async def close_after(_r: h11.Request, _b: bytes, n: int) -> bytes | None:
        return OK if n != 2 else None  # the second request's connection is closed unanswered

    async def then_close(_r: h11.Request, _b: bytes, _n: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"

    async def main() -> None:
        transport = Http11Transport()
        async with Server(then_close) as server, httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):  # each answer says it closes: a new connection every time
                assert (await post(client, server.url)).status_code == 200
            assert transport.connections_made == 3
        async with Server(close_after) as server, httpx.AsyncClient(transport=transport) as client:
            assert (await post(client, server.url)).status_code == 200
            with pytest.raises(httpx.RemoteProtocolError, match=DISCONNECTED):
                await post(client, server.url)
            assert (await post(client, server.url)).status_code == 200

    run(main())


def test_chunked_and_close_delimited_answers() -> None:
    async def chunked(_r: h11.Request, _b: bytes, n: int) -> bytes | None:
        if n == 1:
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            return head + b'3\r\n{"a\r\n5\r\n": 1}\r\n0\r\n\r\n'
        return b'HTTP/1.0 200 OK\r\n\r\n{"b": 2}'  # no length: ends with the connection

    async def main() -> None:
        async with Server(chunked) as server, httpx.AsyncClient(transport=Http11Transport()) as c:
            assert (await post(c, server.url)).json() == {"a": 1}
            assert (await post(c, server.url)).json() == {"b": 2}

    run(main())


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", httpx.RemoteProtocolError),
        (b"NOT HTTP AT ALL\r\n\r\n", httpx.RemoteProtocolError),
        (b"", httpx.RemoteProtocolError),  # hangs up before answering
    ],
    ids=["cut short", "garbage", "no answer"],
)
def test_broken_answers_raise_httpx_errors(answer: bytes, error: type[Exception]) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with httpx.AsyncClient(transport=Http11Transport()) as client:
            with pytest.raises(error):
                await post(client, f"http://127.0.0.1:{port}")
        server.close()

    run(main())


def test_timeouts_and_refused_connections() -> None:
    async def never(_r: h11.Request, _b: bytes, _n: int) -> bytes | None:
        await asyncio.sleep(5)
        return OK

    async def main() -> None:
        timeout = httpx.Timeout(0.2)
        transport = Http11Transport(max_connections=1)
        async with (
            Server(never) as server,
            httpx.AsyncClient(transport=transport, timeout=timeout) as client,
        ):
            results = await asyncio.gather(
                post(client, server.url), post(client, server.url), return_exceptions=True
            )
            assert sorted(type(r).__name__ for r in results) == ["PoolTimeout", "ReadTimeout"]
        with socket_closed() as port:
            async with httpx.AsyncClient(transport=Http11Transport()) as client:
                with pytest.raises(httpx.ConnectError):
                    await post(client, f"http://127.0.0.1:{port}")

    run(main())


class socket_closed:
    """A port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


def test_https_verifies_the_server_certificate() -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_tls)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)

    async def main() -> None:
        async with Server(ok, tls=server_tls) as server:
            transport = Http11Transport(ssl_context=trusting)
            async with httpx.AsyncClient(transport=transport) as client:
                assert (await post(client, server.url)).json() == {}
                assert (await post(client, server.url)).status_code == 200
                assert transport.connections_made == 1
            async with httpx.AsyncClient(transport=Http11Transport()) as client:
                with pytest.raises(httpx.ConnectError, match="certificate"):
                    await post(client, server.url)  # the system CAs do not know this one

    run(main())


def test_a_configured_proxy_leaves_the_transport_to_httpx() -> None:
    assert isinstance(default_transport({}), Http11Transport)
    assert default_transport({"HTTPS_PROXY": "http://proxy:3128"}) is None
    assert default_transport({"all_proxy": "socks5://proxy:1080"}) is None


class RecordingPacer:
    """Stands in for the API's pacer: records the gate, the write and the note, in order."""

    def __init__(self, events: list[str], at_gate: Callable[[int], Awaitable[None]]) -> None:
        self.events = events
        self.at_gate = at_gate
        self.gates = 0

    async def admit(self) -> None:
        self.gates += 1
        self.events.append("gate")
        await self.at_gate(self.gates)

    def wrote(self) -> None:
        self.events.append("wrote")


def test_the_pacer_gate_comes_right_before_the_write_and_its_note_right_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.bss.ratelimit import PACER

    events: list[str] = []
    socket_transport = asyncio.selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
    original = socket_transport.write

    def spy(self: Any, data: bytes) -> None:
        if bytes(data).startswith(b"POST "):
            events.append("write")
        original(self, data)

    monkeypatch.setattr(socket_transport, "write", spy)
    writers: list[asyncio.StreamWriter] = []

    class Closing(Server):
        async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await super()._serve(reader, writer)

    async def main() -> None:
        async def at_gate(n: int) -> None:
            if n == 2:  # the kept-alive connection is closed by the server while we wait here
                for writer in writers:
                    writer.close()
                await asyncio.sleep(0.1)

        pacer = RecordingPacer(events, at_gate)
        transport = Http11Transport()
        async with Closing(ok) as server, httpx.AsyncClient(transport=transport) as client:
            for _ in range(2):
                request = client.build_request("POST", server.url + "/v2/x", content=b"{}")
                request.extensions[PACER] = pacer
                assert (await client.send(request)).status_code == 200
            assert transport.connections_made == 2  # the closed one was replaced, not used
            assert len(server.requests) == 2

    run(main())
    # request 1: gate, write, note; request 2: gate (its connection closed meanwhile), a new
    # connection and the gate again, then write and note
    assert events == ["gate", "write", "wrote", "gate", "gate", "write", "wrote"]
