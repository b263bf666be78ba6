"""Served mode: the emulator behind a real HTTP server (stdlib ``ThreadingHTTPServer``).

``Emulator.handle`` holds a lock, so concurrent connections are answered one at a time, in
order of arrival. A dropped response closes the socket without writing anything.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reconciler.emulator import seed as seeds
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.core import Emulator
from reconciler.emulator.credentials import EmulatorCredentials
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import EmulatorRequest, HeaderMap

log = logging.getLogger(__name__)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator

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
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        request = EmulatorRequest(self.command, path, query, HeaderMap(self.headers.items()), body)
        emulator = self.server.emulator
        response = emulator.handle(request)
        while response.resume is not None:  # held: the lock is free meanwhile; the caller may go
            emulator.holds.wait(response.hold_fault or "", response.hold)
            response = emulator.handle(response.resume)
        if response.latency > 0 and isinstance(self.server.emulator.clock, SystemClock):
            time.sleep(response.latency)
        if response.drop is not None:
            self.close_connection = True  # the client sees the connection close, no answer
            return
        try:
            self.send_response(response.status)  # with Server and Date (see date_time_string)
            for name, value in response.headers.items():
                if name != "Date":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller left (a held request outlived it)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def date_time_string(self, timestamp: float | None = None) -> str:
        """``Date`` on the emulator's clock (a virtual one in tests), as the API's own."""
        when = self.server.emulator.clock.time() if timestamp is None else timestamp
        return formatdate(when, usegmt=True)

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
) -> EmulatorServer:
    """Build (and bind) a server; ``port=0`` picks a free port. Call ``serve_forever()`` on it."""
    emulator = Emulator(
        clock=clock, state_file=state_file, seed=seed, rate_limit=rate_limit, latency=latency
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
    ready: Callable[[EmulatorServer], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready`` is called once the socket listens."""
    server = make_server(
        host,
        port,
        state_file=state_file,
        seed=seed,
        credentials=credentials,
        rate_limit=rate_limit,
        latency=latency,
        clock=clock,
    )
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("emulator stopped")
    finally:
        server.server_close()
