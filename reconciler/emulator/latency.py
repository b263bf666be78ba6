"""Response latency: log-normal, or fixed per operation; deterministic from a seed."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

_Z99 = NormalDist().inv_cdf(0.99)


@dataclass(frozen=True)
class LatencyModel:
    """How long each answer takes on the emulator clock.

    ``median`` and ``p99`` (seconds) define a log-normal distribution; ``fixed`` gives exact
    seconds per operation name and overrides it. ``LatencyModel.constant(0.2)`` is 200 ms always.
    """

    median: float = 0.12
    p99: float = 1.5
    fixed: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def constant(cls, seconds: float) -> LatencyModel:
        return cls(median=seconds, p99=seconds)

    def sample(self, operation: str, rng_seed: int, sequence: int) -> float:
        """The latency of call number ``sequence``: the same inputs always give the same value."""
        if operation in self.fixed:
            return max(0.0, self.fixed[operation])
        if self.median <= 0:
            return 0.0
        if self.p99 <= self.median:
            return self.median
        digest = hashlib.sha256(f"{rng_seed}:{sequence}".encode()).digest()
        uniform = (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64
        sigma = math.log(self.p99 / self.median) / _Z99
        return self.median * math.exp(sigma * NormalDist().inv_cdf(uniform))
