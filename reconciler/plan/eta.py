"""How long a read still takes, from the rate each API is *measured* to answer at.

A 600-customer plan once showed "ETA 56s" and took 7 m 35 s: the estimate divided the calls left
by the rate the client is *allowed* (10 per second), while the API answered far slower. The
estimate here divides by what was measured instead:

* per API, the completion times of its recent calls (a :class:`RateMeter` keeps the last
  :data:`SAMPLES`) give its rate: ``(n - 1) / (newest - oldest)`` over the last
  :data:`WINDOW` seconds of samples, never above the nominal rate (short bursts after a pause
  are not a rate);
* the APIs run concurrently, so the time left is that of the slowest: the maximum over the
  APIs with calls left of ``calls left / rate``;
* no estimate (``None``) while an API with :data:`MIN_SAMPLES` or more calls left has fewer
  samples than that, or they span less than :data:`MIN_SPAN` seconds: no number is better than
  a wrong one (an API with only a few calls left counts at its nominal rate).

:func:`estimate_eta` is pure: the same samples give the same answer, which is how it is tested.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

#: Completion times kept per API.
SAMPLES = 256
#: Only samples this recent (seconds before the newest) count towards the rate.
WINDOW = 60.0
#: Fewer samples than this, or a shorter span, give no estimate yet.
MIN_SAMPLES = 5
MIN_SPAN = 1.0


class RateMeter:
    """The completion times of each API's recent calls."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    def record(self, api: str, when: float) -> None:
        times = self._times.get(api)
        if times is None:
            times = self._times[api] = deque(maxlen=SAMPLES)
        times.append(when)

    def samples(self) -> dict[str, Sequence[float]]:
        return {api: tuple(times) for api, times in self._times.items()}


def measured_rate(times: Sequence[float], nominal: float | None = None) -> float | None:
    """Calls per second over the recent ``times`` (ascending), or ``None`` if too few."""
    if not times:
        return None
    newest = times[-1]
    recent = [t for t in times if t >= newest - WINDOW]
    span = recent[-1] - recent[0]
    if len(recent) < MIN_SAMPLES or span < MIN_SPAN:
        return None
    rate = (len(recent) - 1) / span
    return min(rate, nominal) if nominal else rate


def estimate_eta(
    remaining: Mapping[str, int],
    samples: Mapping[str, Sequence[float]],
    nominal: Mapping[str, float] | None = None,
) -> float | None:
    """Seconds until every API has made its ``remaining`` calls, at its measured rate."""
    nominal = nominal or {}
    etas = []
    for api, left in remaining.items():
        if left <= 0:
            continue
        rate = measured_rate(samples.get(api, ()), nominal.get(api))
        if rate is None and left < MIN_SAMPLES and nominal.get(api):
            rate = nominal[api]  # a handful of calls: their share of the time is small
        if rate is None or rate <= 0:
            return None
        etas.append(left / rate)
    return max(etas) if etas else None
