"""The live account an export is written from, and its progress line.

Shared by the export driver (:mod:`reconciler.gitops.export_read`) and each kind's export (its
``export_read`` fills ``account.data[kind id]``, its ``export_render`` writes from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.emulator.clock import SystemClock
from reconciler.plan.eta import RateMeter, estimate_eta
from reconciler.plan.progress import Progress, ReadCounters

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner
    from reconciler.emulator.clock import Clock


@dataclass
class ExportAccount:
    """The live state an export is written from: the customers and resellers in its scope (the
    shared listings), and what each kind read for them (``data[kind id]``)."""

    partner_id: str
    endpoint: str
    agency_name: str | None
    customers: list[Customer] = field(default_factory=list)
    resellers: list[IndirectPartner] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Declared(Protocol):
    """A read a kind declares (:mod:`reconciler.kinds.reads`), as export counts it."""

    @property
    def name(self) -> str: ...
    @property
    def api(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def label(self) -> str: ...


class ExportProgress:
    """Export's progress on a terminal: the plan's status line, with an ETA from the rate each
    API is measured to answer at. A kind's export says which of its declared reads it makes for
    how many customers or resellers (:meth:`expect`) and reports each one done (:meth:`done`);
    the line counts each read under its own label, as the plan's does."""

    def __init__(self, client: BssClient, progress: Progress | None, clock: Clock | None) -> None:
        self.client = client
        self.progress = progress or Progress()
        self.clock = clock or SystemClock()
        self.counters = ReadCounters()
        self.meter = RateMeter()
        self._left: dict[str, int] = {}

    def expect(self, read: Declared, count: int) -> None:
        """``read`` is coming for ``count`` objects, one call of its API each (at least)."""
        self._left[read.api] = self._left.get(read.api, 0) + count
        self.counters.expect(read.name, read.label, read.subject, count)
        self.progress.update(self.counters)

    def done(self, read: Declared, count: int = 1) -> None:
        """``read`` is in for ``count`` objects."""
        c = self.counters
        c.calls += 1
        self._left[read.api] = self._left.get(read.api, 0) - count
        c.done(read.name, count)
        self.meter.record(read.api, self.clock.time())
        nominal = {a: self.client.rate_for(a) for a in self._left}
        c.eta_seconds = estimate_eta(self._left, self.meter.samples(), nominal)
        self.progress.update(c)
