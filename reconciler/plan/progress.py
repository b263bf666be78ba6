"""Progress of long reads: what the reader (and export) has done, in counts and words.

A 100,000-customer plan reads for hours against the real API (one resource listing per customer
at 10 per second), so the plan says what it is doing at once and keeps a status line up to date:

    Reading live state for 100,000 customers, 500 resellers...
    reading: ━━━━━╸━━━━━━━━━━ ETA 2h29m · 12,300/100,000 customers, 9,800/100,000 resource…

and, when an endpoint is slow or failing, what the plan is waiting for (the read goes on retrying):

    reading: ... (ETA 2h29m); waiting on list_pay_per_use_customer_resources for 48s (retry 3:
    ReadTimeout: timed out waiting for the answer)

The reader updates :class:`ReadCounters`: the customers and resellers the manifests mention and
how many were found, then one :class:`Tally` per declared read (``reconciler/kinds/*/reads.py``)
under that read's own label, counting the objects it is made for and those it has read; a kind
with two listings per customer counts both, each under its name. A :class:`Progress` receives
the counters; this base class ignores them (not a terminal). The status line itself is drawn by
the render layer (:mod:`reconciler.render.progress`), only on a terminal.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

#: Seconds of real time between two redraws of the status line.
REDRAW_INTERVAL = 0.25


@dataclass
class Tally:
    """One declared read: the objects (customers or resellers) it is made for, those read."""

    label: str  #: the read's own words, plural: ``"resource lists"``
    subject: str  #: ``"customer"`` or ``"reseller"``
    total: int = 0
    done: int = 0

    def text(self) -> str:
        return f"{self.done:,}/{self.total:,} {self.label}"


@dataclass
class ReadCounters:
    """What the reader has done so far (the planner's totals are known up front)."""

    customers: int = 0  # customer references in the manifests
    customers_found: int = 0
    resellers: int = 0  # reseller references in the manifests
    resellers_found: int = 0
    #: declared read name -> its tally, in the order the reads were declared
    reads: dict[str, Tally] = field(default_factory=dict)
    calls: int = 0  # calls finished, every API
    eta_seconds: float | None = None  # at the API's own pace, from the calls still to make
    waiting: str | None = None  # a slow or failing endpoint the read is waiting for

    def expect(self, name: str, label: str, subject: str, count: int) -> None:
        """``count`` more objects for read ``name`` (labelled ``label``) to read."""
        self.reads.setdefault(name, Tally(label, subject)).total += count

    def drop(self, name: str, count: int = 1) -> None:
        """``count`` objects expected for ``name`` need no read after all (already read)."""
        self.reads[name].total -= count

    def done(self, name: str, count: int = 1) -> None:
        self.reads[name].done += count

    def left(self, subject: str | None = None) -> int:
        """Objects still to read, of every declared read (or of those about ``subject``)."""
        return sum(t.total - t.done for t in self.reads.values() if subject in (None, t.subject))

    def fraction(self) -> tuple[int, int]:
        """Objects found or read so far, and in all: customers, resellers, every read's."""
        done = self.customers_found + self.resellers_found
        total = self.customers + self.resellers
        for tally in self.reads.values():
            done, total = done + tally.done, total + tally.total
        return done, total

    def snapshot(self) -> ReadCounters:
        """A copy that later updates leave as it is."""
        return copy.deepcopy(self)


def duration(seconds: float) -> str:
    """``42s``, ``17m``, ``2h47m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def counts(c: ReadCounters) -> str:
    """``12,300/100,000 customers, 9,800/100,000 resource lists, 480/500 resellers, ...``: the
    customers found, their reads, the resellers found, theirs (each read under its label)."""
    parts = [f"{c.customers_found:,}/{c.customers:,} customers"]
    parts += [t.text() for t in c.reads.values() if t.subject == "customer" and t.total]
    if c.resellers:
        parts.append(f"{c.resellers_found:,}/{c.resellers:,} resellers")
    parts += [t.text() for t in c.reads.values() if t.subject != "customer" and t.total]
    return ", ".join(parts)


def status_text(c: ReadCounters) -> str:
    eta = f" (ETA {duration(c.eta_seconds)})" if c.eta_seconds is not None else ""
    waiting = f"; {c.waiting}" if c.waiting else ""
    return "reading: " + counts(c) + eta + waiting


class Progress:
    """Receives progress; this base class ignores it (not a terminal)."""

    #: Seconds between updates while no call finishes (a slow endpoint); None: no such updates.
    heartbeat: float | None = None

    def line(self, text: str) -> None:
        """A line that stays (e.g. what is about to happen)."""

    def update(self, counters: ReadCounters) -> None:
        """The counters moved; a display may redraw its status line."""

    def finish(self, text: str | None = None) -> None:
        """The read is over: clear the status line, optionally leaving ``text``."""
