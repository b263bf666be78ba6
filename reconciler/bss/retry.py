"""What may be retried, and how long to wait before the next attempt.

The decision table (REFERENCE §9, research notes §B4):

=================  =========  ==========================  ===============================
failure            READ       SET_STATE (idempotent)      MONEY (non-idempotent write)
=================  =========  ==========================  ===============================
429 throttled      retry      retry                       retry (rejected before execution)
not sent           retry      retry                       retry (ConnectError, ConnectTimeout,
                                                          PoolTimeout: nothing left the client)
lost after send    retry      retry                       OutcomeUnknownError, never retried
5xx                retry      retry                       OutcomeUnknownError, never retried
other 4xx          raise      raise                       raise
=================  =========  ==========================  ===============================

"Lost after send" is a read/write timeout, a read/write error, a broken HTTP exchange or any other
transport failure that may have happened after bytes reached the server.

Writes get ``max_attempts`` attempts. A read retries any failure but a 4xx past ``max_attempts``
too, until it has been failing for the client's ``read_patience`` (10 minutes by default), with
the same capped backoff: reads are safe, and a plan that has read for hours must not die of one
slow answer.

Backoff is capped exponential with full jitter from a seeded :class:`random.Random`; throttling
starts from a larger base, following Huawei's advice to wait a few seconds after ``APIG.0308``.

Why not tenacity or stamina (``bench/libraries.py``, docs/architecture.md): the table above is
the domain and stays ours whatever runs the loop. With our :class:`Backoff` as its wait, tenacity
behaves identically on the whole retry corpus, at 1.2 to 1.5 times our CPU per call and in as
many lines, so it would add a dependency and remove nothing. With their own waits, tenacity and
stamina draw from the global :mod:`random` (a seeded client no longer replays: 49 of 176
scenarios waited the same), and neither knows ``Retry-After`` or a larger base for throttling.
"""

from __future__ import annotations

import enum
import random

import httpx

from .operations import CallKind


class Failure(enum.Enum):
    THROTTLED = "throttled"
    NOT_SENT = "not sent"
    LOST = "lost after send"
    SERVER = "server error"
    CLIENT = "client error"


class Decision(enum.Enum):
    RETRY = "retry"
    RAISE = "raise"
    UNKNOWN = "outcome unknown"


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify_exception(exc: httpx.TransportError) -> Failure:
    """Whether a transport error happened before anything was sent."""
    return Failure.NOT_SENT if isinstance(exc, _NOT_SENT) else Failure.LOST


def classify_status(status: int) -> Failure:
    if status == 429:
        return Failure.THROTTLED
    if status >= 500:
        return Failure.SERVER
    return Failure.CLIENT


def decide(kind: CallKind, failure: Failure) -> Decision:
    """The decision table above."""
    if failure is Failure.CLIENT:
        return Decision.RAISE
    if failure in (Failure.THROTTLED, Failure.NOT_SENT):
        return Decision.RETRY
    return Decision.UNKNOWN if kind is CallKind.MONEY else Decision.RETRY


class Backoff:
    """Full-jitter delays: ``uniform(0, min(cap, base * 2**(retry-1)))``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        base: float = 0.5,
        throttled_base: float = 2.0,
        cap: float = 20.0,
    ) -> None:
        self._rng = rng
        self.base = base
        self.throttled_base = throttled_base
        self.cap = cap

    def delay(self, retry: int, failure: Failure, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        base = self.throttled_base if failure is Failure.THROTTLED else self.base
        ceiling = min(self.cap, base * 2 ** (retry - 1))
        wait = self._rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """A numeric ``Retry-After`` header in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
