"""How far the API's clock is from ours, from the ``Date`` header of its answers.

The API stamps its records (``operation_time``) with its own clock, whole seconds. To look for
the record of a call "since it was sent", apply needs our send time on the API's clock. Each
answer's ``Date`` (whole seconds, RFC 7231) bounds the offset ``api - ours``: the API wrote it
between our send and our receipt, so ``date - received <= offset < date + 1 - sent``. The
tightest bounds over all answers are kept. Offsets beyond the signature's 15 minutes are
ignored: the gateway would refuse our requests, so such a ``Date`` (a proxy's, a test server on
another clock) cannot be the API's.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

#: The gateway refuses requests signed more than this far from its clock (REFERENCE §2.2).
MAX_OFFSET = 15 * 60.0


class ClockOffset:
    """Bounds on ``api clock - our clock`` in seconds, or ``None`` before a usable answer."""

    def __init__(self) -> None:
        self.low: float | None = None
        self.high: float | None = None

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        if not date_header:
            return
        try:
            api = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        low, high = api - received, api + 1.0 - sent
        if abs(low) > MAX_OFFSET or abs(high) > MAX_OFFSET:
            return
        self.low = low if self.low is None else max(self.low, low)
        self.high = high if self.high is None else min(self.high, high)
        if self.low > self.high:  # the API's clock jumped: start again from this answer
            self.low, self.high = low, high

    def bounds(self) -> tuple[float, float] | None:
        if self.low is None or self.high is None:
            return None
        return self.low, self.high
