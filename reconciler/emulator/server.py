"""Served mode: the emulator behind a real HTTP server (stdlib ``ThreadingHTTPServer``).

``Emulator.handle`` holds a lock, so concurrent connections are answered one at a time, in
order of arrival (the latency of each answer is slept outside the lock, so slow answers overlap).
A dropped response closes the socket without writing anything. A client that goes away before
its answer is written is logged at debug level, not printed as a traceback.

The control plane (``/_emulator/``) has no authentication and ``GET /_emulator/state`` returns
every key, so a web page the developer visits must not reach it (the control plane's checks,
:func:`control_refusal`):

* the ``Host`` header must name this machine (``localhost``, a loopback address), the address the
  server is bound to, or a host given with ``serve --allow-host``: a DNS-rebinding page sends its
  own host name and is refused (403);
* an ``Origin`` header (every cross-origin request from a browser has one) must name such a host
  too, so a foreign page's request is refused (403);
* a request with a body (POST, PUT, PATCH) must say ``Content-Type: application/json`` (a seed
  may also be ``application/yaml``): a browser cannot send those cross-origin without a CORS
  preflight, which this server never grants (415); nor can it send PUT, PATCH or DELETE.

**Arrival times.** The call log's ``arrived`` is when the request reached this machine: on Linux
with the real clock, the kernel's receive time of its first bytes (``SO_TIMESTAMPNS``, read
with the bytes by :class:`_StampedReader`), not when a thread got round to reading it. On a busy
machine a thread can wait tens of milliseconds for a core and the GIL, so stamps taken by the
threads bunch up: one run counted 12 arrivals in a second that the kernel had received no more
than 10 of (docs/scale.md). Elsewhere, and for a request already buffered, the thread's read.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import os
import platform
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from reconciler.emulator import seed as seeds
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.control import PREFIX
from reconciler.emulator.core import Emulator
from reconciler.emulator.credentials import EmulatorCredentials
from reconciler.emulator.errors import ControlError
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import EmulatorRequest, HeaderMap
from reconciler.emulator.models import State

log = logging.getLogger(__name__)

#: Media types a state-changing control-plane request may carry (none is CORS-safelisted).
CONTROL_TYPES = ("application/json", "application/yaml", "application/x-yaml")
_WILDCARDS = ("", "0.0.0.0", "::")


def _host_name(value: str) -> str:
    """The host of a ``Host`` header or of an origin's authority, without port or brackets."""
    host = urlsplit(f"//{value.strip()}").hostname or ""
    return host.lower().rstrip(".")


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def control_refusal(
    method: str, headers: HeaderMap, allowed_hosts: frozenset[str]
) -> ControlError | None:
    """Why a control-plane request is refused (see the module docstring), or ``None``."""

    def allowed(host: str) -> bool:
        return bool(host) and (host in allowed_hosts or _is_local(host))

    host = _host_name(headers.get("Host") or "")
    if not allowed(host):
        return ControlError(
            403, f"the control plane answers only on this machine, not on Host {host!r}"
        )
    origin = headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not allowed(_host_name(parts.netloc)):
            return ControlError(403, f"requests from the origin {origin!r} are refused")
    media = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if method in ("POST", "PUT", "PATCH") and media not in CONTROL_TYPES:
        shown = media or "none"
        return ControlError(
            415, f"{method} needs Content-Type: application/json on the control plane, not {shown}"
        )
    return None


#: ``SO_TIMESTAMPNS`` (Python 3.11 has no constant for it): 35 on the Linux architectures below.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_STAMPED_MACHINES = ("x86_64", "amd64", "aarch64", "arm64", "armv7l", "riscv64", "ppc64le", "s390x")
_TIMESPEC = struct.Struct("@ll")  # the old ``struct timespec``: two C longs
_CMSG_SPACE = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0


