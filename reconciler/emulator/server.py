"""Served mode: the emulator behind a real HTTP server (stdlib ``ThreadingHTTPServer``).

``Emulator.handle`` holds a lock, so concurrent connections are answered one at a time, in
order of arrival (the latency of each answer is slept outside the lock, so slow answers overlap).
A dropped response closes the socket without writing anything. A client that goes away before
its answer is written is logged at debug level, not printed as a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reconciler.emulator import seed as seeds
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.core import Emulator
from reconciler.emulator.credentials import EmulatorCredentials
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import EmulatorRequest, HeaderMap
from reconciler.emulator.models import State

log = logging.getLogger(__name__)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # Clients open many connections at once (a worker pool each); with the default backlog of 5
    # the kernel drops their SYNs and each retries a second or more later.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (broken pipe, reset) is routine; anything else is a bug."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            log.debug("client %s went away: %s", client_address, exc)
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK of the headers (~40 ms on Linux) on every kept-alive response.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def _serve(self) -> None:
        received = self.server.emulator.clock.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        headers = HeaderMap(self.headers.items())
        request = EmulatorRequest(self.command, path, query, headers, body, received)
        response = self.server.emulator.handle(request)
        if response.latency > 0 and isinstance(self.server.emulator.clock, SystemClock):
            time.sleep(response.latency)
        if response.drop is not None:
            self.close_connection = True  # the client sees the connection close, no answer
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def make_server(
    host: str,
    port: int,
    *,
    state_file: str | os.PathLike[str] | None = None,
    seed: seeds.SeedSource | None = None,
    credentials: Iterable[EmulatorCredentials] = (),
    rate_limit: float = 10.0,
    latency: LatencyModel | None = None,
    clock: Clock | None = None,
    state_factory: Callable[[], State] | None = None,
) -> EmulatorServer:
    """Build (and bind) a server; ``port=0`` picks a free port. Call ``serve_forever()`` on it.

    ``state_file=None`` keeps the state in memory only; ``state_factory`` replaces ``seed``
    (see :class:`~reconciler.emulator.core.Emulator`)."""
    emulator = Emulator(
        clock=clock,
        state_file=state_file,
        seed=seed,
        rate_limit=rate_limit,
        latency=latency,
        state_factory=state_factory,
    )
    for cred in credentials:
        emulator.add_credentials(cred)
    return EmulatorServer((host, port), emulator)


def serve(
    host: str,
    port: int,
    *,
    state_file: str | os.PathLike[str] | None = None,
    seed: seeds.SeedSource | None = None,
    credentials: Iterable[EmulatorCredentials] = (),
    rate_limit: float = 10.0,
    latency: LatencyModel | None = None,
    clock: Clock | None = None,
    state_factory: Callable[[], State] | None = None,
    ready: Callable[[EmulatorServer], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready`` is called once the socket listens.

    The process switches threads every millisecond (Python's default is 5 ms): a request's
    thread then notices it, and stamps its arrival (the call log's ``arrived``), within a
    millisecond even while another request is being answered."""
    sys.setswitchinterval(0.001)
    server = make_server(
        host,
        port,
        state_file=state_file,
        seed=seed,
        credentials=credentials,
        rate_limit=rate_limit,
        latency=latency,
        clock=clock,
        state_factory=state_factory,
    )
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("emulator stopped")
    finally:
        server.server_close()
