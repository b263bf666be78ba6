"""The status line of long reads on a terminal, drawn from the reader's counters
(:class:`reconciler.plan.progress.ReadCounters`).

Only on a terminal: :func:`tty_progress` returns ``None`` for anything else (CI logs, files,
tests), and the plan's :class:`~reconciler.plan.progress.Progress` (the default) does nothing.
The status line goes to stderr, so ``--format json`` on stdout stays clean, and is redrawn at
most every ``interval`` seconds of real time, however fast the counters move.

The line is drawn by rich (:func:`reconciler.render.terminal.status_line`): pip's progress bar,
coloured unless ``NO_COLOR``, cut to the terminal's width so that rewriting it in place (carriage
return, erase to the end of the line) never leaves wrapped rows behind. We keep the redraw
itself rather than rich's ``Live`` display: one line, no thread, no redirection of stdout, and
nothing drawn outside a terminal (bench/libraries.py has the comparison).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from reconciler.plan.progress import REDRAW_INTERVAL, Progress, ReadCounters, counts, duration
from reconciler.render.escape import terminal

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["TtyProgress", "tty_progress"]


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
        from reconciler.render.terminal import console_for  # rich: only on a terminal

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

        done, total = counters.fraction()
        eta = counters.eta_seconds
        rest = (f"ETA {duration(eta)} · " if eta is not None else "") + counts(counters)
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
