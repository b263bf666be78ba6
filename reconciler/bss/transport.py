"""One API call: pace, sign, send, read the answer, retry what is safe to retry.

Each attempt waits for its API's pacer slot, is signed afresh (``X-Sdk-Date`` moves on) and
counts in the API's :class:`~reconciler.bss.ratelimit.ApiStats`. The retry rules are in
:mod:`reconciler.bss.retry`.

A write's attempts can be watched and vetoed by an :class:`AttemptGuard` that the caller installs
with :func:`guarded_attempts` (apply journals every attempt under its lease's fencing token this
way, without the client knowing about journals)::

    sign -> pacer slot -> guard.before_attempt(n) -> guard.before_write() -> send
         -> guard.after_attempt(n, refused=...) -> retry or return

(Signing comes first so that the request leaves as its slot comes; it has no effect outside.)

A transport that says ``paces_writes`` (the client's own, :mod:`reconciler.bss.http11`) finds
the API's :class:`~reconciler.bss.ratelimit.Pacer` in the request's extensions under
:data:`PACER` and passes its write gate right before the bytes go out; for any other transport
the write is recorded as ``send`` is called.

Exceptions raised here never carry request headers or bodies: their messages are built from the
method, the path, the status, the error code and the request id.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import httpx

from reconciler.emulator.clock import Clock
from reconciler.errors import ApiError, ConfigError, OutcomeUnknownError, TransportError

from . import jsonutil
from .clockoffset import ClockOffset
from .credentials import Credentials
from .operations import CallKind, Operation
from .ratelimit import PACER, RateLimiter
from .redact import get_logger
from .responses import api_error, body_error, request_id
from .retry import (
    Backoff,
    Decision,
    Failure,
    classify_exception,
    classify_status,
    decide,
    parse_retry_after,
)
from .signing import QueryPairs, sign_for

log = get_logger(__name__)
#: What an answer's stream is once its body is read (see :meth:`Transport._attempt`).
_READ = httpx.ByteStream(b"")

_REQUEST_IDS: ContextVar[list[str] | None] = ContextVar("reconciler_request_ids", default=None)
#: Failures that prove the attempt was not executed: throttled, refused, never sent.
REFUSALS = frozenset({Failure.THROTTLED, Failure.CLIENT, Failure.NOT_SENT})


class AttemptGuard(Protocol):
    """Watches (and may veto, by raising) each send attempt of a write call."""

    def before_attempt(self, attempt: int) -> None:
        """Attempt ``attempt`` (1-based) is about to be signed and sent; raise to stop."""

    def before_write(self) -> None:
        """The request is signed and goes to the socket next; raise to stop."""

    def after_attempt(self, attempt: int, *, refused: bool) -> None:
        """The attempt ended; ``refused``: its answer proves it was not executed."""


_GUARD: ContextVar[AttemptGuard | None] = ContextVar("reconciler_attempt_guard", default=None)


@contextmanager
def guarded_attempts(guard: AttemptGuard) -> Iterator[None]:
    """Every attempt of the write calls made inside the block (this task only) goes past
    ``guard``. Reads are not guarded."""
    token = _GUARD.set(guard)
    try:
        yield
    finally:
        _GUARD.reset(token)


@contextmanager
def capture_request_ids() -> Iterator[list[str]]:
    """Collect the ``X-Request-Id`` of every answer received inside the block (this task only).

    The apply journal records which request carried each write; the client's methods return
    only the parsed body, so the ids travel through a context variable instead.
    """
    sink: list[str] = []
    token = _REQUEST_IDS.set(sink)
    try:
        yield sink
    finally:
        _REQUEST_IDS.reset(token)


class _Attempt:
    """The outcome of one failed attempt."""

    __slots__ = ("cause", "error", "failure", "retry_after")

    def __init__(
        self,
        failure: Failure,
        cause: str,
        error: ApiError | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.failure = failure
        self.cause = cause
        self.error = error
        self.retry_after = retry_after


class Executor:
    """Sends operations with pacing, signing and retries."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        limiter: RateLimiter,
        backoff: Backoff,
        max_attempts: int,
        user_agent: str,
        read_patience: float = 0.0,
        paces_writes: bool = False,
    ) -> None:
        """``paces_writes``: ``http``'s transport passes the pacer's write gate itself."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._read_patience = read_patience
        self._paces_writes = paces_writes
        self._http = http
        self._clock = clock
        self._limiter = limiter
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._user_agent = user_agent
        self.clock_offset = ClockOffset()

    async def call(
        self,
        op: Operation,
        *,
        endpoint: str,
        credentials: Credentials,
        path: str,
        query: QueryPairs = (),
        body: object = None,
    ) -> Any:
        """Run ``op`` until it succeeds, fails for good, or its outcome becomes unknown.

        Returns the parsed JSON body (``None`` for an empty one).
        """
        payload = jsonutil.dumps(body) if body is not None else None
        stats = self._limiter.stats_for(op.name)
        guard = _GUARD.get() if op.kind is not CallKind.READ else None
        first = self._clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            # Signed and built before the slot, so that the request leaves as the slot comes.
            request = self._prepare(op, endpoint, path, credentials, query, payload)
            await self._limiter.acquire(op.name)
            pacer = self._limiter.pacer(op.name)
            if self._paces_writes:
                request.extensions[PACER] = pacer
            if guard is not None:
                guard.before_attempt(attempt)
            sent = self._clock.monotonic()
            token = self._limiter.sent(op.name)
            try:
                outcome = await self._attempt(op, endpoint, path, request, guard)
            finally:
                self._limiter.observe(op.name, self._clock.monotonic() - sent, token)
            if guard is not None:
                refused = isinstance(outcome, _Attempt) and outcome.failure in REFUSALS
                guard.after_attempt(attempt, refused=refused)
            if not isinstance(outcome, _Attempt):
                self._limiter.succeeded(op.name)
                return outcome[0]
            if outcome.failure is Failure.THROTTLED:
                stats.throttled += 1
            patient = self._patient(op, outcome, first)
            self._raise_if_final(
                op, path, outcome, last=attempt >= self._max_attempts and not patient
            )
            self._limiter.failed(op.name, outcome.cause, sent)
            delay = self._backoff.delay(attempt, outcome.failure, outcome.retry_after)
            log.info(
                "retrying %s %s (attempt %d of %s) in %.2f s: %s",
                op.method,
                path,
                attempt + 1,
                self._max_attempts if attempt < self._max_attempts else "a read's patience",
                delay,
                outcome.cause,
            )
            stats.retries += 1
            stats.backoff_seconds += delay
            await self._clock.sleep(delay)

    def _patient(self, op: Operation, outcome: _Attempt, first: float) -> bool:
        """A read keeps retrying a transient failure past ``max_attempts`` until it has been
        failing for ``read_patience`` seconds: a plan that has read for hours must not die of
        one slow answer or a few minutes of trouble."""
        return (
            op.kind is CallKind.READ
            and outcome.failure is not Failure.CLIENT
            and self._clock.monotonic() - first < self._read_patience
        )

    @staticmethod
    def _raise_if_final(op: Operation, path: str, outcome: _Attempt, *, last: bool) -> None:
        """Raise unless the failure may be retried and attempts are left."""
        decision = decide(op.kind, outcome.failure)
        if decision is Decision.UNKNOWN:
            raise OutcomeUnknownError(op.method, path, outcome.cause)
        if decision is Decision.RAISE or last:
            if outcome.error is not None:
                raise outcome.error
            raise TransportError(op.method, path, f"{outcome.cause} (retries exhausted)")

    def _prepare(
        self,
        op: Operation,
        endpoint: str,
        path: str,
        credentials: Credentials,
        query: QueryPairs,
        payload: bytes | None,
    ) -> httpx.Request:
        url, signed = sign_for(
            op.method,
            endpoint,
            path,
            query=query,
            body=payload,
            credentials=credentials,
            now=self._clock.time(),
            user_agent=self._user_agent,
        )
        return self._http.build_request(op.method, url, headers=signed.headers, content=payload)

    async def _attempt(
        self,
        op: Operation,
        endpoint: str,
        path: str,
        request: httpx.Request,
        guard: AttemptGuard | None,
    ) -> tuple[Any] | _Attempt:
        if guard is not None:
            guard.before_write()
        began = self._clock.time()
        if PACER not in request.extensions:
            self._limiter.pacer(op.name).wrote()
        try:
            response = await self._http.send(request)
        except httpx.UnsupportedProtocol:
            raise ConfigError(
                f"unsupported endpoint URL {endpoint!r}: use http:// or https://"
            ) from None
        except httpx.TransportError as exc:
            detail = str(exc)
            cause = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            return _Attempt(classify_exception(exc), cause)
        # httpx binds the read body's stream to its response, a reference cycle: every answer
        # would be garbage only the cyclic collector frees, and at a page per customer the
        # pages that reach the old generation stay in memory until a full collection.
        response.stream = _READ
        self.clock_offset.observe(response.headers.get("date"), began, self._clock.time())
        status = response.status_code
        log.debug("%s %s -> %d", op.method, path, status)
        sink = _REQUEST_IDS.get()
        rid = request_id(response.headers)
        if sink is not None and rid:
            sink.append(rid)
        if 200 <= status < 300:
            return (self._success(op, path, response),)
        error = api_error(op.method, path, status, response.content, response.headers)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        cause = f"HTTP {status} {error.error_code}: {error.error_msg}"
        if error.request_id:
            cause += f" (request id {error.request_id})"
        return _Attempt(classify_status(status), cause, error, retry_after)

    def _success(self, op: Operation, path: str, response: httpx.Response) -> Any:
        content = response.content
        if not content.strip():
            return None
        rid = request_id(response.headers)
        try:
            data = jsonutil.loads(content)
        except ValueError:
            cause = f"HTTP {response.status_code} with a body that is not JSON"
            if op.kind is CallKind.MONEY:
                raise OutcomeUnknownError(op.method, path, cause) from None
            raise ApiError(
                method=op.method,
                path=path,
                status=response.status_code,
                error_code=str(response.status_code),
                error_msg="response body is not JSON",
                request_id=rid,
            ) from None
        error = body_error(
            op.method, path, response.status_code, data, request_id(response.headers, data)
        )
        if error is not None:
            raise error
        return data