class _StampedReader(io.RawIOBase):
    """A socket's bytes, with the kernel's receive time (``time.time()`` scale) of the first read
    since :attr:`stamp` was last cleared."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self.stamp: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n, ancdata, _flags, _addr = self._sock.recvmsg_into([buffer], _CMSG_SPACE)
        if self.stamp is None and n:
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanos = _TIMESPEC.unpack(data[: _TIMESPEC.size])
                    self.stamp = seconds + nanos * 1e-9
        return n


def stamp_arrivals(sock: socket.socket) -> _StampedReader | None:
    """Ask the kernel to time-stamp what ``sock`` receives; ``None`` where that is not known to
    work (then arrivals are stamped by the thread that reads them)."""
    if sys.platform != "linux" or platform.machine().lower() not in _STAMPED_MACHINES:
        return None
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return None
    return _StampedReader(sock)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # Clients open many connections at once (a worker pool each); with the default backlog of 5
    # the kernel drops their SYNs and each retries a second or more later.
    request_queue_size = 1024

    def __init__(
        self, address: tuple[str, int], emulator: Emulator, allowed_hosts: Iterable[str] = ()
    ) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator
        bound = str(address[0]).lower()
        hosts = {_host_name(h) for h in allowed_hosts}
        if bound not in _WILDCARDS:
            hosts.add(_host_name(bound if ":" not in bound else f"[{bound}]"))
        self.allowed_hosts = frozenset(hosts - {""})

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a CLI exiting on an error while other reads are
        in flight) is normal, not a traceback on stderr."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            log.debug("%s went away", client_address)
            return
        super().handle_error(request, client_address)

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
    _stamps: _StampedReader | None = None

    def setup(self) -> None:
        super().setup()
        if isinstance(self.server.emulator.clock, SystemClock):
            self._stamps = stamp_arrivals(self.connection)
            if self._stamps is not None:
                self.rfile.close()  # the socket stays open: it is the handler's connection
                self.rfile = io.BufferedReader(self._stamps)

    def handle_one_request(self) -> None:
        if self._stamps is not None:
            self._stamps.stamp = None  # the next read from the socket is this request's
        super().handle_one_request()

    def _arrived(self) -> float:
        """When this request reached the machine, on the emulator clock's ``monotonic()``."""
        now = self.server.emulator.clock.monotonic()
        stamp = None if self._stamps is None else self._stamps.stamp
        if stamp is None:
            return now
        return min(now, now - (time.time() - stamp))

    def _serve(self) -> None:
        received = self._arrived()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        headers = HeaderMap(self.headers.items())
        if path.startswith(PREFIX):
            refused = control_refusal(self.command, headers, self.server.allowed_hosts)
            if refused is not None:
                self._refuse(refused)
                return
        request = EmulatorRequest(self.command, path, query, headers, body, received)
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

    def _refuse(self, err: ControlError) -> None:
        body = json.dumps(err.body()).encode("utf-8")
        self.send_response(err.status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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
    state_factory: Callable[[], State] | None = None,
    allowed_hosts: Iterable[str] = (),
) -> EmulatorServer:
    """Build (and bind) a server; ``port=0`` picks a free port. Call ``serve_forever()`` on it.

    ``state_file=None`` keeps the state in memory only; ``state_factory`` replaces ``seed``
    (see :class:`~reconciler.emulator.core.Emulator`). ``allowed_hosts``: host names besides
    this machine's under which the control plane answers."""
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
    return EmulatorServer((host, port), emulator, allowed_hosts)


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
    allowed_hosts: Iterable[str] = (),
) -> None:
    """Serve until interrupted; ``ready`` is called once the socket listens.

    A request's arrival (the call log's ``arrived``) is the kernel's receive time of its first
    bytes where the kernel stamps them (:func:`stamp_arrivals`: Linux); elsewhere the thread
    that reads it stamps it, and the process switches threads every millisecond (Python's
    default is 5 ms) so that stamp is within a millisecond even while another request is being
    answered."""
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
        allowed_hosts=allowed_hosts,
    )
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("emulator stopped")
    finally:
        server.server_close()
