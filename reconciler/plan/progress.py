"""Progress of long reads, for people watching a terminal.

A 100,000-customer plan reads for hours against the real API (one resource listing per customer
at 10 per second), so the plan says what it is doing at once and keeps a status line up to date:

    Reading live state for 100,000 customers, 500 resellers...
    reading: ━━━━━╸━━━━━━━━━━ ETA 2h29m · 12,300/100,000 customers, 9,800/100,000 resource…

and, when an endpoint is slow or failing, what the plan is waiting for (the read goes on retrying):

    reading: ... (ETA 2h29m); waiting on list_pay_per_use_customer_resources for 48s (retry 3:
    ReadTimeout: timed out waiting for the answer)

Only on a terminal: :func:`tty_progress` returns ``None`` for anything else (CI logs, files,
tests), and :class:`Progress` (the default) does nothing. The status line goes to stderr, so
``--format json`` on stdout stays clean. The reader updates :class:`ReadCounters`; the display
redraws at most every ``interval`` seconds of real time, however fast the counters move.

The line is drawn by rich (:func:`reconciler.render.terminal.status_line`): pip's progress bar,
coloured unless ``NO_COLOR``, cut to the terminal's width so that rewriting it in place (carriage
return, erase to the end of the line) never leaves wrapped rows behind. We keep the redraw
itself rather than rich's ``Live`` display: one line, no thread, no redirection of stdout, and
nothing drawn outside a terminal (bench/libraries.py has the comparison).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

from reconciler.render.escape import terminal

#: Seconds of real time between two redraws of the status line.
REDRAW_INTERVAL = 0.25


@dataclass
class ReadCounters:
    """What the reader has done so far (the planner's totals are known up front)."""

    customers: int = 0  # customers the manifests mention
    customers_found: int = 0
    resource_lists: int = 0  # customers whose resources are read
    resource_lists_done: int = 0
    resellers: int = 0
    resellers_found: int = 0
    quota_lists_done: int = 0
    calls: int = 0  # calls finished, every API
    eta_seconds: float | None = None  # at the API's own pace, from the calls still to make
    waiting: str | None = None  # a slow or failing endpoint the read is waiting for


def duration(seconds: float) -> str:
    """``42s``, ``17m``, ``2h47m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _counts(c: ReadCounters) -> str:
    parts = [f"{c.customers_found:,}/{c.customers:,} customers"]
    if c.resource_lists:
        parts.append(f"{c.resource_lists_done:,}/{c.resource_lists:,} resource lists")
    if c.resellers:
        parts.append(f"{c.quota_lists_done:,}/{c.resellers:,} resellers")
    return ", ".join(parts)


def status_text(c: ReadCounters) -> str:
    eta = f" (ETA {duration(c.eta_seconds)})" if c.eta_seconds is not None else ""
    waiting = f"; {c.waiting}" if c.waiting else ""
    return "reading: " + _counts(c) + eta + waiting


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


def _fraction(c: ReadCounters) -> tuple[int, int]:
    """Lists read so far and in all: customers, resource lists, reseller quotas."""
    done = c.customers_found + c.resource_lists_done + c.quota_lists_done
    return done, c.customers + c.resource_lists + c.resellers


class TtyProgress(Progress):
    """A status line on a terminal, rewritten in place (carriage return, erase to end)."""

    heartbeat = 1.0

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = REDRAW_INTERVAL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        from reconciler.render.terminal import console_for

        self._stream = stream
        self._console: Console = console_for(stream)
        self._interval = interval
        self._now = now
        self._drawn = float("-inf")
        self._dirty = False

    def line(self, text: str) -> None:
        self._clear()
        self._stream.write(terminal(text) + "\n")  # it may quote paths and names
        self._stream.flush()

    def update(self, counters: ReadCounters) -> None:
        now = self._now()
        if now - self._drawn < self._interval:
            return
        self._drawn = now
        from reconciler.render.terminal import status_line

        done, total = _fraction(counters)
        eta = counters.eta_seconds
        rest = (f"ETA {duration(eta)} · " if eta is not None else "") + _counts(counters)
        if counters.waiting:
            rest += f"; {counters.waiting}"
        self._stream.write("\r\x1b[K" + status_line(self._console, "reading:", done, total, rest))
        self._stream.flush()
        self._dirty = True

    def finish(self, text: str | None = None) -> None:
        self._clear()
        if text:
            self._stream.write(terminal(text) + "\n")
        self._stream.flush()

    def _clear(self) -> None:
        if self._dirty:
            self._stream.write("\r\x1b[K")
            self._dirty = False


def tty_progress(stream: TextIO) -> Progress | None:
    """A :class:`TtyProgress` on ``stream`` if it is a terminal, else ``None``."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        return None
    return TtyProgress(stream) if interactive else None
